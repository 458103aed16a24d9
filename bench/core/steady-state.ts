// Did a run settle? SNIA's Solid State Storage Performance Test Specification (PTS), Version 2.0.2 (SNIA
// Standard, October 1, 2020), defines steady state over a measurement window of five rounds: the data excursion
// (the largest round less the smallest) within 20 % of the window's average, and the slope excursion (the best
// linear fit's rise across the window) within 10 % of it. Here the window slides over a run's seconds from its
// start (steadyState below): where it first holds, the run became steady.

const STEADY_ROUNDS = 5;

/**
 * --steady: the job file lines that end a run once fio's own criterion holds, SNIA's slope excursion over a window of
 * a quarter of the runtime (at least 5 seconds): the least-squares line of the window's IOPS rises or falls by at
 * most 10 % of their mean across it, so at most 10 %/window per second (fio's iops_slope, steadystate_duration).
 * fio's other criterion, every second within a band of the mean (SNIA's data excursion), never held on this
 * machine's noisy tmpfs runs at 10 % in 30 s, where the slope held after 10 s.
 */
export function fioSteadyOptions(runtimeSec: number): string[] {
  const window = Math.max(5, Math.floor(runtimeSec / 4));
  // Checked only after a first window: a flat slope in the first seconds (files laid out, caches cold) ended runs
  // at 4.9 s with 29 % fewer IOPS than full-length ones.
  return [
    `steadystate=iops_slope:${(10 / window).toFixed(2)}%`,
    `steadystate_duration=${window}s`,
    `steadystate_ramp_time=${window}s`,
  ];
}

export const STEADY_CRITERION =
  "the fitted line of the last quarter of --runtime rising or falling by at most 10 % of its mean IOPS";
const MAX_DATA_EXCURSION = 0.2;
const MAX_SLOPE_EXCURSION = 0.1;
/**
 * A round's relative noise at most: its length grows with the per-second noise so that noise alone rarely breaks
 * the 20 % band (10-s runs at 20 % per-second noise were flagged 92 % of the time on 2-s rounds).
 */
const ROUND_NOISE = 0.04;

export interface SteadyState {
  steady: boolean;
  /** (max - min) of the rounds' means over their average, in the first window that held (else the last one). */
  dataExcursion: number;
  /** The fitted line's rise from the first round to the last over the average, its sign kept. */
  slopeExcursion: number;
  /** Where the first window that held starts, in values: the run is steady from there. */
  steadyFrom?: number;
  /** The mean of the values from steadyFrom on, beside the whole run's. */
  steadyMean?: number;
  wholeMean: number;
}

const average = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

/** The per-value noise relative to the mean, from the differences of neighbours (robust to a trend and a step). */
function relativeNoise(values: number[], mean: number): number {
  // A typed array sorts as numbers with no comparator to call: a big matrix has 10,000 runs to judge.
  const steps = new Float64Array(Math.max(0, values.length - 1));
  for (let index = 1; index < values.length; index += 1) steps[index - 1] = Math.abs(values[index] - values[index - 1]);
  steps.sort();
  const median = steps[Math.floor(steps.length / 2)] ?? 0;
  // A normal's MAD is 0.6745 sigma; a difference of two has sqrt(2) sigma.
  return mean > 0 ? (1.4826 * median) / Math.SQRT2 / mean : 0;
}

/** SNIA's two excursions over five rounds of `round` values each. */
function excursions(window: number[], round: number): { dataExcursion: number; slopeExcursion: number } {
  const rounds = Array.from({ length: STEADY_ROUNDS }, (_, index) =>
    average(window.slice(index * round, (index + 1) * round)),
  );
  const mean = average(rounds);
  if (mean <= 0) return { dataExcursion: Number.POSITIVE_INFINITY, slopeExcursion: 0 };
  // Least squares over x = 0..4: slope = sum((x - 2)(y - mean)) / sum((x - 2)^2).
  const center = (STEADY_ROUNDS - 1) / 2;
  const slope =
    rounds.reduce((sum, value, index) => sum + (index - center) * (value - mean), 0) /
    rounds.reduce((sum, _, index) => sum + (index - center) ** 2, 0);
  return {
    dataExcursion: (Math.max(...rounds) - Math.min(...rounds)) / mean,
    slopeExcursion: (slope * (STEADY_ROUNDS - 1)) / mean,
  };
}

/**
 * Did a run settle, and from when? The run is steady from the first second whose rest of the run holds SNIA's rule,
 * its five rounds the rest's fifths (the last ones when they do not divide evenly); the rest is at least half the
 * run (a slow climb over the run stays visible) and its rounds long enough for the per-second noise. The mean from
 * there on is the steady part's. Undefined when even the whole run is too short for such rounds: not judged.
 */
export function steadyState(values: number[]): SteadyState | undefined {
  const wholeMean = values.length > 0 ? average(values) : 0;
  if (values.length < STEADY_ROUNDS) return undefined;
  if (wholeMean <= 0) return { steady: false, dataExcursion: Number.POSITIVE_INFINITY, slopeExcursion: 0, wholeMean };
  const noiseRound = Math.max(1, Math.ceil((relativeNoise(values, wholeMean) / ROUND_NOISE) ** 2));
  if (Math.floor(values.length / STEADY_ROUNDS) < noiseRound) return undefined;
  let first: { dataExcursion: number; slopeExcursion: number } | undefined;
  for (let start = 0; start <= values.length / 2; start += 1) {
    const round = Math.floor((values.length - start) / STEADY_ROUNDS);
    if (round < noiseRound) break;
    const judged = excursions(values.slice(values.length - round * STEADY_ROUNDS), round);
    first ??= judged;
    if (judged.dataExcursion <= MAX_DATA_EXCURSION && Math.abs(judged.slopeExcursion) <= MAX_SLOPE_EXCURSION)
      return { steady: true, ...judged, steadyFrom: start, steadyMean: average(values.slice(start)), wholeMean };
  }
  return { steady: false, ...(first ?? { dataExcursion: 0, slopeExcursion: 0 }), wholeMean };
}
