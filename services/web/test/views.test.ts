import { Code, ConnectError } from "@connectrpc/connect";
import { Side } from "@gen/kalla/v1/job_pb";
import { FieldErrorSchema, RecipeService } from "@gen/kalla/v1/recipe_service_pb";
import { RunService, RunStatus, type ListUnmatchedRequest, type Run } from "@gen/kalla/v1/run_pb";
import { beforeEach, describe, expect, it } from "vitest";
import { newRunView } from "../src/views/newrun";
import { runView, totalValue } from "../src/views/run";
import { runsView } from "../src/views/runs";
import { apiWith, completedRun, settle, text } from "./setup";

let root: HTMLElement;
beforeEach(() => {
  document.body.replaceChildren();
  root = document.createElement("main");
  document.body.append(root);
});

describe("runs_list", () => {
  it("shows_runs_with_both_match_rates", async () => {
    const api = apiWith((r) => r.service(RunService, { listRuns: () => ({ runs: [completedRun("run-a")] }) }));
    runsView(api, root, new URLSearchParams());
    await settle();
    const cells = [...root.querySelectorAll("tr[data-run='run-a'] td")].map(text);
    expect(cells[1]).toBe("completed");
    expect(cells[2]).toBe("invoice-payment-match");
    expect(cells[4]).toBe("2.5 s");
    expect(cells.slice(5)).toEqual(["53.3%", "60.0%"]);
  });

  it("filters_by_status_and_pages", async () => {
    const seen: { status: RunStatus; token: string }[] = [];
    const api = apiWith((r) =>
      r.service(RunService, {
        listRuns: (req) => {
          seen.push({ status: req.status, token: req.pageToken });
          return req.pageToken === ""
            ? { runs: [completedRun("run-1")], nextPageToken: "t2" }
            : { runs: [completedRun("run-2")] };
        },
      }),
    );
    runsView(api, root, new URLSearchParams("status=failed"));
    await settle();
    expect((root.querySelector("#status-filter") as HTMLSelectElement).value).toBe("failed");
    const next = [...root.querySelectorAll("button")].find((b) => b.textContent === "Next page")!;
    next.click();
    await settle();
    expect(root.querySelector("tr[data-run='run-2']")).not.toBeNull();
    expect(seen).toEqual([
      { status: RunStatus.FAILED, token: "" },
      { status: RunStatus.FAILED, token: "t2" },
    ]);
    expect([...root.querySelectorAll("button")].find((b) => b.textContent === "Next page")!.disabled).toBe(true);
  });

  it("refreshes_while_a_run_is_active", async () => {
    let calls = 0;
    const api = apiWith((r) =>
      r.service(RunService, {
        listRuns: () => {
          calls++;
          const run = calls < 3 ? { ...completedRun("run-a"), status: RunStatus.EXECUTING, summary: undefined } : completedRun("run-a");
          return { runs: [run] };
        },
      }),
    );
    const stop = runsView(api, root, new URLSearchParams(), 20);
    for (let i = 0; i < 30 && calls < 3; i++) await new Promise((r) => setTimeout(r, 10));
    await settle();
    expect(text(root.querySelector("tr[data-run='run-a'] td:nth-child(2)"))).toBe("completed");
    await new Promise((r) => setTimeout(r, 100));
    expect(calls).toBe(3); // completed: no more refreshes
    stop();
  });

  it("unauthenticated_says_to_enter_token", async () => {
    const api = apiWith((r) =>
      r.service(RunService, {
        listRuns: () => {
          throw new ConnectError("missing bearer token", Code.Unauthenticated);
        },
      }),
    );
    runsView(api, root, new URLSearchParams());
    await settle();
    expect(text(root.querySelector("[role=alert]"))).toContain("needs a valid token");
  });
});

