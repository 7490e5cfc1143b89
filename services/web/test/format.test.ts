import { create } from "@bufbuild/protobuf";
import { NearMissSchema, SideSummarySchema } from "@gen/kalla/v1/run_pb";
import { describe, expect, it } from "vitest";
import { barWidth, count, duration, matchRate, nearMiss } from "../src/format";

describe("matchRate", () => {
  const side = (rows: bigint, matched: bigint) => create(SideSummarySchema, { rows, matched });
  it("rounds_half_up_to_a_tenth", () => {
    expect(matchRate(side(3n, 2n))).toBe("66.7%");
    expect(matchRate(side(15n, 8n))).toBe("53.3%");
    expect(matchRate(side(2000n, 1n))).toBe("0.1%"); // 0.05% rounds up
    expect(matchRate(side(2001n, 1n))).toBe("0.0%");
  });
  it("whole_and_nothing", () => {
    expect(matchRate(side(7n, 7n))).toBe("100.0%");
    expect(matchRate(side(7n, 0n))).toBe("0.0%");
  });
  it("empty_side_has_no_rate", () => {
    expect(matchRate(side(0n, 0n))).toBe("–");
    expect(matchRate(undefined)).toBe("–");
  });
  it("beyond_float_precision", () => {
    // 2^60 rows: a Number division would lose the last digits.
    const rows = 1n << 60n;
    expect(matchRate(side(rows, rows - 1n))).toBe("100.0%");
  });
});

describe("duration", () => {
  it.each([
    [0, "0 ms"],
    [999, "999 ms"],
    [1000, "1.0 s"],
    [59_949, "59.9 s"],
    [60_000, "1 min 0 s"],
    [3_599_000, "59 min 59 s"],
    [3_600_000, "1 h 0 min"],
    [-1, "–"],
    [NaN, "–"],
  ])("%d_ms", (ms, want) => expect(duration(ms)).toBe(want));
});

describe("nearMiss", () => {
  it("says_reason_rule_and_closest", () => {
    const nm = create(NearMissSchema, { rule: "exact", otherKey: "PAY-7", reason: "amount differs by 15.00, tolerance 0.02" });
    expect(nearMiss(nm)).toBe("amount differs by 15.00, tolerance 0.02 under rule exact. Closest record: PAY-7.");
  });
  it("names_the_file_of_a_closest_record_without_a_key", () => {
    const nm = create(NearMissSchema, {
      rule: "exact",
      otherKey: "42",
      reason: "amount differs by 15.00, tolerance 0.02",
      otherFile: "statement-02.csv",
      otherFileRow: 7n,
    });
    expect(nearMiss(nm)).toBe("amount differs by 15.00, tolerance 0.02 under rule exact. Closest record: 42 (record 7 of statement-02.csv).");
  });
  it("no_candidate", () => {
    expect(nearMiss(create(NearMissSchema, {}))).toBe("No candidate on the other side under any rule.");
    expect(nearMiss(undefined)).toBe("No candidate on the other side under any rule.");
  });
  it("no_candidate_with_the_keys_no_record_shares", () => {
    const nm = create(NearMissSchema, { reason: "no payments record has reference equal to its invoice_id (rule exact)" });
    expect(nearMiss(nm)).toBe("No payments record has reference equal to its invoice_id (rule exact).");
  });
});

describe("count_and_bars", () => {
  it("groups_digits", () => expect(count(1234567n)).toBe("1,234,567"));
  it("bar_share", () => {
    expect(barWidth(7n, 15n)).toBe("46.6%");
    expect(barWidth(1n, 0n)).toBe("0%");
  });
});
