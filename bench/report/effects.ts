import {
  type Estimate,
  type Factor,
  marginalContrast,
  modelRow,
  type Point,
  parameterCount,
  predict,
  predictedValue,
} from "../core/linear-model.js";
import type { DesignRecord, Layer } from "../core/results.js";
import { levelLabel, NOT_APPLICABLE } from "../variants/vm-variants.js";
import {
  type BaselineRuns,
  type BaselineSpread,
  type EffectFit,
  effectEstimate,
  fitVariants,
  type LackOfFit,
  predictionInterval,
  ratioInterval,
  type VariantRuns,
} from "./effect-fit.js";
import type { ReportData, ReportPanel, ReportVariant } from "./rows.js";

// Which setting matters: per workload, the variants' IOPS as a ratio of the baseline's, by the value each variant
// has on an axis (cache, iothread, replicas...); what each layer costs is layer-steps.ts. The effects are fitted by
// least squares on the log of the ratio, so that a designed subset of the variants (bench/variants/design.ts)
// estimates them as a full cross product does; effect-fit.ts holds the statistics (the variant as the unit, the
// baseline's own spread, lack of fit).

/** One value of an axis: its ratio to the baseline averaged over the other axes' values, 95 % interval, n. */
export interface AxisValueEffect {
  value: string;
  ratio: number;
  /** The 95 % interval; absent when the fit left no degrees of freedom for the error. */
  low?: number;
  high?: number;
  /** Measured variants with this value. */
  n: number;
}

export interface AxisEffect {
  axis: string;
  values: AxisValueEffect[];
  /** Best value's ratio over the worst's: how much the axis moves the number. */
  moves: number;
}

/** What the fitted model says of one variant, beside what was measured of it. */
export interface Prediction {
  id: string;
  ratio: number;
  low?: number;
  high?: number;
  /** The geometric mean of its runs' ratios, when it was measured. */
  measured?: number;
}

export interface PanelEffects {
  panel: ReportPanel;
  layer: Layer;
  /** Ranked: the axis that moves the number most first. */
  axes: AxisEffect[];
  /**
   * `least-squares`: every axis in one model (main effects and the design's interactions). `one-way`: the axes
   * vary together in the measured variants, so each is estimated alone and may carry the others' effects.
   */
  fit: "least-squares" | "one-way";
  /** How the layer's variants were chosen, when the results record it. */
  design?: DesignRecord;
  /** The variants and runs the model was fitted to, its parameters. */
  variants: number;
  runs: number;
  parameters: number;
  /** Degrees of freedom of the error: variants less parameters. */
  errorDf: number;
  /** Where the baseline mean's variance in the intervals comes from. */
  baseline?: BaselineSpread;
  /**
   * The variants' spread about the model against their runs': on p < 0.05 an interaction (or a variant's own
   * offset) the model leaves out is suspected; `confirm` names unmeasured variants that would tell.
   */
  lackOfFit?: LackOfFit & { suspected: boolean; confirm: string[] };
  /** Among the design's candidates (or the measured variants), the model's best and worst. */
  best?: Prediction;
  worst?: Prediction;
  /** Variants measured to check the model, left out of its fit: prediction beside measurement. */
  confirmations: Prediction[];
  /** The drift over the run the model took out (log IOPS, first measurement to last), where the order allowed. */
  drift?: Estimate;
  /** The variants' run spreads differ (Bartlett's test, effect-fit.ts): the intervals sum the variants' own. */
  spreadsDiffer?: { statistic: number; p: number };
}

export const geometricMean = (values: number[]) =>
  Math.exp(values.reduce((sum, value) => sum + Math.log(value), 0) / values.length);

/**
 * The option keys that vary among a layer's variants: an axis has at least two values and fewer values than
 * variants (a key with a value per variant, a path or a StorageClass name, names the variant rather than sorts it).
 */
export function axesOf(variants: ReportVariant[]): string[] {
  const keys = [...new Set(variants.flatMap((entry) => Object.keys(entry.variant.options)))];
  return keys.filter((key) => {
    const applicable = variants.filter((entry) => applies(entry, key));
    const values = new Set(applicable.map((entry) => optionLevel(entry, key)));
    return values.size >= 2 && values.size < applicable.length;
  });
}

/** A variant's option as a design's level names it (iothread "on", not true). */
const optionLevel = (entry: ReportVariant, key: string) => levelLabel(key, entry.variant.options[key]);