describe("run_page", () => {
  it("progress_then_summary", async () => {
    const running: Run = { ...completedRun(), status: RunStatus.STAGING, summary: undefined, finishedAt: undefined };
    running.progress = { $typeName: "kalla.v1.Progress", phase: "staging", chunksStaged: 3, chunksTotal: 8, rowsStaged: 1500n };
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const api = apiWith((r) =>
      r.service(RunService, {
        async *watchRun() {
          yield { run: running };
          await gate;
          yield { run: completedRun() };
        },
        listMatches: () => ({}),
        listUnmatched: () => ({}),
        getEvidenceLinks: () => ({ links: [{ name: "matched.parquet", url: "/evidence/run-1/matched.parquet?sig=x" }] }),
      }),
    );
    runView(api, root, "run-1");
    await settle();
    expect(text(root.querySelector("#run-phase"))).toBe("staging");
    const bar = root.querySelector("progress")!;
    expect([bar.getAttribute("value"), bar.getAttribute("max")]).toEqual(["3", "8"]);
    expect(root.querySelector("#cancel-run")).not.toBeNull();

    release();
    await settle();
    const field = (f: string) => text(root.querySelector(`#summary [data-field='${f}']`));
    expect([field("left-rows"), field("left-matched"), field("left-unmatched"), field("left-rate")]).toEqual(["15", "8", "7", "53.3%"]);
    expect([field("right-rows"), field("right-matched"), field("right-unmatched"), field("right-rate")]).toEqual(["15", "9", "6", "60.0%"]);
    expect(field("match-groups")).toBe("8");
    expect([field("left-filtered-out"), field("right-filtered-out")]).toEqual(["2", "0"]);
    expect(text(root.querySelector("tr[data-rule='split_payments'] [data-field='right-matched']"))).toBe("2");
    const total = (line: string, f: string) => text(root.querySelector(`tr[data-total='${line}'] [data-field='${f}']`));
    expect([total("invoices/amount, currency EUR", "total"), total("invoices/amount, currency EUR", "unmatched")]).toEqual(["10000.00", "10000.00"]);
    expect(total("invoices/amount, currency (empty)", "empty")).toBe("1");
    const files = [...root.querySelectorAll("table.files tr[data-file]")].map((r) => `${r.getAttribute("data-file")}: ${text(r.querySelector("[data-field='rows']"))}`);
    expect(files).toEqual(["invoices/invoices-01.csv: 7", "invoices/invoices-02.csv: 10"]);
    expect(text(root.querySelector("#sheets"))).toBe("Sheets read: payments: Payments");
    expect(root.querySelector("[data-sheet='invoices']")).toBeNull();
    expect([total("split_payments/right/paid_amount", "records"), total("split_payments/right/paid_amount", "total")]).toEqual(["2", "50000.00"]);
    expect(root.querySelector("#cancel-run")).toBeNull();
    const link = root.querySelector("#downloads a") as HTMLAnchorElement;
    expect(link.href).toBe("http://planner.test/evidence/run-1/matched.parquet?sig=x");
  });

  it("cancel_button_cancels", async () => {
    const cancelled: string[] = [];
    const running: Run = { ...completedRun(), status: RunStatus.EXECUTING, summary: undefined };
    let more!: () => void;
    const gate = new Promise<void>((r) => (more = r));
    const api = apiWith((r) =>
      r.service(RunService, {
        async *watchRun(_req, ctx) {
          yield { run: running };
          await gate;
          yield { run: running }; // a progress update after the click
          await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve));
        },
        cancelRun: (req) => {
          cancelled.push(req.runId);
          return {};
        },
      }),
    );
    const stop = runView(api, root, "run-1");
    await settle();
    (root.querySelector("#cancel-run") as HTMLButtonElement).click();
    await settle();
    expect(cancelled).toEqual(["run-1"]);
    more();
    await settle();
    expect(text(root.querySelector("[role=status]"))).toBe("Cancelling…");
    expect((root.querySelector("#cancel-run") as HTMLButtonElement).disabled).toBe(true);
    stop();
  });

  it("failure_in_plain_words", async () => {
    const failed: Run = {
      ...completedRun(),
      status: RunStatus.FAILED,
      summary: undefined,
      error: "source left: column amount: value 'abc' at line 4 is not a decimal",
    };
    const api = apiWith((r) => r.service(RunService, { async *watchRun() { yield { run: failed }; } }));
    runView(api, root, "run-1");
    await settle();
    expect(text(root.querySelector("#run-error h2"))).toBe("The run failed");
    expect(text(root.querySelector("#run-error p"))).toBe(failed.error);
    expect(root.querySelector("#run-bad-input")).toBeNull();
    expect(root.querySelector("#summary")).toBeNull();
  });

  it("failure_on_its_input_says_so", async () => {
    const failed: Run = { ...completedRun(), status: RunStatus.FAILED, summary: undefined, error: "bad input: duplicate key", badInput: true };
    const api = apiWith((r) => r.service(RunService, { async *watchRun() { yield { run: failed }; } }));
    runView(api, root, "run-1");
    await settle();
    expect(text(root.querySelector("#run-bad-input"))).toContain("running it again as it is will not help");
  });
});

