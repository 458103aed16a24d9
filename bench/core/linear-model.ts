import jstat from "jstat";
import { CholeskyDecomposition, inverse, Matrix } from "ml-matrix";

// Least squares for categorical factors (a storage option is a factor, its values are levels): the model behind
// the effects in the report and the choice of a designed experiment's variants. Treatment coding: a column of ones,
// one indicator per level other than the factor's first (its reference), one per pair of such levels for each
// interaction asked for.

export interface Factor {
  name: string;
  /** The first is the reference level. */
  levels: string[];
}

export interface ModelSpec {
  factors: Factor[];
  interactions: Array<[string, string]>;
  /**
   * A last column linear in each observation's `time`: a machine that drifts over the run (an SSD warming, a node
   * slowing). Estimable when the variants were measured in an order that does not follow the factors.
   */
  drift?: boolean;
}

/** A point of the factor space: a level per factor. */
export type Point = Record<string, string>;

type Column = { terms: Array<{ factor: string; level: string }> };

// A report fits and predicts thousands of times with a few specs: each spec's columns are made once.
const columnsOf = new WeakMap<ModelSpec, Column[]>();

function columns(spec: ModelSpec): Column[] {
  let known = columnsOf.get(spec);
  if (!known) {
    known = makeColumns(spec);
    columnsOf.set(spec, known);
  }
  return known;
}

function makeColumns(spec: ModelSpec): Column[] {
  const byName = new Map(spec.factors.map((factor) => [factor.name, factor]));
  const main = spec.factors.flatMap((factor) =>
    factor.levels.slice(1).map((level): Column => ({ terms: [{ factor: factor.name, level }] })),
  );
  const pairs = spec.interactions.flatMap(([a, b]) => {
    const first = byName.get(a);
    const second = byName.get(b);
    if (!first || !second) throw new Error(`interaction ${a} x ${b}: not a factor of the model`);
    return first.levels.slice(1).flatMap((levelA) =>
      second.levels.slice(1).map(
        (levelB): Column => ({
          terms: [
            { factor: a, level: levelA },
            { factor: b, level: levelB },
          ],
        }),
      ),
    );
  });
  return [{ terms: [] }, ...main, ...pairs];
}

export function parameterCount(spec: ModelSpec): number {
  return columns(spec).length + (spec.drift ? 1 : 0);
}

/**
 * The model's row for a point: 1 and the indicators of its levels, and with drift its time (0, the baseline's
 * time, for what is predicted).
 */
export function modelRow(spec: ModelSpec, point: Point, time = 0): number[] {
  const row = columns(spec).map((column): number =>
    column.terms.every(({ factor, level }) => point[factor] === level) ? 1 : 0,
  );
  if (spec.drift) row.push(time);
  return row;
}

/**
 * The mean of the model's rows over the whole grid of levels, with some factors held at a level: the
 * contrast whose estimate is a marginal mean. Factors are independent on the grid, so a column's mean is the
 * product over its terms of 1 or 0 (a held factor) or 1/levels (a free one).
 */
function averageRow(spec: ModelSpec, held: Point): number[] {
  const levelsOf = new Map(spec.factors.map((factor) => [factor.name, factor.levels.length]));
  const row = columns(spec).map((column) =>
    column.terms.reduce((product, { factor, level }) => {
      const heldLevel = held[factor];
      if (heldLevel !== undefined) return heldLevel === level ? product : 0;
      return product / (levelsOf.get(factor) ?? 1);
    }, 1),
  );
  if (spec.drift) row.push(0);
  return row;
}

/** log det of an information matrix X'X, -Infinity when it is singular. */
function logDet(information: Matrix): number {
  const cholesky = new CholeskyDecomposition(information);
  if (!cholesky.isPositiveDefinite()) return Number.NEGATIVE_INFINITY;
  const lower = cholesky.lowerTriangularMatrix;
  const pivots = Array.from({ length: lower.rows }, (_, index) => lower.get(index, index) ** 2);
  // X'X holds counts: a pivot this small is a singular matrix that rounding made look positive definite.
  if (pivots.some((pivot) => pivot < 1e-9)) return Number.NEGATIVE_INFINITY;
  return pivots.reduce((sum, pivot) => sum + Math.log(pivot), 0);
}

/** log det(X'X) of the rows, -Infinity when the rows do not estimate every parameter. */
export function logDetInformation(rows: number[][]): number {
  if (rows.length === 0) return Number.NEGATIVE_INFINITY;
  const x = new Matrix(rows);
  return logDet(x.transpose().mmul(x));
}

export interface Observation {
  point: Point;
  y: number;
  /** Where it was measured in the run, for a model with drift (0 when absent). */
  time?: number;
  /** Weighted least squares: the inverse of the observation's variance, up to a common scale (1 when absent). */
  weight?: number;
}

export interface Fit {
  spec: ModelSpec;
  coefficients: number[];
  /** (X'X)^-1: times sigma² it is the coefficients' covariance. */
  unscaledCovariance: Matrix;
  /** Observations less parameters; 0 leaves the error unknown. */
  residualDf: number;
  /** The residual standard deviation, when residualDf > 0. */
  sigma?: number;
}

/**
 * (Weighted) least squares of y on the model; undefined when the observations do not estimate every parameter.
 * With weights, `sigma` is the scale of the weighted residuals: 1 when the weights are the inverse variances.
 */
