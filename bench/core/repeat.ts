// How many times a workload runs. A fixed count, or "auto": at least AUTO_MIN_RUNS, at most AUTO_MAX_RUNS,
// stopping once the relative standard deviation of the workload's IOPS is at or below a threshold (the Phoronix
// Test Suite's rule, with its default of 3 %). The same rule runs in the remote scripts (remote/fio-script.ts).

export const AUTO_MIN_RUNS = 3;
export const AUTO_MAX_RUNS = 10;
export const DEFAULT_MAX_RSD_PCT = 3;

/** Stop repeating once the spread is small enough: the `auto` repeat. */
export interface StopWhenStable {
  minRuns: number;
  maxRsdPct: number;
}

/** Relative sample standard deviation in percent; 0 for fewer than two values or a zero mean. */
export function relativeStdevPct(values: number[]): number {
  if (values.length < 2) return 0;
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  if (mean === 0) return 0;
  const variance = values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (values.length - 1);
  return (Math.sqrt(variance) / Math.abs(mean)) * 100;
}

/** Whether the runs so far (their IOPS) are enough under the rule. */
export function stableEnough(rule: StopWhenStable, values: number[]): boolean {
  return values.length >= rule.minRuns && relativeStdevPct(values) <= rule.maxRsdPct;
}
