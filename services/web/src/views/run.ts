import { RunStatus, type Run, type SideSummary, type Summary } from "@gen/kalla/v1/run_pb";
import { explain, isPermanent, type Api } from "../api";
import { h, replace } from "../dom";
import { barWidth, count, duration, isActive, matchRate, runDuration, when } from "../format";
import { table } from "./paged";
import { resultsView } from "./results";
import { statusBadge } from "./runs";

/** How long to wait before watching again after the stream broke. */
const rewatchMs = 2000;

/**
 * runView shows one run: live progress while it runs (WatchRun), then its
 * summary, evidence downloads and results. It returns its cleanup.
 */
export function runView(api: Api, root: HTMLElement, runId: string): () => void {
  const abort = new AbortController();
  const head = h("div", { id: "run-head" });
  const live = h("div", { id: "run-live", "aria-live": "polite" });
  const results = h("div", { id: "run-results" });
  replace(root, h("h1", {}, "Run ", h("code", {}, runId)), head, live, results);

  let shownResults = false;
  // One Cancel button for the page's life, so a progress update does not
  // re-enable it while a cancel is on its way.
  const cancel = cancelButton(api, runId);
  const show = (run: Run) => {
    renderHead(head, run);
    renderLive(live, run, cancel);
    if (run.status === RunStatus.COMPLETED && run.summary && !shownResults) {
      shownResults = true;
      replace(results, resultsView(api, run.runId, run.summary, abort.signal));
    }
  };

  const watch = async () => {
    while (!abort.signal.aborted) {
      try {
        let last: Run | undefined;
        for await (const res of api.runs.watchRun({ runId }, { signal: abort.signal })) {
          if (res.run) show((last = res.run));
        }
        if (last && !isActive(last.status)) return; // the stream ends when the run does
      } catch (err) {
        if (abort.signal.aborted) return;
        replace(live, h("p", { class: "error", role: "alert" }, explain(err)));
        if (isPermanent(err)) return;
      }
      await sleep(rewatchMs, abort.signal);
    }
  };
  void watch();
  return () => abort.abort();
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
  });
}

function renderHead(el: HTMLElement, run: Run): void {
  replace(
    el,
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "Status"),
      h("dd", { id: "run-status" }, statusBadge(run.status)),
      h("dt", {}, "Recipe"),
      h("dd", {}, run.recipeId),
      h("dt", {}, "Started"),
      h("dd", {}, when(run.createdAt)),
      h("dt", {}, "Duration"),
      h("dd", {}, runDuration(run)),
    ),
  );
}

function renderLive(el: HTMLElement, run: Run, cancel: HTMLElement): void {
  if (isActive(run.status)) {
    replace(el, progress(run), cancel);
    return;
  }
  switch (run.status) {
    case RunStatus.FAILED:
      replace(
        el,
        h(
          "section",
          { id: "run-error", role: "alert" },
          h("h2", {}, "The run failed"),
          h("p", {}, run.error),
          run.badInput && h("p", { id: "run-bad-input" }, "The recipe or its data is at fault: running it again as it is will not help."),
        ),
      );
      return;
    case RunStatus.CANCELLED:
      replace(el, h("section", { id: "run-error" }, h("h2", {}, "The run was cancelled"), run.error && h("p", {}, run.error)));
      return;
  }
  replace(el, run.summary ? summary(run.summary) : h("p", {}, "No summary."));
}

function progress(run: Run): HTMLElement {
  const p = run.progress;
  const staged = p?.chunksStaged ?? 0;
  const total = p?.chunksTotal ?? 0;
  return h(
    "section",
    { id: "run-progress" },
    h("h2", {}, "Progress"),
    h("p", {}, "Phase: ", h("strong", { id: "run-phase" }, p?.phase || "waiting")),
    total > 0 &&
      h(
        "p",
        {},
        h("label", { for: "chunks" }, `Chunks staged: ${staged} of ${total} `),
        h("progress", { id: "chunks", max: total, value: staged }),
      ),
    h("p", {}, "Rows staged: ", count(p?.rowsStaged ?? 0n)),
  );
}

function cancelButton(api: Api, runId: string): HTMLElement {
  const msg = h("span", { role: "status" });
  const button = h(
    "button",
    {
      type: "button",
      id: "cancel-run",
      onclick: async () => {
        button.disabled = true;
        try {
          await api.runs.cancelRun({ runId });
          replace(msg, " Cancelling…");
        } catch (err) {
          button.disabled = false;
          replace(msg, " ", explain(err));
        }
      },
    },
    "Cancel run",
  );
  return h("p", {}, button, msg);
}

/** summary is the completed run's figures; cells carry data-field for tests and scripts. */
export function summary(s: Summary): HTMLElement {
  const left = s.left;
  const right = s.right;
  const cell = (field: string, v: string) => h("td", { class: "num", "data-field": field }, v);
  const row = (name: string, field: string, l: string, r: string) =>
    h("tr", {}, h("th", { scope: "row" }, name), cell(`left-${field}`, l), cell(`right-${field}`, r));
  return h(
    "section",
    { id: "summary" },
    h("h2", {}, "Summary"),
    table(
      "Records per side",
      ["", left?.alias || "left", right?.alias || "right"],
      [
        row("Rows", "rows", count(left?.rows ?? 0n), count(right?.rows ?? 0n)),
        row("Matched", "matched", count(left?.matched ?? 0n), count(right?.matched ?? 0n)),
        row("Unmatched", "unmatched", count(left?.unmatched ?? 0n), count(right?.unmatched ?? 0n)),
        row("Match rate", "rate", matchRate(left), matchRate(right)),
        ...((left?.filteredOut ?? 0n) + (right?.filteredOut ?? 0n) > 0n
          ? [row("Filtered out", "filtered-out", count(left?.filteredOut ?? 0n), count(right?.filteredOut ?? 0n))]
          : []),
      ],
      "sides",
    ),
    h("p", {}, "Match groups: ", h("strong", { "data-field": "match-groups" }, count(s.matchGroups))),
    rules(s),
    files(s),
    sheets(s),
    totals(s),
    ruleTotals(s),
    timings(s),
  );
}

