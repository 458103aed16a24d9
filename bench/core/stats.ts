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
  const mean = values.reduce((sum, value) => sum + value, 0) / n;
  // Sample standard deviation: repeats are a sample of what the disk does.
  const variance = n > 1 ? values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (n - 1) : 0;
  return { n, mean, stdev: Math.sqrt(variance), min: Math.min(...values), max: Math.max(...values) };
}

/** Pooled standard deviation of two sides; undefined when neither side was repeated. */
export function pooledStdev(a: Stat, b: Stat): number | undefined {
  if (a.n < 2 && b.n < 2) return undefined;
  return Math.sqrt((a.stdev ** 2 + b.stdev ** 2) / 2);
}

/** Relative sample standard deviation in percent; 0 for a zero mean (or a single run, whose stdev is 0). */
export function relativeStdevPct(value: Stat): number {
  return value.mean === 0 ? 0 : (value.stdev / Math.abs(value.mean)) * 100;
}
