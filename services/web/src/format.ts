// Pure formatting of what the API returns, kept apart from the DOM so it
// is tested on its own.
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Side } from "@gen/kalla/v1/job_pb";
import { RunStatus, type NearMiss, type Run, type SideSummary } from "@gen/kalla/v1/run_pb";

const statusNames: Record<RunStatus, string> = {
  [RunStatus.UNSPECIFIED]: "unknown",
  [RunStatus.QUEUED]: "queued",
  [RunStatus.STAGING]: "staging",
  [RunStatus.EXECUTING]: "executing",
  [RunStatus.COMPLETED]: "completed",
  [RunStatus.FAILED]: "failed",
  [RunStatus.CANCELLED]: "cancelled",
};

export function statusName(s: RunStatus): string {
  return statusNames[s] ?? "unknown";
}

/** The statuses a list can be filtered by, in the order a run goes through them. */
export const filterStatuses: RunStatus[] = [
  RunStatus.QUEUED,
  RunStatus.STAGING,
  RunStatus.EXECUTING,
  RunStatus.COMPLETED,
  RunStatus.FAILED,
  RunStatus.CANCELLED,
];

export function isActive(s: RunStatus): boolean {
  return s === RunStatus.QUEUED || s === RunStatus.STAGING || s === RunStatus.EXECUTING;
}

/** matchRate is the matched share of one side, one decimal; "–" without rows. */
export function matchRate(side: SideSummary | undefined): string {
  if (!side || side.rows === 0n) return "–";
  const tenths = (side.matched * 1000n + side.rows / 2n) / side.rows;
  return `${tenths / 10n}.${tenths % 10n}%`;
}

/** duration says how long ms milliseconds are, to a useful precision. */
export function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "–";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h} h ${m} min` : `${m} min ${s % 60} s`;
}

/** runDuration is from creation to the end, or to now while it runs. */
export function runDuration(run: Run, now: number = Date.now()): string {
  if (!run.createdAt) return "–";
  const end = run.finishedAt ? ms(run.finishedAt) : isActive(run.status) ? now : ms(run.updatedAt);
  return duration(end - ms(run.createdAt));
}

export function ms(t: Timestamp | undefined): number {
  return t ? timestampMs(t) : NaN;
}

/** when is a timestamp in the reader's locale, to the second. */
export function when(t: Timestamp | undefined): string {
  if (!t) return "–";
  return new Date(ms(t)).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
}

/** count groups digits: 1234567 is "1,234,567". */
export function count(n: bigint | number): string {
  return n.toLocaleString("en-US");
}

/**
 * nearMiss explains why a record did not match: the engine's reason, the
 * rule it was nearest to and the closest record on the other side.
 */
export function nearMiss(nm: NearMiss | undefined): string {
  if (!nm?.rule) {
    if (!nm?.reason) return "No candidate on the other side under any rule.";
    return nm.reason.charAt(0).toUpperCase() + nm.reason.slice(1) + ".";
  }
  // The other side without a key read from several files: where the record is.
  const where = nm.otherFile ? ` (record ${nm.otherFileRow} of ${nm.otherFile})` : "";
  const closest = nm.otherKey ? ` Closest record: ${nm.otherKey}${where}.` : "";
  return `${nm.reason} under rule ${nm.rule}.${closest}`;
}

export function sideName(s: Side): string {
  return s === Side.LEFT ? "left" : s === Side.RIGHT ? "right" : "unknown";
}

/** barWidth is a share as a CSS percentage, for the per-rule bars. */
export function barWidth(part: bigint, whole: bigint): string {
  if (whole <= 0n) return "0%";
  return `${Number((part * 1000n) / whole) / 10}%`;
}
