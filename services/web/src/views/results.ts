import { Side } from "@gen/kalla/v1/job_pb";
import type { MatchMember, Summary, UnmatchedRecord } from "@gen/kalla/v1/run_pb";
import { explain, type Api } from "../api";
import { h, replace } from "../dom";
import { nearMiss, sideName } from "../format";
import { paged, table } from "./paged";

const pageSize = 25;

/**
 * resultsView is a completed run's evidence: download links, the matches
 * and the unmatched records of each side, each searchable by key.
 */
export function resultsView(api: Api, runId: string, s: Summary, signal: AbortSignal): HTMLElement {
  return h(
    "section",
    { id: "results" },
    h("h2", {}, "Results"),
    downloads(api, runId, signal),
    searchable("matches", "Matches", (key) => matches(api, runId, key, signal)),
    searchable("unmatched-left", `Unmatched ${s.left?.alias || "left"}`, (key) =>
      unmatched(api, runId, Side.LEFT, key, signal),
    ),
    searchable("unmatched-right", `Unmatched ${s.right?.alias || "right"}`, (key) =>
      unmatched(api, runId, Side.RIGHT, key, signal),
    ),
  );
}

/** searchable is a titled list with a key search box above it. */
function searchable(id: string, title: string, list: (key: string) => HTMLElement): HTMLElement {
  const box = h("input", { type: "search", id: `${id}-key`, name: "key", placeholder: "part of a key" });
  const holder = h("div", {}, list(""));
  const form = h(
    "form",
    {
      role: "search",
      onsubmit: (e: Event) => {
        e.preventDefault();
        replace(holder, list(box.value.trim()));
      },
    },
    h("label", { for: `${id}-key` }, "Search by key "),
    box,
    " ",
    h("button", { type: "submit" }, "Search"),
  );
  return h("section", { id, class: "result-list" }, h("h3", {}, title), form, holder);
}

function downloads(api: Api, runId: string, signal: AbortSignal): HTMLElement {
  const el = h("p", { id: "downloads" }, "Evidence files: loading…");
  api.runs
    .getEvidenceLinks({ runId }, { signal })
    .then((res) =>
      replace(
        el,
        "Evidence files: ",
        ...res.links.flatMap((l, i) => [
          i > 0 ? ", " : "",
          h("a", { href: new URL(l.url, api.baseUrl).href, download: l.name }, l.name),
        ]),
        " (links valid for 15 minutes).",
      ),
    )
    .catch((err) => signal.aborted || replace(el, h("span", { class: "error" }, explain(err))));
  return el;
}

function matches(api: Api, runId: string, key: string, signal: AbortSignal): HTMLElement {
  return paged(
    "Matches",
    async (pageToken) => {
      const res = await api.runs.listMatches({ runId, pageSize, pageToken, key }, { signal });
      return { items: res.members, next: res.nextPageToken };
    },
    (members: MatchMember[]) =>
      members.length === 0
        ? h("p", {}, key ? `No match has a key containing “${key}”.` : "No matches.")
        : table(
            "Members of each match group; deltas are left minus right per condition.",
            ["Group", "Rule", "Pattern", "Side", "Key", "Deltas"],
            members.map((m) =>
              h(
                "tr",
                {},
                h("td", { class: "num" }, String(m.matchId)),
                h("td", {}, m.rule),
                h("td", {}, m.pattern),
                h("td", {}, sideName(m.side)),
                h(
                  "td",
                  {},
                  h("code", {}, m.key),
                  // A source without a key read from several files: where the record is.
                  m.file ? [h("span", { class: "file" }, ` (record ${m.fileRow} of ${m.file})`)] : [],
                ),
                h("td", {}, m.deltas.map((d) => `${d.condition}: ${d.delta}`).join("; ")),
              ),
            ),
            "matches",
          ),
  ).el;
}

function unmatched(api: Api, runId: string, side: Side, key: string, signal: AbortSignal): HTMLElement {
  return paged(
    `Unmatched ${sideName(side)}`,
    async (pageToken) => {
      const res = await api.runs.listUnmatched({ runId, side, pageSize, pageToken, key }, { signal });
      return { items: res.records, next: res.nextPageToken };
    },
    (records: UnmatchedRecord[]) =>
      records.length === 0
        ? h("p", {}, key ? `No unmatched record has a key containing “${key}”.` : "Every record matched.")
        : table(
            "Unmatched records. Open one to see why it did not match.",
            ["Key", "Nearest rule", "Why not matched?"],
            records.flatMap(unmatchedRows),
            "unmatched",
          ),
  ).el;
}

/** unmatchedRows is the record's row and a hidden row with its details. */
function unmatchedRows(r: UnmatchedRecord, i: number): HTMLTableRowElement[] {
  const detailsId = `unmatched-${sideName(r.side)}-${i}`;
  const details = h(
    "tr",
    { id: detailsId, class: "details", hidden: true },
    h(
      "td",
      { colspan: 3 },
      h("p", { class: "near-miss" }, nearMiss(r.nearMiss)),
      // A source without a key read from several files: where the record is.
      r.file ? [h("p", { class: "file" }, `Record ${r.fileRow} of ${r.file}.`)] : [],
      h(
        "dl",
        { class: "values" },
        Object.entries(r.values).flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]),
      ),
    ),
  );
  const open = h(
    "button",
    {
      type: "button",
      "aria-expanded": "false",
      "aria-controls": detailsId,
      onclick: () => {
        details.hidden = !details.hidden;
        open.setAttribute("aria-expanded", String(!details.hidden));
      },
    },
    "Why not matched?",
  );
  const row = h(
    "tr",
    { "data-key": r.key },
    h("td", {}, h("code", {}, r.key)),
    h("td", {}, r.nearMiss?.rule || "–"),
    h("td", {}, open),
  );
  return [row, details];
}
