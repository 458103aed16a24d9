// How many times a workload runs. A fixed count, or "auto": at least AUTO_MIN_RUNS, at most AUTO_MAX_RUNS,
// stopping once the relative standard deviation of the workload's IOPS is at or below a threshold (the Phoronix
// Test Suite's rule, with its default of 3 %). The same rule runs in the remote scripts (remote/fio-script.ts).

import { relativeStdevPct, stat } from "./stats.js";

export const AUTO_MIN_RUNS = 3;
export const AUTO_MAX_RUNS = 10;
export const DEFAULT_MAX_RSD_PCT = 3;

/** Stop repeating once the spread is small enough: the `auto` repeat. */
export interface StopWhenStable {
  minRuns: number;
  maxRsdPct: number;
}

/** Whether the runs so far (their IOPS) are enough under the rule. */
export function stableEnough(rule: StopWhenStable, values: number[]): boolean {
  return values.length >= rule.minRuns && relativeStdevPct(stat(values)) <= rule.maxRsdPct;
}
