import { Matrix } from "ml-matrix";
import {
  chiSquareUpperTail,
  type Estimate,
  estimate,
  type Fit,
  fitLeastSquares,
  fUpperTail,
  leverages,
  type ModelSpec,
  modelRow,
  type Point,
  parameterCount,
  satterthwaiteDf,
  t95,
} from "../core/linear-model.js";
import { pooledVariance } from "../core/stats.js";

// The statistics behind the Effects section. The variant is the unit: a variant's runs share its placement, its
// zvol's allocation, its guest, so its own offset is error, and the model is fitted to each variant's mean log
// ratio, weighted by the inverse of that mean's variance (its own offset's variance plus its runs' over their
// count), with the variants' degrees of freedom. The baseline is measured too: the variance of its mean adds to
// every interval of a ratio to it. Where the design leaves variants beside the model, their spread is tested
// against the runs' (lack of fit).

/** A variant measured: its point of the axes, and the log of each run's IOPS over the baseline's geometric mean. */
export interface VariantRuns {
  point: Point;
  logs: number[];
  /** When its runs were measured, on average: from the baseline's mean time, in spans of the whole run. */
  time?: number;
}

/** The baseline's runs: the log of each one's IOPS and, when known, its time (as VariantRuns' time). */
export interface BaselineRuns {
  logs: number[];
  times?: number[];
}

/** The variance of the log of the baseline's mean, and where it comes from. */
export interface BaselineSpread {
  variance: number;
  df: number;
  /**
   * `runs`: its own runs; `layer`: one run, with the layer's run-to-run spread; `fit`: nothing was repeated, the
   * variants' spread about the model stands for a run's; `unknown`: nothing repeated and no spread left to tell.
   */
  source: "runs" | "layer" | "fit" | "unknown";
}

export interface LackOfFit {
  f: number;
  df1: number;
  df2: number;
  p: number;
}

export interface EffectFit {
  /** The variant-level weighted fit: `sigma` is the scale of the weighted residuals, on `residualDf` (V - p). */
  fit: Fit;
  /** The between-variant variance (a variant's own offset), by the method of moments; 0 when none is seen. */
  between: number;
  /** The runs' variance about their variant's mean, pooled over the variants, when any was repeated. */
  pureError?: { variance: number; df: number };
  baseline: BaselineSpread;
  /** The variants' spread about the model against the runs' (an F test), where both have degrees of freedom. */
  lackOfFit?: LackOfFit;
  /**
   * The drift the model took out: the change of log IOPS from the run's first measurement to its last, when the
   * variants were measured in an order that lets it be told from the axes' effects.
   */
  drift?: Estimate;
  /** The variants' run spreads differ (Bartlett's test): the intervals then sum the variants' own. */
  spreadsDiffer?: { statistic: number; p: number };
  /**
   * Where spreads differ: each variant mean's row, weight, variance and that variance's degrees of freedom, for
   * estimates whose error is summed from the variants' own (Welch-Satterthwaite) rather than scaled from the fit's.
   */
  means?: Array<{ row: number[]; weight: number; variance: number; df: number }>;
}

/**
 * The drift is fitted only where the order of measurement leaves at least this share of the times' spread beside
 * the factors (a variance inflation of 5 at most): measured in the cross product's order, time is the factors. In
 * random order a main-effects design of 12 variants and 9 parameters leaves about a quarter: at a share of 0.5 the
 * drift was fitted in 14 % of them, at 0.2 in 65 % (coverage 97.9 % and 96.8 % with a 0.5 % drift per variant).
 */
const DRIFT_UNCONFOUNDED_SHARE = 0.2;

const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

/**
 * The baseline mean's variance: from its own runs, else its one run with the layer's run-to-run spread, else (one
 * run of everything, what most users run) with the variants' spread about the model on its V - p degrees of freedom.
 * Taken as 0 there, the intervals held the truth 59 % of the time.
 */
