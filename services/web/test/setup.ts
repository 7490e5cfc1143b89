import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { createRouterTransport, type ConnectRouter } from "@connectrpc/connect";
import { RunSchema, RunStatus, SummarySchema, type Run } from "@gen/kalla/v1/run_pb";
import { createApi, type Api } from "../src/api";

/**
 * apiWith is a real Connect transport held in memory: the handlers given
 * answer the page's calls, so each test says what the server says.
 */
export function apiWith(routes: (router: ConnectRouter) => void): Api {
  return createApi(createRouterTransport(routes), "http://planner.test");
}

/** completedRun is a run like the bundled example's: 15 invoices, 15 payments. */
export function completedRun(id = "run-1"): Run {
  return create(RunSchema, {
    runId: id,
    recipeId: "invoice-payment-match",
    status: RunStatus.COMPLETED,
    createdAt: timestampFromMs(Date.UTC(2026, 10, 26, 9, 0, 0)),
    finishedAt: timestampFromMs(Date.UTC(2026, 10, 26, 9, 0, 2, 500)),
    summary: create(SummarySchema, {
      recipeId: "invoice-payment-match",
      engine: "duckdb",
      left: {
        alias: "invoices",
        rows: 15n,
        matched: 8n,
        unmatched: 7n,
        filteredOut: 2n,
        files: [
          { name: "invoices-01.csv", rows: 7n },
          { name: "invoices-02.csv", rows: 10n },
        ],
        totals: [
          { column: "amount", by: "currency", value: "EUR", records: 1n, matchedRecords: 0n, unmatchedRecords: 1n, empty: 0n, total: "10000.00", matched: "0.00", unmatched: "10000.00" },
          { column: "amount", by: "currency", records: 1n, matchedRecords: 1n, unmatchedRecords: 0n, empty: 1n, total: "0.00", matched: "0.00", unmatched: "0.00" },
        ],
      },
      right: { alias: "payments", rows: 15n, matched: 9n, unmatched: 6n, sheet: "Payments" },
      matchGroups: 8n,
      rules: [
        { name: "id_and_amount_match", pattern: "1:1", groups: 7n, leftMatched: 7n, rightMatched: 7n },
        {
          name: "split_payments",
          pattern: "1:N",
          groups: 1n,
          leftMatched: 1n,
          rightMatched: 2n,
          totals: [{ side: "right", column: "paid_amount", by: "", records: 2n, empty: 0n, total: "50000.00" }],
        },
      ],
      timingsMs: { load: 39n, match: 119n, write: 40n, total: 274n },
    }),
  });
}

/** settle lets pending promises and stream reads run. */
export async function settle(times = 10): Promise<void> {
  for (let i = 0; i < times; i++) await new Promise((r) => setTimeout(r, 0));
}

export function text(el: Element | null): string {
  return (el?.textContent ?? "").replace(/\s+/g, " ").trim();
}