/**
 * Whether the variant uses the option: a librbd disk records aio as not applicable and has no volblocksize, a
 * local-path volume no replicas.
 */
const applies = (entry: ReportVariant, key: string) =>
  entry.variant.options[key] !== undefined && entry.variant.options[key] !== NOT_APPLICABLE;

/**
 * A variant's level of a factor; one the option does not apply to sits at the first level. Its other options
 * hold it apart (storage rbd has no other aio), so it moves its own cells, never the factor's effect: the fit's
 * other parameters absorb it, and averagedCells leaves its combinations out of the factor's averages.
 */
const factorLevel = (entry: ReportVariant, factor: Factor) =>
  applies(entry, factor.name) ? optionLevel(entry, factor.name) : factor.levels[0];

/** The log of each of a variant's runs' IOPS in a panel, with when the run started (seconds; NaN if unreadable). */
function runLogs(panel: ReportPanel, entry: ReportVariant): Array<{ log: number; start: number }> {
  const workload = entry.variant.workloads.find((candidate) => candidate.id === panel.workloadId);
  return (workload?.runs ?? []).flatMap((run) => {
    const iops = run[panel.direction]?.iops;
    return iops && iops > 0 ? [{ log: Math.log(iops), start: Date.parse(run.startedAt) / 1000 }] : [];
  });
}

/**
 * Each run's time as the drift term takes it: from the baseline's mean start, in spans of the panel's runs, so
 * that the effects are the baseline's time's; undefined when the runs do not tell (one instant, or unreadable).
 */
function runClock(runs: Array<{ start: number }>, baseline: Array<{ start: number }>) {
  const starts = runs.map((run) => run.start);
  const first = Math.min(...starts);
  const span = Math.max(...starts) - first;
  if (!Number.isFinite(span) || span <= 0) return undefined;
  const origin = baseline.reduce((sum, run) => sum + run.start, 0) / baseline.length;
  return (start: number) => (start - origin) / span;
}

interface Measured extends VariantRuns {
  entry: ReportVariant;
}

/** The axes as factors and each variant's point: from the design's record, else from the variants' options. */
function factorSpace(
  inLayer: ReportVariant[],
  design: DesignRecord | undefined,
): { factors: Factor[]; pointOf: (entry: ReportVariant) => Point | undefined } {
  if (design) {
    const byId = new Map(design.candidates.map((candidate) => [candidate.id, candidate.point]));
    return {
      factors: design.factors,
      // A listed variant with the axes' options sits on the grid too.
      pointOf: (entry) => {
        const point =
          byId.get(entry.variant.id) ??
          Object.fromEntries(design.factors.map((factor) => [factor.name, factorLevel(entry, factor)]));
        return design.factors.every((factor) => factor.levels.includes(point[factor.name])) ? point : undefined;
      },
    };
  }
  const factors = axesOf(inLayer).map((name) => ({
    name,
    levels: [...new Set(inLayer.filter((entry) => applies(entry, name)).map((entry) => optionLevel(entry, name)))],
  }));
  return {
    factors,
    pointOf: (entry) => Object.fromEntries(factors.map((factor) => [factor.name, factorLevel(entry, factor)])),
  };
}

/**
 * The cells a factor's level is averaged over: the combinations of the other axes valid with every level of it, so
 * that no average runs over a combination that cannot exist (aio=native with cache=writeback: the model would
 * extrapolate to it) and every level is averaged over the same ones, compared like for like. Searle, Speed and
 * Milliken define marginal means over the cells that exist ("Population marginal means in the linear model", The
 * American Statistician 34(4), 1980). `shared: false` when no combination is valid with every level: each level
 * is then averaged over its own.
 */
export function averagedCells(factor: Factor, grid: Point[]): { cells: Map<string, Point[]>; shared: boolean } {
  const names = Object.keys(grid[0] ?? {}).filter((name) => name !== factor.name);
  const keys = new Map(grid.map((point) => [point, names.map((name) => point[name]).join("\u0000")]));
  const others = (point: Point) => keys.get(point) as string;
  const levelsOf = new Map<string, Set<string>>();
  for (const point of grid) {
    const key = others(point);
    levelsOf.set(key, (levelsOf.get(key) ?? new Set()).add(point[factor.name]));
  }
  const common = new Set(
    [...levelsOf].filter(([, levels]) => levels.size === factor.levels.length).map(([key]) => key),
  );
  const shared = common.size > 0;
  const cells = new Map(
    factor.levels.map((level) => [
      level,
      grid.filter((point) => point[factor.name] === level && (!shared || common.has(others(point)))),
    ]),
  );
  return { cells, shared };
}

