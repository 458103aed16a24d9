import { baselinePasses } from "./baseline-drift.js";
import { DEFAULT_THRESHOLD_PCT } from "./metrics.js";
import { DIRECTIONS, type Layer, type ResultsDocument, type Run } from "./results.js";
import { median } from "./stats.js";

// Runs far from their variant's others (a neighbour's backup, a scrub, a cache flushing): by a robust spread pooled
// over the layer's variants. core/warnings.ts names them (outlier-run); the Effects fit keeps them (left out, a level
// whose runs are only noisier lost its intervals' coverage).

type Direction = (typeof DIRECTIONS)[number];

/**
 * A run is an outlier this many robust standard deviations from its variant's median, and at least
 * DEFAULT_THRESHOLD_PCT from it (the spread of a quiet machine is a tenth of a percent: a 1 % run is no outlier).
 */
const OUTLIER_SIGMAS = 5;

/** The log of each run's IOPS in a direction, with the run's number, of the runs that measured it. */
const runLogs = (runs: Run[], direction: Direction) =>
  runs.flatMap((run, index) => {
    const iops = run[direction]?.iops;
    return iops !== undefined && iops > 0 ? [{ run: index + 1, log: Math.log(iops) }] : [];
  });

const cellKey = (layer: Layer, workload: string, direction: string) => `${layer}\u0000${workload}\u0000${direction}`;

/**
 * The median of |Z - median(Z1..Zn)| for n standard normals, n = 3 to 15 (200,000 seeded samples of n each; the run
 * itself is among the n, so a small n's deviations are smaller than the normal's 0.6745 for large n).
 */
const MEDIAN_DEVIATION: Record<number, number> = {
  3: 0.3136,
  4: 0.4866,
  5: 0.4894,
  6: 0.5273,
  7: 0.5512,
  8: 0.5638,
  9: 0.5824,
  10: 0.5873,
  11: 0.6006,
  12: 0.6045,
  13: 0.6131,
  14: 0.6163,
  15: 0.6226,
};

/**
 * Per layer, workload and direction, the robust standard deviation of a run's log IOPS: the median of its runs'
 * distances to their variant's median, each over what a normal's would be for that many runs, over every variant
 * of 3 runs or more (3 runs say little alone; an outlier moves a pooled median little). Absent where no variant
 * ran 3 times.
 */
function robustSpreads(document: ResultsDocument, passes: number): Map<string, number> {
  const deviations = new Map<string, number[]>();
  // A baseline measured in passes apart in time carries the machine's drift: baseline-moved says it, apart.
  for (const variant of document.variants.filter((entry) => !(entry.baseline && passes > 1)))
    for (const workload of variant.workloads)
      for (const direction of DIRECTIONS) {
        const logs = runLogs(workload.runs, direction).map((entry) => entry.log);
        if (logs.length < 3) continue;
        const centre = median(logs);
        const normal = MEDIAN_DEVIATION[logs.length] ?? 0.6745;
        const key = cellKey(variant.layer, workload.id, direction);
        const pooled = deviations.get(key) ?? [];
        for (const value of logs) pooled.push(Math.abs(value - centre) / normal);
        deviations.set(key, pooled);
      }
  return new Map([...deviations].map(([key, values]) => [key, median(values)]));
}

/** A run far from its cell's median: its number (from 1), its IOPS over the median, and of how many runs. */
export interface OutlierRun {
  run: number;
  ratio: number;
  of: number;
}

/** A cell's runs far from its median. */
function outlierRuns(runs: Run[], direction: Direction, spread: number | undefined): OutlierRun[] {
  if (spread === undefined) return [];
  const measured = runLogs(runs, direction);
  if (measured.length < 3) return [];
  const centre = median(measured.map((entry) => entry.log));
  const least = Math.max(OUTLIER_SIGMAS * spread, Math.log(1 + DEFAULT_THRESHOLD_PCT / 100));
  return measured
    .filter((entry) => Math.abs(entry.log - centre) > least)
    .map((entry) => ({ run: entry.run, ratio: Math.exp(entry.log - centre), of: measured.length }));
}

/** The key of a variant's workload in a direction in outlierRunsOf's map. */
export const outlierKey = (variant: string, workload: string, direction: Direction) =>
  `${variant}\u0000${workload}\u0000${direction}`;

/**
 * Every cell's outlier runs, by outlierKey, as the document holds them now (a run's recorder asks after each run).
 * A baseline measured in passes is not judged: its passes differ by the machine's drift (baseline-moved).
 */
export function outlierRunsOf(document: ResultsDocument): Map<string, OutlierRun[]> {
  const passes = baselinePasses(document);
  const spreads = robustSpreads(document, passes);
  const outliers = new Map<string, OutlierRun[]>();
  for (const variant of document.variants) {
    if (variant.baseline && passes > 1) continue;
    for (const workload of variant.workloads)
      for (const direction of DIRECTIONS) {
        const far = outlierRuns(workload.runs, direction, spreads.get(cellKey(variant.layer, workload.id, direction)));
        if (far.length > 0) outliers.set(outlierKey(variant.id, workload.id, direction), far);
      }
  }
  return outliers;
}
