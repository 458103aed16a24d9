import { AUTO_MAX_ATTEMPTS, type StopWhenStable } from "../core/repeat.js";

// `repeat: auto` in the scripts that run fio on a node, in a guest or in a pod: core/repeat.ts's rule (the
// Phoronix Test Suite's dynamic run count) in POSIX shell and awk. awk is in every image the script runs in, but
// busybox's may lack math (no sqrt): spreads are compared squared, stdev/mean >= max% as variance * 100^2 >=
// max^2 * mean^2.

/** Each run that worked: its IOPS (fio's "iops" of every direction, added) and its seconds, a line in runs.txt. */
const RECORD = `      echo "$(awk -F: '/"iops" :/ { gsub(/[ ,]/, "", $2); sum += $2 } END { print sum + 0 }' "$work/out.json") $(($(date +%s) - began))" >> "$work/runs.txt"`;

/** Exits 1 to run again, 0 to stop: runAgain of core/repeat.ts. */
const RUN_AGAIN_AWK = [
  "{ v[++n] = $1; seconds += $2 }",
  "function unstable(k,  i, s, m, q, variance) {",
  "  s = 0; for (i = 1; i <= k; i++) s += v[i]; m = s / k",
  "  q = 0; for (i = 1; i <= k; i++) q += (v[i] - m) * (v[i] - m)",
  "  variance = k > 1 ? q / (k - 1) : 0",
  "  spread[k] = m == 0 ? 0 : variance / (m * m)",
  "  if (m != 0 && variance * 10000 >= max * max * m * m) return 1",
  "  for (i = 1; i <= k; i++) if ((v[i] - m) * (v[i] - m) > 9 * q / k) return 1",
  "  return 0",
  "}",
  "END {",
  "  if (n < min) exit 1",
  "  if (!unstable(n) || seconds / n > 3600) exit 0",
  "  most = min * (seconds / n < 120 ? 4 : (seconds / n < 240 ? 3 : 2))",
  "  if (n < most) exit 1",
  "  if (n >= most + min) exit 0",
  "  first = -1",
  "  for (k = min; k <= n; k++) if (unstable(k)) { if (first < 0) first = spread[k]; last = spread[k] }",
  "  if (last * 4 > first && last * 4 < first * 9) exit 1",
  "  exit 0",
  "}",
].join("\n");

export interface RepeatLines {
  /** The most attempts of a workload. */
  bound: number;
  /** Before a workload's first attempt. */
  reset: string[];
  /** Before each attempt. */
  begin: string[];
  /** After a run that worked (its output in $work/out.json): record it, and break out of the loop once stable. */
  worked: string[];
  /** After a failed run: break out once failures leave no room (failuresAllow). */
  failed: string[];
}

/** The lines of a fixed repeat (none but the bound) or of `auto`. */
export function repeatLines(rule: StopWhenStable | undefined, repeat: number): RepeatLines {
  if (!rule) return { bound: repeat, reset: [], begin: [], worked: [], failed: [] };
  return {
    bound: AUTO_MAX_ATTEMPTS,
    reset: [`  : > "$work/runs.txt"`],
    begin: ["    began=$(date +%s)"],
    worked: [
      RECORD,
      `      if awk -v min=${rule.minRuns} -v max=${rule.maxRsdPct} '${RUN_AGAIN_AWK}' "$work/runs.txt"; then break; fi`,
    ],
    failed: [
      '      worked=$(wc -l < "$work/runs.txt")',
      '      if [ "$worked" -le $((attempt >= 3 ? (attempt - 3) / 2 : -1)) ]; then break; fi',
    ],
  };
}
