import { RunStatus, type Run } from "@gen/kalla/v1/run_pb";
import type { Api } from "../api";
import { h, replace } from "../dom";
import { filterStatuses, matchRate, runDuration, statusName, when } from "../format";
import { paged, table } from "./paged";

const pageSize = 20;

/**
 * runsView lists runs newest first, filtered by status, a page at a time,
 * refreshed every refreshMs while one of them is active. The filter lives
 * in the URL (#/?status=failed) so it survives a reload.
 */
export function runsView(api: Api, root: HTMLElement, params: URLSearchParams, refreshMs = 5000): () => void {
  const status = statusFromParam(params.get("status"));
  const filter = h(
    "select",
    {
      id: "status-filter",
      onchange: (e: Event) => {
        const v = (e.target as HTMLSelectElement).value;
        window.location.hash = v ? `#/?status=${v}` : "#/";
      },
    },
    h("option", { value: "" }, "All statuses"),
    filterStatuses.map((s) => h("option", { value: statusName(s) }, statusName(s))),
  );
  filter.value = status === RunStatus.UNSPECIFIED ? "" : statusName(status);
  const abort = new AbortController();
  const list = paged(
    "Runs",
    async (pageToken) => {
      const res = await api.runs.listRuns({ pageSize, pageToken, status }, { signal: abort.signal });
      return { items: res.runs, next: res.nextPageToken };
    },
    runsTable,
  );

  replace(
    root,
    h("h1", {}, "Runs"),
    h(
      "p",
      {},
      h("label", { for: "status-filter" }, "Status "),
      filter,
      " ",
      h("button", { type: "button", id: "refresh", onclick: list.reload }, "Refresh"),
    ),
    list.el,
  );
  // While a listed run is still going, its row is asked for again.
  const timer = setInterval(() => {
    if (list.el.querySelector(".status-queued, .status-staging, .status-executing")) list.refresh();
  }, refreshMs);
  return () => {
    clearInterval(timer);
    abort.abort();
  };
}

function statusFromParam(p: string | null): RunStatus {
  return filterStatuses.find((s) => statusName(s) === p) ?? RunStatus.UNSPECIFIED;
}

function runsTable(runs: Run[]): HTMLElement {
  if (runs.length === 0) return h("p", {}, "No runs yet. Start one from ", h("a", { href: "#/new" }, "New run"), ".");
  return table(
    "Runs, newest first. Match rate is the matched share of each side.",
    ["Run", "Status", "Recipe", "Started", "Duration", "Left matched", "Right matched"],
    runs.map((r) =>
      h(
        "tr",
        { "data-run": r.runId },
        h("td", {}, h("a", { href: `#/run/${r.runId}` }, r.runId)),
        h("td", {}, statusBadge(r.status)),
        h("td", {}, r.recipeId),
        h("td", {}, when(r.createdAt)),
        h("td", { class: "num" }, runDuration(r)),
        h("td", { class: "num" }, matchRate(r.summary?.left)),
        h("td", { class: "num" }, matchRate(r.summary?.right)),
      ),
    ),
    "runs",
  );
}

export function statusBadge(s: RunStatus): HTMLElement {
  return h("span", { class: `status status-${statusName(s)}` }, statusName(s));
}
