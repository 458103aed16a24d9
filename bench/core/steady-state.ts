// Did a run settle? SNIA's Solid State Storage Performance Test Specification (PTS), Version 2.0.2 (SNIA
// Standard, October 1, 2020), defines steady state over a measurement window of five rounds: the data excursion
// (the largest round less the smallest) within 20 % of the window's average, and the slope excursion (the best
// linear fit's rise across the window) within 10 % of it. Here a round is a fifth of a run's seconds, the last
// fifths when they do not divide evenly, so that a run's settling is judged on its own series.

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

export interface SteadyState {
  steady: boolean;
  /** (max - min) of the rounds' means over their average. */
  dataExcursion: number;
  /** The fitted line's rise from the first round to the last over the average, its sign kept. */
  slopeExcursion: number;
}

/** The judgment of a series of values (IOPS per second); undefined when it is shorter than five rounds. */
export function steadyState(values: number[]): SteadyState | undefined {
  const perRound = Math.floor(values.length / STEADY_ROUNDS);
  if (perRound === 0) return undefined;
  const window = values.slice(values.length - perRound * STEADY_ROUNDS);
  const rounds = Array.from({ length: STEADY_ROUNDS }, (_, round) => {
    const part = window.slice(round * perRound, (round + 1) * perRound);
    return part.reduce((sum, value) => sum + value, 0) / part.length;
  });
  const average = rounds.reduce((sum, value) => sum + value, 0) / rounds.length;
  if (average <= 0) return { steady: false, dataExcursion: Number.POSITIVE_INFINITY, slopeExcursion: 0 };
  // Least squares over x = 0..4: slope = sum((x - 2)(y - average)) / sum((x - 2)^2).
  const center = (STEADY_ROUNDS - 1) / 2;
  const slope =
    rounds.reduce((sum, value, round) => sum + (round - center) * (value - average), 0) /
    rounds.reduce((sum, _, round) => sum + (round - center) ** 2, 0);
  const dataExcursion = (Math.max(...rounds) - Math.min(...rounds)) / average;
  const slopeExcursion = (slope * (STEADY_ROUNDS - 1)) / average;
  return {
    steady: dataExcursion <= MAX_DATA_EXCURSION && Math.abs(slopeExcursion) <= MAX_SLOPE_EXCURSION,
    dataExcursion,
    slopeExcursion,
  };
}
