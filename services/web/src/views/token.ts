import { token } from "../api";
import { h, replace } from "../dom";

/**
 * tokenForm lets the reader enter the API's bearer token once; it is kept
 * in sessionStorage, so it is gone when the browser session ends.
 */
export function tokenForm(el: HTMLElement, changed: () => void): void {
  const input = h("input", { type: "password", id: "api-token", name: "token", autocomplete: "off", size: 18 });
  const render = () =>
    replace(
      el,
      h(
        "form",
        {
          onsubmit: (e: Event) => {
            e.preventDefault();
            token.set(input.value.trim());
            input.value = "";
            render();
            changed();
          },
        },
        h("label", { for: "api-token" }, token.get() ? "Token set; replace " : "API token "),
        input,
        " ",
        h("button", { type: "submit" }, "Use"),
        token.get() &&
          h(
            "button",
            {
              type: "button",
              onclick: () => {
                token.set("");
                render();
                changed();
              },
            },
            "Forget",
          ),
      ),
    );
  render();
}