function baselineSpread(
  baseline: BaselineRuns,
  drift: Estimate | undefined,
  pureError: { variance: number; df: number } | undefined,
  residual: { variance: number; df: number } | undefined,
): BaselineSpread {
  const runs = baseline.logs.length;
  const own = pooledVariance([detrended(baseline, drift)]);
  if (own) return { variance: ownVariance(own, baseline, drift) / runs, df: own.df, source: "runs" };
  if (pureError) return { variance: pureError.variance / runs, df: pureError.df, source: "layer" };
  if (residual) return { variance: residual.variance / runs, df: residual.df, source: "fit" };
  return { variance: 0, df: Number.POSITIVE_INFINITY, source: "unknown" };
}

/**
 * The model with a drift term when the variants' times tell it from the factors and leave the error degrees of
 * freedom; else the model as given. Random order makes time nearly orthogonal to the axes; the cross product's order
 * makes it a sum of them (2x2x2: t = 4a + 2b + c), and drift then reads as the slowest axis's effect.
 */
function withDriftWhereEstimable(spec: ModelSpec, means: Array<{ point: Point; time?: number }>): ModelSpec {
  const times = means.map((entry) => entry.time);
  if (spec.drift || times.some((time) => time === undefined)) return spec;
  const centre = mean(times as number[]);
  const spread = (times as number[]).reduce((sum, time) => sum + (time - centre) ** 2, 0);
  if (spread === 0 || means.length - parameterCount(spec) < 2) return spec;
  const explained = fitLeastSquares(
    spec,
    means.map((entry) => ({ point: entry.point, y: entry.time as number })),
  );
  if (!explained || explained.sigma === undefined) return spec;
  const unexplained = (explained.sigma ** 2 * explained.residualDf) / spread;
  return unexplained >= DRIFT_UNCONFOUNDED_SHARE ? { ...spec, drift: true } : spec;
}

/**
 * The model fitted to the variants' means: undefined when they do not estimate every parameter. With the runs'
 * times, a drift over the run is fitted beside the factors where the order allows, and taken out of the baseline's
 * runs before their spread is read.
 */
export function fitVariants(spec: ModelSpec, variants: VariantRuns[], baseline: BaselineRuns): EffectFit | undefined {
  const means = variants.map((variant) => ({
    point: variant.point,
    y: mean(variant.logs),
    n: variant.logs.length,
    ...(variant.time !== undefined && baseline.times && { time: variant.time }),
  }));
  const model = withDriftWhereEstimable(spec, means);
  const pureError = pooledVariance(variants.map((variant) => variant.logs));
  const unweighted = fitLeastSquares(model, means);
  if (!unweighted) return undefined;
  const dfModel = unweighted.residualDf;
  // tau² by the method of moments: E[RSS] = sum (1 - h) (tau² + sigma²/n) for the unweighted fit of the means.
  let between = 0;
  if (dfModel > 0 && unweighted.sigma !== undefined) {
    const rss = unweighted.sigma ** 2 * dfModel;
    const h = leverages(unweighted, means);
    const runShare = pureError
      ? means.reduce((sum, entry, index) => sum + ((1 - h[index]) * pureError.variance) / entry.n, 0)
      : 0;
    between = Math.max(0, (rss - runShare) / dfModel);
  }
  // Without repeats anywhere the runs' variance is unknown, and runs that agree exactly tell nothing of it: every
  // mean weighs the same.
  const weightOf = (n: number) =>
    pureError && between + pureError.variance > 0 ? 1 / (between + pureError.variance / n) : 1;
  const fit = fitLeastSquares(
    model,
    means.map((entry) => ({ ...entry, weight: weightOf(entry.n) })),
  );
  if (!fit) return undefined;
  let lackOfFit: LackOfFit | undefined;
  if (pureError && dfModel > 0) {
    // The classical test: the means' n-weighted spread about the model against the runs' about their means.
    const byRuns = fitLeastSquares(
      model,
      means.map((entry) => ({ ...entry, weight: entry.n })),
    );
    if (byRuns?.sigma !== undefined) {
      const f = byRuns.sigma ** 2 / pureError.variance;
      lackOfFit = { f, df1: dfModel, df2: pureError.df, p: fUpperTail(f, dfModel, pureError.df) };
    }
  }
  const differ = pureError && spreadsDiffer(variants.map((variant) => variant.logs));
  const drift = model.drift ? estimate(fit, driftContrast(fit)) : undefined;
  return {
    fit,
    between,
    ...(pureError && { pureError }),
    baseline: baselineSpread(
      baseline,
      drift,
      pureError,
      dfModel > 0 && unweighted.sigma !== undefined ? { variance: unweighted.sigma ** 2, df: dfModel } : undefined,
    ),
    ...(lackOfFit && { lackOfFit }),
    ...(drift && { drift }),
    ...(differ &&
      pureError && {
        spreadsDiffer: differ,
        means: means.map((entry, index) => {
          // Its own runs' variance where it has some; a variant run once takes the pooled one.
          const own = pooledVariance([variants[index].logs]) ?? pureError;
          return {
            row: modelRow(model, entry.point, entry.time),
            weight: weightOf(entry.n),
            variance: between + own.variance / entry.n,
            df: own.df,
          };
        }),
      }),
  };
}