describe("results", () => {
  it("match_member_of_several_files_names_its_file", async () => {
    const api = apiWith((r) =>
      r.service(RunService, {
        async *watchRun() {
          yield { run: completedRun() };
        },
        listMatches: () => ({
          members: [
            { matchId: 1n, rule: "exact", pattern: "1:1", side: Side.LEFT, key: "INV-1", deltas: [], file: "", fileRow: 0n },
            { matchId: 1n, rule: "exact", pattern: "1:1", side: Side.RIGHT, key: "42", deltas: [], file: "statement-02.csv", fileRow: 7n },
          ],
        }),
        getEvidenceLinks: () => ({}),
        listUnmatched: () => ({}),
      }),
    );
    runView(api, root, "run-1");
    await settle();
    const keys = [...root.querySelectorAll("table.matches tbody tr")].map((tr) => text(tr.querySelectorAll("td")[4]));
    expect(keys).toEqual(["INV-1", "42 (record 7 of statement-02.csv)"]);
  });

  it("unmatched_record_opens_to_its_near_miss_and_search_sends_key", async () => {
    const asked: ListUnmatchedRequest[] = [];
    const api = apiWith((r) =>
      r.service(RunService, {
        async *watchRun() {
          yield { run: completedRun() };
        },
        listMatches: () => ({}),
        getEvidenceLinks: () => ({}),
        listUnmatched: (req) => {
          asked.push(req);
          if (req.side !== Side.LEFT) return {};
          return {
            records: [
              {
                side: Side.LEFT,
                key: "INV-2024-006",
                values: { amount: "8500.00", currency: "USD" },
                nearMiss: { rule: "exact", otherKey: "PAY-2024-006", reason: "amount differs by 15.00, tolerance 0.02" },
                file: "",
                fileRow: 0n,
              },
              {
                side: Side.LEFT,
                key: "42",
                values: { amount: "1.00", currency: "USD" },
                nearMiss: { rule: "", otherKey: "", reason: "no payments record has reference equal to its ref (rule exact)" },
                file: "statement-02.csv",
                fileRow: 7n,
              },
            ],
          };
        },
      }),
    );
    runView(api, root, "run-1");
    await settle();
    const row = root.querySelector("#unmatched-left tr[data-key='INV-2024-006']")!;
    const button = row.querySelector("button")!;
    const details = root.querySelector(`#${button.getAttribute("aria-controls")}`) as HTMLElement;
    expect(details.hidden).toBe(true);
    button.click();
    expect(details.hidden).toBe(false);
    expect(button.getAttribute("aria-expanded")).toBe("true");
    expect(text(details.querySelector(".near-miss"))).toBe(
      "amount differs by 15.00, tolerance 0.02 under rule exact. Closest record: PAY-2024-006.",
    );
    expect(text(details.querySelector(".values"))).toContain("8500.00");
    expect(details.querySelector(".file")).toBeNull();
    const inFile = root.querySelector(`#${root.querySelector("#unmatched-left tr[data-key='42'] button")!.getAttribute("aria-controls")}`)!;
    expect(text(inFile.querySelector(".file"))).toBe("Record 7 of statement-02.csv.");

    const search = root.querySelector("#unmatched-left-key") as HTMLInputElement;
    search.value = " 006 ";
    search.form!.requestSubmit();
    expect(root.querySelector("#unmatched-left .paged")!.getAttribute("aria-busy")).toBe("true");
    await settle();
    expect(root.querySelector("#unmatched-left .paged")!.getAttribute("aria-busy")).toBe("false");
    expect(asked.filter((a) => a.side === Side.LEFT).map((a) => a.key)).toEqual(["", "006"]);
  });
});

