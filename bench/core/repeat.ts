// How many times a workload runs. A fixed count, or "auto": the Phoronix Test Suite's dynamic run count, as
// phoronix-test-suite/phoronix-test-suite has it at 84227e6 (pts-core/objects/client/pts_test_run_manager.php,
// increase_run_count_check; pts_test_execution.php; pts-core/static/user-config-defaults.xml). The same rule runs
// in the remote scripts (remote/repeat-script.ts).

import { relativeStdevPct, stat } from "./stats.js";

/** The runs scheduled first: PTS extends a test profile's TimesToRun, 3 for most of them. */
export const AUTO_MIN_RUNS = 3;
/** PTS's StandardDeviationThreshold in user-config-defaults.xml (its code falls back to 3.0 without it). */
export const DEFAULT_MAX_RSD_PCT = 2.5;
/** A stack's: Pulumi.yaml's config types have no fraction, so the whole number nearest above PTS's. */
export const STACK_MAX_RSD_PCT = 3;
/** The most runs: 4 x the scheduled ones for runs under two minutes, then the scheduled ones more while the spread shrinks. */
export const AUTO_MAX_RUNS = AUTO_MIN_RUNS * 4 + AUTO_MIN_RUNS;
/** The most attempts, failed ones included: PTS adds runs for failed ones up to its 64th. */
export const AUTO_MAX_ATTEMPTS = 64;
/** Beyond an hour a run, PTS adds none. */
const LONGEST_RUN_SEC = 60 * 60;

/** Repeat until the IOPS agree: the `auto` repeat. */
export interface StopWhenStable {
  minRuns: number;
  maxRsdPct: number;
}

/** PTS's test: the relative sample standard deviation at or above the threshold, or a value beyond 3 sigma. */
export function unstable(values: number[], maxRsdPct: number): boolean {
  const summary = stat(values);
  if (relativeStdevPct(summary) >= maxRsdPct) return true;
  // pts_math::three_sigma_limits: the population standard deviation (n, not n - 1).
  const populationVariance = values.reduce((sum, value) => sum + (value - summary.mean) ** 2, 0) / values.length;
  return values.some((value) => (value - summary.mean) ** 2 > 9 * populationVariance);
}

/** PTS's most runs for a run time: 4, 3 or 2 times the scheduled ones under 2 minutes, 4 minutes, or longer. */
function maxRunsFor(rule: StopWhenStable, meanRunSec: number): number {
  return rule.minRuns * (meanRunSec < 120 ? 4 : meanRunSec < 240 ? 3 : 2);
}

/**
 * Whether a workload runs again after the runs that worked (their IOPS) took `meanRunSec` each: until the scheduled
 * runs are done; then while unstable, up to maxRunsFor; beyond it, the scheduled runs more as long as the spread
 * keeps within half of where it started (PTS compares the first and the last spread it recorded while unstable).
 */
export function runAgain(rule: StopWhenStable, values: number[], meanRunSec: number): boolean {
  if (values.length < rule.minRuns) return true;
  if (!unstable(values, rule.maxRsdPct) || meanRunSec > LONGEST_RUN_SEC) return false;
  const most = maxRunsFor(rule, meanRunSec);
  if (values.length < most) return true;
  if (values.length >= most + rule.minRuns) return false;
  const spreads: number[] = [];
  for (let count = rule.minRuns; count <= values.length; count += 1) {
    const prefix = values.slice(0, count);
    if (unstable(prefix, rule.maxRsdPct)) spreads.push(relativeStdevPct(stat(prefix)));
  }
  const [first, last] = [spreads[0], spreads.at(-1) ?? spreads[0]];
  return Math.abs(first - last) < first / 2;
}

/**
 * Whether failures leave room for another attempt: a failed run does not use up a repeat while more than about
 * half of the attempts worked (PTS: times_result_produced > floor((i - 2) / 2), i the attempt's 0-based index).
 */
export function failuresAllow(worked: number, attempts: number): boolean {
  return attempts < AUTO_MAX_ATTEMPTS && worked > Math.floor((attempts - 3) / 2);
}