function axisEffects(
  fits: Array<{ factor: Factor; model: EffectFit }>,
  measured: Measured[],
  grid: Point[],
): AxisEffect[] {
  return fits
    .map(({ factor, model }): AxisEffect => {
      const { cells } = averagedCells(factor, grid);
      const values = factor.levels.map((level) => {
        const mean = effectEstimate(model, marginalContrast(model.fit.spec, factor.name, level, cells.get(level)));
        return {
          value: level,
          ratio: Math.exp(mean.value),
          ...ratioInterval(model, mean),
          n: measured.filter((entry) => entry.point[factor.name] === level && applies(entry.entry, factor.name)).length,
        };
      });
      values.sort((a, b) => b.ratio - a.ratio);
      return { axis: factor.name, values, moves: values[0].ratio / (values.at(-1)?.ratio ?? values[0].ratio) };
    })
    .sort((a, b) => b.moves - a.moves);
}

/** What the model predicts of a candidate, with its 95 % interval as a ratio to the baseline. */
function prediction(model: EffectFit, id: string, point: Point, measured: Measured | undefined): Prediction {
  const predicted: Estimate = effectEstimate(model, modelRow(model.fit.spec, point));
  return {
    id,
    ratio: Math.exp(predicted.value),
    ...ratioInterval(model, predicted),
    ...(measured && { measured: geometricMean(measured.logs.map(Math.exp)) }),
  };
}

/** A confirmation: the interval its measured mean falls in if the model holds, beside that mean. */
function confirmation(model: EffectFit, entry: Measured): Prediction {
  // Measured at its own time: with a drift, that time's value is what its runs tell.
  const predicted = predictionInterval(model, modelRow(model.fit.spec, entry.point, entry.time), entry.logs.length);
  return {
    id: entry.entry.variant.id,
    ratio: Math.exp(predicted.value),
    ...(predicted.low !== undefined && predicted.high !== undefined
      ? { low: Math.exp(predicted.low), high: Math.exp(predicted.high) }
      : {}),
    measured: geometricMean(entry.logs.map(Math.exp)),
  };
}

/** How many unmeasured variants a suspected lack of fit proposes to measure. */
const PROPOSED_CONFIRMATIONS = 3;

/** Unmeasured valid variants where the model knows least (largest prediction variance): what would tell. */
function proposedConfirmations(
  model: EffectFit,
  candidates: Array<{ id: string; point: Point }>,
  measured: Set<string>,
) {
  return candidates
    .filter((candidate) => !measured.has(candidate.id))
    .map((candidate) => ({ id: candidate.id, se: predict(model.fit, candidate.point).se ?? 0 }))
    .sort((a, b) => b.se - a.se)
    .slice(0, PROPOSED_CONFIRMATIONS)
    .map((candidate) => candidate.id);
}

/**
 * Each variant's runs as log ratios to the baseline's geometric mean, with their mean time, and the baseline's
 * runs with theirs: what the fit takes.
 */
function ratiosToBaseline(
  panel: ReportPanel,
  inLayer: ReportVariant[],
  baselineRuns: Array<{ log: number; start: number }>,
  pointOf: (entry: ReportVariant) => Point | undefined,
): { baselineLogs: BaselineRuns; all: Measured[] } {
  const center = baselineRuns.reduce((sum, run) => sum + run.log, 0) / baselineRuns.length;
  const variantRuns = inLayer.map((entry) => ({ entry, runs: runLogs(panel, entry) }));
  const clock = runClock([...baselineRuns, ...variantRuns.flatMap(({ runs }) => runs)], baselineRuns);
  const all = variantRuns.flatMap(({ entry, runs }): Measured[] => {
    const point = pointOf(entry);
    const logs = runs.map((run) => run.log - center);
    const time = clock && runs.reduce((sum, run) => sum + clock(run.start), 0) / runs.length;
    return point && logs.length > 0 ? [{ entry, point, logs, ...(time !== undefined && { time }) }] : [];
  });
  return {
    baselineLogs: {
      logs: baselineRuns.map((run) => run.log),
      ...(clock && { times: baselineRuns.map((run) => clock(run.start)) }),
    },
    all,
  };
}