/**
 * Bartlett's p-value under which spreads are said to differ: at 0.01 a main-effects design with one level 5x noisier
 * was told 73 % of the time and that level's intervals held 91.5 %; at 0.05, 83 % and 94 %, while spreads alike
 * are said to differ 3 % of the time (a 30 % interaction then flagged 95 % of the time, not 98 %).
 */
const SPREADS_DIFFER_P = 0.05;

/**
 * Bartlett's test that groups of values share one variance (values normal: log IOPS are near enough), over the
 * groups of two values or more; undefined when they do not differ at SPREADS_DIFFER_P or fewer than three tell.
 */
function spreadsDiffer(groups: number[][]): { statistic: number; p: number } | undefined {
  const own = groups.flatMap((values) => {
    const spread = pooledVariance([values]);
    return spread && spread.variance > 0 ? [spread] : [];
  });
  if (own.length < 3) return undefined;
  const df = own.reduce((sum, entry) => sum + entry.df, 0);
  const pooled = own.reduce((sum, entry) => sum + entry.variance * entry.df, 0) / df;
  const correction = 1 + (own.reduce((sum, entry) => sum + 1 / entry.df, 0) - 1 / df) / (3 * (own.length - 1));
  const statistic =
    (df * Math.log(pooled) - own.reduce((sum, entry) => sum + entry.df * Math.log(entry.variance), 0)) / correction;
  const p = chiSquareUpperTail(statistic, own.length - 1);
  return p < SPREADS_DIFFER_P ? { statistic, p } : undefined;
}

/**
 * c'beta with its standard error: where the variants' spreads differ, the estimate's variance summed from each
 * mean's own (c'beta = sum a_i ybar_i, a = W X (X'WX)^-1 c, the weights the pooled spread's, so that a variant's
 * weight does not follow its own spread's chance) on Welch-Satterthwaite's degrees of freedom; with one pooled
 * spread the noisy levels' intervals held 72-91 % of the time.
 */
export function effectEstimate(model: EffectFit, contrast: number[]): Estimate {
  const plain = estimate(model.fit, contrast);
  if (!model.means || plain.se === undefined) return plain;
  const projected = model.fit.unscaledCovariance.mmul(Matrix.columnVector(contrast)).getColumn(0);
  const parts = model.means.map((entry) => {
    const a = entry.weight * entry.row.reduce((sum, value, column) => sum + value * projected[column], 0);
    return { variance: a * a * entry.variance, df: entry.df };
  });
  const variance = parts.reduce((sum, part) => sum + part.variance, 0);
  return { value: plain.value, se: Math.sqrt(variance), df: satterthwaiteDf(parts) };
}

