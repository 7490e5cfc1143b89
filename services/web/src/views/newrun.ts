import { ConnectError } from "@connectrpc/connect";
import { FieldErrorSchema, type FieldError } from "@gen/kalla/v1/recipe_service_pb";
import { explain, type Api } from "../api";
import { h, replace } from "../dom";

/**
 * newRunView takes a recipe (pasted or uploaded, JSON or YAML), validates
 * and explains it, and starts a run with it.
 */
export function newRunView(api: Api, root: HTMLElement, go: (hash: string) => void): () => void {
  const text = h("textarea", { id: "recipe", name: "recipe", rows: 22, cols: 80, spellcheck: "false" });
  const file = h("input", {
    type: "file",
    id: "recipe-file",
    accept: ".json,.yaml,.yml,application/json,application/yaml",
    onchange: async () => {
      const f = file.files?.[0];
      if (f) text.value = await f.text();
    },
  });
  const out = h("div", { id: "recipe-output", "aria-live": "polite" });
  const busy = (b: boolean) => form.querySelectorAll("button").forEach((x) => (x.disabled = b));

  const act = (fn: (recipe: string) => Promise<void>) => async () => {
    busy(true);
    try {
      await fn(text.value);
    } catch (err) {
      replace(out, problems(text, explain(err), ConnectError.from(err).findDetails(FieldErrorSchema)));
    } finally {
      busy(false);
    }
  };
  const validate = act(async (recipe) => {
    const res = await api.recipes.validateRecipe({ recipe, checkSources: true });
    replace(
      out,
      res.valid
        ? h("p", { id: "recipe-valid", role: "status" }, "The recipe is valid and its sources can be read.")
        : problems(text, "The recipe has mistakes:", res.errors),
    );
  });
  const explainRecipe = act(async (recipe) => {
    const res = await api.recipes.explainRecipe({ recipe });
    replace(
      out,
      h("h2", {}, "What the engine will run"),
      res.rules.map((r) => h("section", {}, h("h3", {}, `Rule ${r.rule}`), h("pre", {}, h("code", {}, r.sql)))),
      h("details", {}, h("summary", {}, "The whole statement list"), h("pre", {}, h("code", {}, res.sql))),
    );
  });
  const start = act(async (recipe) => {
    const res = await api.runs.createRun({ recipe });
    go(`#/run/${res.runId}`);
  });

  const form = h(
    "form",
    { onsubmit: (e: Event) => (e.preventDefault(), void start()) },
    h("p", {}, h("label", { for: "recipe" }, "Recipe (JSON or YAML)")),
    text,
    h("p", {}, h("label", { for: "recipe-file" }, "or upload a file "), file),
    h(
      "p",
      { class: "actions" },
      h("button", { type: "button", id: "validate", onclick: () => void validate() }, "Validate"),
      " ",
      h("button", { type: "button", id: "explain", onclick: () => void explainRecipe() }, "Explain"),
      " ",
      h("button", { type: "submit", id: "start" }, "Start run"),
    ),
  );
  replace(root, h("h1", {}, "New run"), form, out);
  return () => {};
}

/**
 * problems lists each mistake against its field; choosing one puts the
 * cursor at its line and column in the recipe.
 */
export function problems(text: HTMLTextAreaElement, message: string, errors: FieldError[]): HTMLElement {
  return h(
    "div",
    { class: "error", role: "alert" },
    h("p", {}, errors.length > 0 ? "The recipe has mistakes:" : message),
    errors.length > 0 &&
      h(
        "ul",
        { id: "recipe-errors" },
        errors.map((e) =>
          h(
            "li",
            {},
            h("code", {}, e.field || "recipe"),
            e.line > 0 &&
              h("button", { type: "button", class: "link", onclick: () => focusAt(text, e.line, e.column) }, ` line ${e.line}, column ${e.column}`),
            `: ${e.message}`,
          ),
        ),
      ),
  );
}

function focusAt(text: HTMLTextAreaElement, line: number, column: number): void {
  const lines = text.value.split("\n");
  let pos = 0;
  for (let i = 0; i < line - 1 && i < lines.length; i++) pos += lines[i].length + 1;
  pos += Math.max(0, column - 1);
  text.focus();
  text.setSelectionRange(pos, pos);
}
