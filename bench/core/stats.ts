// Mean and spread of repeated runs: plain functions, apart from the results schema, so that what needs them alone
// (the --repeat auto rule, which the CLI loads to declare its options) loads no schema library.

/** n, mean, sample standard deviation, min and max of a metric over runs. */
export interface Stat {
  n: number;
  mean: number;
  stdev: number;
  min: number;
  max: number;
}

export function stat(values: number[]): Stat {
  const n = values.length;
  let sum = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const value of values) {
    sum += value;
    if (value < min) min = value;
    if (value > max) max = value;
  }
  const mean = sum / n;
  // Sample standard deviation: repeats are a sample of what the disk does.
  let squares = 0;
  for (const value of values) squares += (value - mean) ** 2;
  return { n, mean, stdev: n > 1 ? Math.sqrt(squares / (n - 1)) : 0, min, max };
}

/** The middle value, or the mean of the two middle ones. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * Pooled standard deviation of two sides, each variance weighted by its degrees of freedom (n - 1); undefined when
 * neither side was repeated. A side run once adds nothing to it.
 */
export function pooledStdev(a: Stat, b: Stat): number | undefined {
  const df = Math.max(0, a.n - 1) + Math.max(0, b.n - 1);
  if (df === 0) return undefined;
  return Math.sqrt((Math.max(0, a.n - 1) * a.stdev ** 2 + Math.max(0, b.n - 1) * b.stdev ** 2) / df);
}

/** Relative sample standard deviation in percent; 0 for a zero mean (or a single run, whose stdev is 0). */
export function relativeStdevPct(value: Stat): number {
  return value.mean === 0 ? 0 : (value.stdev / Math.abs(value.mean)) * 100;
}

/**
 * Values' variance about their group's mean, pooled over the groups of two or more (each group's sum of squares
 * over its n - 1): the runs' spread about their variant's mean. Undefined when no group has two.
 */
export function pooledVariance(groups: number[][]): { variance: number; df: number } | undefined {
  let squares = 0;
  let df = 0;
  for (const values of groups) {
    if (values.length < 2) continue;
    const centre = values.reduce((sum, value) => sum + value, 0) / values.length;
    squares += values.reduce((sum, value) => sum + (value - centre) ** 2, 0);
    df += values.length - 1;
  }
  return df > 0 ? { variance: squares / df, df } : undefined;
}