/** The contrast that picks the drift's coefficient, the model's last. */
const driftContrast = (fit: Fit) => fit.coefficients.map((_, index) => (index === fit.coefficients.length - 1 ? 1 : 0));

/** The baseline's logs less the drift at each one's time: measured at the start, middle and end, it moved with it. */
const detrended = (baseline: BaselineRuns, drift: Estimate | undefined) =>
  baseline.logs.map((value, index) => value - (drift?.value ?? 0) * (baseline.times?.[index] ?? 0));

/**
 * The baseline's run variance about the fitted drift, less what the drift's own error puts there: its runs' spread
 * about the estimated line carries var(drift) times their times' spread, though their mean does not move with it
 * (their times average 0). Left in, a steady baseline read 1 % noisy and the intervals held 98-99 %.
 */
function ownVariance(own: { variance: number; df: number }, baseline: BaselineRuns, drift: Estimate | undefined) {
  const times = baseline.times;
  if (!drift?.se || !times) return own.variance;
  const centre = mean(times);
  const spread = times.reduce((sum, time) => sum + (time - centre) ** 2, 0);
  return Math.max(0, own.variance - (drift.se ** 2 * spread) / own.df);
}

/**
 * The critical value for the model's estimate less the baseline's mean, two independent variance estimates on their
 * own degrees of freedom (the Behrens-Fisher problem). Welch-Satterthwaite's degrees of freedom run liberal where
 * the baseline's few runs (2 degrees of freedom for three) meet a model of many: such intervals held the truth 92 %
 * of the time. There, Cochran and Cox's value (the parts' t quantiles weighted by their variances; Experimental
 * Designs, 1950) held it 95-97.5 %; where the two have degrees of freedom alike, Welch-Satterthwaite's held 94-96 %
 * (20,000 draws for each pair of degrees of freedom and share of the variance).
 */
function criticalValue(model: { variance: number; df: number }, baseline: { variance: number; df: number }): number {
  const total = model.variance + baseline.variance;
  if (baseline.variance === 0 || total === 0) return t95(model.df);
  if (model.df >= 2 * baseline.df)
    return (model.variance * t95(model.df) + baseline.variance * t95(baseline.df)) / total;
  return t95(satterthwaiteDf([model, baseline]));
}

/** A ratio to the baseline with its 95 % interval: the model's variance and the baseline mean's, combined. */
export function ratioInterval(model: EffectFit, value: Estimate): { low?: number; high?: number } {
  if (value.se === undefined || model.fit.residualDf <= 0) return {};
  const half =
    criticalValue({ variance: value.se ** 2, df: value.df ?? model.fit.residualDf }, model.baseline) *
    Math.sqrt(value.se ** 2 + model.baseline.variance);
  return { low: Math.exp(value.value - half), high: Math.exp(value.value + half) };
}

/**
 * The 95 % interval a new variant's measured mean ratio falls in (a confirmation): the prediction's variance, the
 * variant's own offset and its runs' spread; the baseline's cancels, both being ratios to the same mean.
 */
export function predictionInterval(
  model: EffectFit,
  contrast: number[],
  runs: number,
): { value: number; low?: number; high?: number } {
  const predicted = estimate(model.fit, contrast);
  if (predicted.se === undefined || model.fit.sigma === undefined) return { value: predicted.value };
  // The weighted residuals' scale times the variance model of one mean (1 when no run was repeated).
  const own = model.pureError ? model.between + model.pureError.variance / runs : 1;
  const half = t95(model.fit.residualDf) * Math.sqrt(predicted.se ** 2 + model.fit.sigma ** 2 * own);
  return { value: predicted.value, low: predicted.value - half, high: predicted.value + half };
}