export function fitLeastSquares(spec: ModelSpec, observations: Observation[]): Fit | undefined {
  if (observations.length === 0) return undefined;
  const x = new Matrix(observations.map((observation) => modelRow(spec, observation.point, observation.time)));
  const weights = observations.map((observation) => observation.weight ?? 1);
  const xtw = x.transpose().mulRowVector(weights);
  const information = xtw.mmul(x);
  if (logDet(information) === Number.NEGATIVE_INFINITY) return undefined;
  const y = Matrix.columnVector(observations.map((observation) => observation.y));
  const unscaledCovariance = inverse(information);
  const beta = unscaledCovariance.mmul(xtw).mmul(y);
  const coefficients = beta.getColumn(0);
  const residuals = y.clone().sub(x.mmul(beta)).getColumn(0);
  const residualDf = observations.length - coefficients.length;
  const rss = residuals.reduce((sum, value, index) => sum + weights[index] * value * value, 0);
  return {
    spec,
    coefficients,
    unscaledCovariance,
    residualDf,
    ...(residualDf > 0 && { sigma: Math.sqrt(rss / residualDf) }),
  };
}

/**
 * Each observation's leverage under an unweighted fit of them: the diagonal of X (X'X)^-1 X', from the fit's own
 * inverse.
 */
export function leverages(fit: Fit, observations: Array<{ point: Point; time?: number }>): number[] {
  const rows = observations.map((observation) => modelRow(fit.spec, observation.point, observation.time));
  const projected = new Matrix(rows).mmul(fit.unscaledCovariance).to2DArray();
  return rows.map((row, index) => row.reduce((sum, value, column) => sum + value * projected[index][column], 0));
}

export interface Estimate {
  value: number;
  /** Standard error; absent when the fit left no degrees of freedom for the error. */
  se?: number;
  /** The standard error's degrees of freedom, where they are not the fit's residual ones. */
  df?: number;
}

/** c'beta alone. */
const contrastValue = (fit: Fit, contrast: number[]) =>
  contrast.reduce((sum, weight, index) => sum + weight * fit.coefficients[index], 0);

/** The estimate of c'beta, with its standard error. */
export function estimate(fit: Fit, contrast: number[]): Estimate {
  const value = contrastValue(fit, contrast);
  if (fit.sigma === undefined) return { value };
  const c = Matrix.columnVector(contrast);
  const variance = c.transpose().mmul(fit.unscaledCovariance).mmul(c).get(0, 0);
  return { value, se: fit.sigma * Math.sqrt(Math.max(variance, 0)) };
}

/**
 * The mean response with one factor held at a level, averaged over the grid of the others; with `cells`, over
 * those points (each at that level) instead: a marginal mean over the cells that exist.
 */
export function marginalMean(fit: Fit, factor: string, level: string, cells?: Point[]): Estimate {
  return estimate(fit, marginalContrast(fit.spec, factor, level, cells));
}

/** The contrast whose estimate is marginalMean's. */
export function marginalContrast(spec: ModelSpec, factor: string, level: string, cells?: Point[]): number[] {
  if (!cells || cells.length === 0) return averageRow(spec, { [factor]: level });
  const rows = cells.map((point) => modelRow(spec, point));
  return rows[0].map((_, column) => rows.reduce((sum, row) => sum + row[column], 0) / rows.length);
}

export function predict(fit: Fit, point: Point): Estimate {
  return estimate(fit, modelRow(fit.spec, point));
}

/** The model's value at a point without its standard error: ranking thousands of candidates needs no more. */
export function predictedValue(fit: Fit, point: Point): number {
  return contrastValue(fit, modelRow(fit.spec, point));
}

/** P(X > x) for a chi-square on df degrees of freedom: the p-value of Bartlett's test. */
export function chiSquareUpperTail(x: number, df: number): number {
  return 1 - jstat.jStat.chisquare.cdf(x, df);
}

/** P(F > f) on (df1, df2) degrees of freedom: the p-value of an F test. */
export function fUpperTail(f: number, df1: number, df2: number): number {
  return 1 - jstat.jStat.centralF.cdf(f, df1, df2);
}

/** P(|T| > |t|) on df degrees of freedom: the two-sided p-value of a t test. */
export function tTwoSided(t: number, df: number): number {
  // Beyond a million degrees of freedom t is the normal, and jstat wants a finite df.
  return 2 * (1 - jstat.jStat.studentt.cdf(Math.abs(t), Math.min(df, 1e6)));
}

/**
 * The degrees of freedom of a sum of independent variance estimates (Welch-Satterthwaite): each part's variance
 * and its own degrees of freedom. Parts of zero variance add nothing.
 */
export function satterthwaiteDf(parts: Array<{ variance: number; df: number }>): number {
  const total = parts.reduce((sum, part) => sum + part.variance, 0);
  const denominator = parts.reduce((sum, part) => (part.variance > 0 ? sum + part.variance ** 2 / part.df : sum), 0);
  return denominator === 0 ? Number.POSITIVE_INFINITY : total ** 2 / denominator;
}

const quantiles = new Map<number, number>();

/**
 * The half-width multiplier of a two-sided 95 % interval on `df` degrees of freedom, fractional ones as they are
 * (kept: a report asks thousands of times); beyond 1000 the normal's. On the exact df, as tTwoSided's p-value is:
 * a df taken down to a tenth gave one pair p < 0.05 with 1.0 inside its interval.
 */
export function t95(df: number): number {
  if (!Number.isFinite(df) || df > 1000) return 1.959963984540054;
  let value = quantiles.get(df);
  if (value === undefined) {
    value = jstat.jStat.studentt.inv(0.975, df);
    quantiles.set(df, value);
  }
  return value;
}
