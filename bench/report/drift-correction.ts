import { baselinePasses } from "../core/baseline-drift.js";
import { estimate, fitLeastSquares, tTwoSided } from "../core/linear-model.js";
import { type Direction, type Metric, metricValue, type ResultsDocument, type Run } from "../core/results.js";

// A document measured with its baseline in passes (core/measurement-order.ts: at the start, middle and end) tells
// how its machine drifted over the run: the slope of the baseline's log values on their start times. compare takes
// it out of every run before setting two documents side by side: measured in their own random orders, a variant
// sits early in one and late in the other, and 0.5 % drift per variant made 12.5 % of identical pairs differ.

/** Each run's value and when it started (seconds), for the runs that measured the metric in the direction. */
function timedValues(runs: Run[], direction: Direction, metric: Metric): Array<{ value: number; start: number }> {
  return runs.flatMap((run) => {
    const result = run[direction];
    const value = result ? metricValue(run, result, metric) : undefined;
    const start = Date.parse(run.startedAt) / 1000;
    return value !== undefined && value > 0 && Number.isFinite(start) ? [{ value, start }] : [];
  });
}

/**
 * The slope's two-sided p-value under which the drift is taken out. Of 200 identical pairs of 20 variants x 2
 * workloads x 3 runs: without drift, 2 flagged uncorrected, 8 corrected at any slope, 5 at p < 0.2; with 0.5 %
 * drift per variant, 25, 8 and 9.
 */
const DRIFT_P = 0.2;

export interface Drift {
  /** The change of the log value per second. */
  slope: number;
  /** The baseline's mean start: values are taken back to it. */
  origin: number;
  /** The change over the baseline's passes, first to last, as a ratio (for the report's line). */
  overRun: number;
}

/**
 * The drift the baseline's passes show in a workload, direction and metric (least squares of its log values on
 * their times); undefined for a baseline measured once or at one instant, or a slope within its noise.
 */
export function baselineDrift(
  document: ResultsDocument,
  workloadId: string,
  direction: Direction,
  metric: Metric,
): Drift | undefined {
  if (baselinePasses(document) < 2) return undefined;
  const baseline = document.variants.find((variant) => variant.baseline);
  const runs = baseline?.workloads.find((workload) => workload.id === workloadId)?.runs ?? [];
  const points = timedValues(runs, direction, metric);
  // A slope needs a third point to have a noise to be judged against.
  if (points.length < 3) return undefined;
  const origin = points.reduce((sum, point) => sum + point.start, 0) / points.length;
  const fit = fitLeastSquares(
    { factors: [], interactions: [], drift: true },
    points.map((point) => ({ point: {}, y: Math.log(point.value), time: point.start - origin })),
  );
  if (!fit) return undefined;
  const { value: slope, se } = estimate(fit, [0, 1]);
  // Taken out only where the baseline's passes show a slope: one that is noise adds its error to every run.
  if (se !== undefined && se > 0 && tTwoSided(slope / se, fit.residualDf) >= DRIFT_P) return undefined;
  const span = Math.max(...points.map((point) => point.start)) - Math.min(...points.map((point) => point.start));
  return { slope, origin, overRun: Math.exp(slope * span) };
}

/** A metric's value in each run that measured it, taken back to the baseline's mean time along the drift. */
export function driftCorrectedValues(runs: Run[], direction: Direction, metric: Metric, drift: Drift): number[] {
  return timedValues(runs, direction, metric).map(
    (point) => point.value * Math.exp(-drift.slope * (point.start - drift.origin)),
  );
}