describe("new_run", () => {
  const recipeText = '{"version": "1.0"}';
  const setup = (routes: Parameters<typeof apiWith>[0]) => {
    const went: string[] = [];
    newRunView(apiWith(routes), root, (hash) => went.push(hash));
    (root.querySelector("#recipe") as HTMLTextAreaElement).value = recipeText;
    return { went, click: (id: string) => (root.querySelector(`#${id}`) as HTMLButtonElement).click() };
  };

  it("validate_lists_each_error_against_its_field", async () => {
    const { click } = setup((r) =>
      r.service(RecipeService, {
        validateRecipe: (req) => {
          expect(req.recipe).toBe(recipeText);
          expect(req.checkSources).toBe(true);
          return { valid: false, errors: [{ field: "match_rules[0].pattern", line: 1, column: 5, message: 'must be "1:1", "1:N", "M:1" or "M:N"' }] };
        },
      }),
    );
    click("validate");
    await settle();
    const items = [...root.querySelectorAll("#recipe-errors li")].map(text);
    expect(items).toEqual(['match_rules[0].pattern line 1, column 5: must be "1:1", "1:N", "M:1" or "M:N"']);
    (root.querySelector("#recipe-errors button") as HTMLButtonElement).click();
    expect((root.querySelector("#recipe") as HTMLTextAreaElement).selectionStart).toBe(4);
  });

  it("start_refused_shows_field_errors_from_details", async () => {
    const { click, went } = setup((r) =>
      r.service(RunService, {
        createRun: () => {
          throw new ConnectError("invalid recipe", Code.InvalidArgument, undefined, [
            { desc: FieldErrorSchema, value: { field: "sources.left.uri", message: "file not found: invoices.csv" } },
          ]);
        },
      }),
    );
    click("start");
    await settle();
    expect([...root.querySelectorAll("#recipe-errors li")].map(text)).toEqual(["sources.left.uri: file not found: invoices.csv"]);
    expect(went).toEqual([]);
  });

  it("start_goes_to_the_run", async () => {
    const { click, went } = setup((r) => r.service(RunService, { createRun: () => ({ runId: "run-9" }) }));
    click("start");
    await settle();
    expect(went).toEqual(["#/run/run-9"]);
  });

  it("explain_shows_sql_per_rule", async () => {
    const { click } = setup((r) =>
      r.service(RecipeService, {
        explainRecipe: () => ({ rules: [{ rule: "exact", sql: "SELECT 1" }], sql: "SELECT 1;" }),
      }),
    );
    click("explain");
    await settle();
    expect(text(root.querySelector("#recipe-output h3"))).toBe("Rule exact");
    expect(text(root.querySelector("#recipe-output pre"))).toBe("SELECT 1");
  });
});

describe("total_value", () => {
  it("quotes_values_that_look_alike", () => {
    expect([totalValue(undefined), totalValue("EUR"), totalValue("EUR "), totalValue("(empty)"), totalValue("")]).toEqual([
      "(empty)",
      "EUR",
      '"EUR "',
      '"(empty)"',
      '""',
    ]);
  });
});