/** bySide lists the items pick gives of each side, the left's first, with the side's alias. */
function bySide<T>(s: Summary, pick: (side: SideSummary) => T[]): { side: string; item: T }[] {
  return [s.left, s.right].flatMap((x, i) => (x ? pick(x).map((item) => ({ side: x.alias || ["left", "right"][i], item })) : []));
}

/** files lists the files of the sources a pattern named, in the order read. */
function files(s: Summary): HTMLElement | null {
  const lines = bySide(s, (x) => x.files);
  if (lines.length === 0) return null;
  return table(
    "Files read: those the sources' patterns named, in order, with the records each held.",
    ["Side", "File", "Records"],
    lines.map(({ side, item: f }) =>
      h(
        "tr",
        { "data-file": `${side}/${f.name}` },
        h("td", {}, side),
        h("th", { scope: "row" }, f.name),
        h("td", { class: "num", "data-field": "rows" }, count(f.rows)),
      ),
    ),
    "files",
  );
}

/** sheets names the sheet read of each side that is an Excel workbook. */
function sheets(s: Summary): HTMLElement | null {
  const read = bySide(s, (x) => (x.sheet ? [x.sheet] : []));
  if (read.length === 0) return null;
  return h(
    "p",
    { id: "sheets" },
    "Sheets read: ",
    ...read.flatMap(({ side, item }, i) => [i > 0 ? "; " : "", `${side}: `, h("strong", { "data-sheet": side }, item)]),
  );
}

/** totalName is a total as the terminal table names it: "amount", "amount, currency EUR". */
function totalName(t: { column: string; by: string; value?: string }): string {
  return t.by === "" ? t.column : `${t.column}, ${t.by} ${totalValue(t.value)}`;
}

/**
 * totalValue shows a by column's value as the terminal table does: "(empty)"
 * for none, quoted when it could be mistaken for another (" EUR", "(empty)").
 */
export function totalValue(v: string | undefined): string {
  if (v === undefined) return "(empty)";
  return v === "" || v === "(empty)" || v.trim() !== v || /\p{Cc}/u.test(v) ? JSON.stringify(v) : v;
}

/** ruleTotals lists the sums over the records each rule matched, a row per rule, side, total and value. */
function ruleTotals(s: Summary): HTMLElement | null {
  const rows = s.rules.flatMap((r) =>
    r.totals.map((t) => {
      const name = totalName(t);
      return h(
        "tr",
        { "data-total": `${r.name}/${t.side}/${name}` },
        h("th", { scope: "row" }, r.name),
        h("td", {}, t.side),
        h("td", {}, name),
        h("td", { class: "num", "data-field": "records" }, count(t.records)),
        h("td", { class: "num", "data-field": "total" }, t.total),
      );
    }),
  );
  if (rows.length === 0) return null;
  return table("Matched per rule: the totals over the records each rule matched.", ["Rule", "Side", "Total", "Records", "Sum"], rows, "rule-totals");
}

/** totals lists the sums the recipe asks for, a row per total and value of its by column. */
function totals(s: Summary): HTMLElement | null {
  const lines = bySide(s, (x) => x.totals);
  if (lines.length === 0) return null;
  return table(
    "Totals: sums as the sources write them, over all, matched and unmatched records.",
    ["Side", "Total", "Records", "Empty", "Sum", "Matched", "Unmatched"],
    lines.map(({ side, item: t }) =>
      h(
        "tr",
        { "data-total": `${side}/${totalName(t)}` },
        h("td", {}, side),
        h("th", { scope: "row" }, totalName(t)),
        h("td", { class: "num", "data-field": "records" }, count(t.records)),
        h("td", { class: "num", "data-field": "empty" }, count(t.empty)),
        h("td", { class: "num", "data-field": "total" }, t.total),
        h("td", { class: "num", "data-field": "matched" }, t.matched),
        h("td", { class: "num", "data-field": "unmatched" }, t.unmatched),
      ),
    ),
    "totals",
  );
}

function rules(s: Summary): HTMLElement {
  const leftRows = s.left?.rows ?? 0n;
  return table(
    "Per rule, in priority order. The bar is the share of the left side each rule matched.",
    ["Rule", "Pattern", "Groups", "Left matched", "Right matched", "Share of left"],
    s.rules.map((r) =>
      h(
        "tr",
        { "data-rule": r.name },
        h("th", { scope: "row" }, r.name),
        h("td", {}, r.pattern),
        h("td", { class: "num", "data-field": "groups" }, count(r.groups)),
        h("td", { class: "num", "data-field": "left-matched" }, count(r.leftMatched)),
        h("td", { class: "num", "data-field": "right-matched" }, count(r.rightMatched)),
        h(
          "td",
          {},
          h("span", { class: "bar", "aria-hidden": "true" }, h("span", { style: `width: ${barWidth(r.leftMatched, leftRows)}` })),
          " ",
          barWidth(r.leftMatched, leftRows),
        ),
      ),
    ),
    "rules",
  );
}

function timings(s: Summary): HTMLElement {
  const t = s.timingsMs;
  if (!t) return h("p", {}, "No timings.");
  const n = (v: bigint) => duration(Number(v));
  return h(
    "p",
    { class: "timings" },
    `Timings: load ${n(t.load)}, match ${n(t.match)}, write ${n(t.write)}, total ${n(t.total)} (engine ${s.engine || "unknown"}).`,
  );
}