function layerEffects(panel: ReportPanel, layer: Layer, data: ReportData): PanelEffects | undefined {
  const baseline = panel.cells.find((cell) => cell.variant.baseline)?.variant;
  const baselineRuns = baseline ? runLogs(panel, baseline) : [];
  if (baselineRuns.length === 0) return undefined;
  const inLayer = panel.cells
    .filter((cell) => !cell.variant.baseline && cell.variant.variant.layer === layer)
    .map((cell) => cell.variant);
  const design = data.documents.flatMap((document) => document.designs ?? []).find((record) => record.layer === layer);
  const { factors, pointOf } = factorSpace(inLayer, design);
  if (factors.length === 0) return undefined;
  const { baselineLogs, all } = ratiosToBaseline(panel, inLayer, baselineRuns, pointOf);
  const confirmIds = design?.confirm ?? [];
  const measured = all.filter((entry) => !confirmIds.includes(entry.entry.variant.id));
  const spec = { factors, interactions: design?.interactions ?? [] };
  const joint = fitVariants(spec, measured, baselineLogs);
  const fits = joint
    ? factors.map((factor) => ({ factor, model: joint }))
    : factors.flatMap((factor) => {
        const alone = fitVariants({ factors: [factor], interactions: [] }, measured, baselineLogs);
        return alone ? [{ factor, model: alone }] : [];
      });
  if (fits.length === 0) return undefined;
  const byId = new Map(all.map((entry) => [entry.entry.variant.id, entry]));
  const candidates =
    design?.candidates ?? measured.map((entry) => ({ id: entry.entry.variant.id, point: entry.point }));
  // Averages run over the combinations that can exist: the design's valid candidates, or the variants measured.
  const grid = candidates.map((candidate) => candidate.point);
  // Ranked by the predicted value; only the best and the worst get their interval.
  const ranked = joint
    ? candidates
        .map((candidate) => ({ candidate, value: predictedValue(joint.fit, candidate.point) }))
        .sort((a, b) => b.value - a.value)
    : [];
  const predictions = [ranked[0], ranked.at(-1)].flatMap((entry) =>
    joint && entry ? [prediction(joint, entry.candidate.id, entry.candidate.point, byId.get(entry.candidate.id))] : [],
  );
  const lackOfFit = joint?.lackOfFit;
  // Spreads that differ make the means scatter beyond the pooled runs' spread without any interaction.
  const suspected = lackOfFit !== undefined && lackOfFit.p < 0.05 && !joint?.spreadsDiffer;
  return {
    panel,
    layer,
    axes: axisEffects(fits, measured, grid),
    fit: joint ? "least-squares" : "one-way",
    ...(design && { design }),
    variants: measured.length,
    runs: measured.reduce((sum, entry) => sum + entry.logs.length, 0),
    // The fit's own spec: with a drift term, one parameter more than the design's.
    parameters: parameterCount(joint ? joint.fit.spec : { factors: [], interactions: [] }),
    errorDf: fits[0].model.fit.residualDf,
    baseline: fits[0].model.baseline,
    ...(joint &&
      lackOfFit && {
        lackOfFit: {
          ...lackOfFit,
          suspected,
          confirm: suspected
            ? proposedConfirmations(joint, candidates, new Set(all.map((entry) => entry.entry.variant.id)))
            : [],
        },
      }),
    ...(predictions.length > 0 && { best: predictions[0], worst: predictions.at(-1) }),
    ...(joint?.drift && { drift: joint.drift }),
    ...(joint?.spreadsDiffer && { spreadsDiffer: joint.spreadsDiffer }),
    confirmations: joint
      ? all.filter((entry) => confirmIds.includes(entry.entry.variant.id)).map((entry) => confirmation(joint, entry))
      : [],
  };
}

// The Effects table, effects.svg and heatmap.svg read the same fits: made once per report.
const fitted = new WeakMap<ReportData, PanelEffects[]>();

/** Per workload and layer with axes: each axis's effect, by least squares on the log of the ratio to the baseline. */
export function panelEffects(data: ReportData): PanelEffects[] {
  const known = fitted.get(data);
  if (known) return known;
  const effects = data.panels.flatMap((panel) => {
    const layers = [
      ...new Set(panel.cells.filter((cell) => !cell.variant.baseline).map((cell) => cell.variant.variant.layer)),
    ];
    return layers.flatMap((layer) => layerEffects(panel, layer, data) ?? []);
  });
  fitted.set(data, effects);
  return effects;
}
