import { explain } from "../api";
import { h, replace } from "../dom";

/** A page of items and the token of the next one ("" when it is the last). */
export interface Page<T> {
  items: T[];
  next: string;
}

/**
 * paged shows one page of a list at a time, with Previous and Next
 * buttons; it remembers the tokens it was given so Previous works.
 * reload starts again from the first page (after a new search); refresh
 * asks for the page on show again.
 */
export function paged<T>(
  label: string,
  fetch: (token: string) => Promise<Page<T>>,
  render: (items: T[]) => HTMLElement,
): { el: HTMLElement; reload: () => void; refresh: () => void } {
  const el = h("div", { class: "paged", "aria-live": "polite" });
  let tokens = [""];
  let current = 0;
  let seq = 0; // answers to superseded requests are dropped
  const load = async (page: number) => {
    const mine = ++seq;
    current = page;
    el.setAttribute("aria-busy", "true");
    try {
      const res = await fetch(tokens[page]);
      if (mine !== seq) return;
      tokens[page + 1] = res.next;
      const pager = h(
        "nav",
        { class: "pager", "aria-label": `${label}: pages` },
        h("button", { type: "button", disabled: page === 0, onclick: () => void load(page - 1) }, "Previous page"),
        h("span", {}, ` Page ${page + 1} `),
        h("button", { type: "button", disabled: res.next === "", onclick: () => void load(page + 1) }, "Next page"),
      );
      replace(el, render(res.items), pager);
    } catch (err) {
      if (mine === seq) replace(el, h("p", { class: "error", role: "alert" }, explain(err)));
    } finally {
      if (mine === seq) el.setAttribute("aria-busy", "false");
    }
  };
  const reload = () => {
    tokens = [""];
    void load(0);
  };
  reload();
  return { el, reload, refresh: () => void load(current) };
}

/** table builds a plain table with a caption and column headers. */
export function table(caption: string, columns: string[], rows: HTMLTableRowElement[], className = ""): HTMLElement {
  return h(
    "table",
    { class: className },
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, rows),
  );
}
