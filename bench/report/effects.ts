import { LAYERS_BOTTOM_UP } from "../core/layers.js";
import {
  type Estimate,
  type Factor,
  type Fit,
  fitLeastSquares,
  marginalMean,
  type Point,
  parameterCount,
  predict,
  t95,
} from "../core/linear-model.js";
import type { DesignRecord, Layer } from "../core/results.js";
import { levelLabel } from "../variants/vm-variants.js";
import type { ReportData, ReportPanel, ReportVariant } from "./rows.js";

// Which setting matters, and what each layer costs: per workload, the variants' IOPS as a ratio of the baseline's,
// by the value each variant has on an axis (cache, iothread, replicas...), and by layer. The effects are fitted by
// least squares on the log of the ratio, so that a designed subset of the variants (bench/variants/design.ts)
// estimates them as a full cross product does.

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
  /** Among the design's candidates (or the measured variants), the model's best and worst. */
  best?: Prediction;
  worst?: Prediction;
  /** Variants measured to check the model, left out of its fit: prediction beside measurement. */
  confirmations: Prediction[];
}

export interface LayerStep {
  layer: Layer;
  best: { variant: ReportVariant; ratio: number };
  median: number;
  n: number;
}

export interface PanelLayers {
  panel: ReportPanel;
  steps: LayerStep[];
}

export const geometricMean = (values: number[]) =>
  Math.exp(values.reduce((sum, value) => sum + Math.log(value), 0) / values.length);

const baselineIops = (panel: ReportPanel) => panel.cells.find((cell) => cell.variant.baseline)?.summary.iops?.mean;

/** Each non-baseline variant's IOPS over the baseline's in a panel. */
export function ratios(panel: ReportPanel): Array<{ variant: ReportVariant; ratio: number }> {
  const base = baselineIops(panel);
  if (!base) return [];
  return panel.cells.flatMap((cell) => {
    const iops = cell.summary.iops?.mean;
    return !cell.variant.baseline && iops && iops > 0 ? [{ variant: cell.variant, ratio: iops / base }] : [];
  });
}

/**
 * The option keys that vary among a layer's variants: an axis has at least two values and fewer values than
 * variants (a key with a value per variant, a path or a StorageClass name, names the variant rather than sorts it).
 */
export function axesOf(variants: ReportVariant[]): string[] {
  const keys = [...new Set(variants.flatMap((entry) => Object.keys(entry.variant.options)))];
  return keys.filter((key) => {
    const values = new Set(variants.map((entry) => optionLevel(entry, key)));
    return values.size >= 2 && values.size < variants.length;
  });
}

/** A variant's option as a design's level names it (iothread "on", not true). */
const optionLevel = (entry: ReportVariant, key: string) => {
  const value = entry.variant.options[key];
  return value === undefined ? "–" : levelLabel(key, value);
};

/** The log of each run's IOPS over the baseline's mean: the response the model fits. */
function logRatios(panel: ReportPanel, entry: ReportVariant, base: number): number[] {
  const workload = entry.variant.workloads.find((candidate) => candidate.id === panel.workloadId);
  return (workload?.runs ?? []).flatMap((run) => {
    const iops = run[panel.direction]?.iops;
    return iops && iops > 0 ? [Math.log(iops / base)] : [];
  });
}

const interval = (value: Estimate, df: number) =>
  value.se === undefined || df <= 0
    ? {}
    : { low: Math.exp(value.value - t95(df) * value.se), high: Math.exp(value.value + t95(df) * value.se) };

interface Measured {
  entry: ReportVariant;
  point: Point;
  logs: number[];
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
          Object.fromEntries(design.factors.map((factor) => [factor.name, optionLevel(entry, factor.name)]));
        return design.factors.every((factor) => factor.levels.includes(point[factor.name])) ? point : undefined;
      },
    };
  }
  const factors = axesOf(inLayer).map((name) => ({
    name,
    levels: [...new Set(inLayer.map((entry) => optionLevel(entry, name)))],
  }));
  return {
    factors,
    pointOf: (entry) => Object.fromEntries(factors.map((factor) => [factor.name, optionLevel(entry, factor.name)])),
  };
}

function axisEffects(fits: Array<{ factor: Factor; fit: Fit }>, measured: Measured[]): AxisEffect[] {
  return fits
    .map(({ factor, fit }): AxisEffect => {
      const values = factor.levels.map((level) => {
        const mean = marginalMean(fit, factor.name, level);
        return {
          value: level,
          ratio: Math.exp(mean.value),
          ...interval(mean, fit.residualDf),
          n: measured.filter((entry) => entry.point[factor.name] === level).length,
        };
      });
      values.sort((a, b) => b.ratio - a.ratio);
      return { axis: factor.name, values, moves: values[0].ratio / (values.at(-1)?.ratio ?? values[0].ratio) };
    })
    .sort((a, b) => b.moves - a.moves);
}

function prediction(fit: Fit, id: string, point: Point, measured: Measured | undefined, withRuns: boolean): Prediction {
  const predicted = predict(fit, point);
  // A confirmation's runs carry their own noise: the interval is a prediction interval for their mean.
  const se =
    withRuns && predicted.se !== undefined && fit.sigma !== undefined && measured
      ? Math.sqrt(predicted.se ** 2 + fit.sigma ** 2 / measured.logs.length)
      : predicted.se;
  return {
    id,
    ratio: Math.exp(predicted.value),
    ...interval({ value: predicted.value, ...(se !== undefined && { se }) }, fit.residualDf),
    ...(measured && { measured: geometricMean(measured.logs.map(Math.exp)) }),
  };
}

function layerEffects(panel: ReportPanel, layer: Layer, data: ReportData): PanelEffects | undefined {
  const base = baselineIops(panel);
  if (!base) return undefined;
  const inLayer = panel.cells
    .filter((cell) => !cell.variant.baseline && cell.variant.variant.layer === layer)
    .map((cell) => cell.variant);
  const design = data.documents.flatMap((document) => document.designs ?? []).find((record) => record.layer === layer);
  const { factors, pointOf } = factorSpace(inLayer, design);
  if (factors.length === 0) return undefined;
  const all = inLayer.flatMap((entry): Measured[] => {
    const point = pointOf(entry);
    const logs = logRatios(panel, entry, base);
    return point && logs.length > 0 ? [{ entry, point, logs }] : [];
  });
  const confirmIds = design?.confirm ?? [];
  const measured = all.filter((entry) => !confirmIds.includes(entry.entry.variant.id));
  const observations = measured.flatMap(({ point, logs }) => logs.map((y) => ({ point, y })));
  const spec = { factors, interactions: design?.interactions ?? [] };
  const joint = fitLeastSquares(spec, observations);
  const fits = joint
    ? factors.map((factor) => ({ factor, fit: joint }))
    : factors.flatMap((factor) => {
        const alone = fitLeastSquares({ factors: [factor], interactions: [] }, observations);
        return alone ? [{ factor, fit: alone }] : [];
      });
  if (fits.length === 0) return undefined;
  const byId = new Map(all.map((entry) => [entry.entry.variant.id, entry]));
  const candidates =
    design?.candidates ?? measured.map((entry) => ({ id: entry.entry.variant.id, point: entry.point }));
  const predictions = joint
    ? candidates
        .map((candidate) => prediction(joint, candidate.id, candidate.point, byId.get(candidate.id), false))
        .sort((a, b) => b.ratio - a.ratio)
    : [];
  return {
    panel,
    layer,
    axes: axisEffects(fits, measured),
    fit: joint ? "least-squares" : "one-way",
    ...(design && { design }),
    variants: measured.length,
    runs: observations.length,
    parameters: parameterCount(joint ? spec : { factors: [], interactions: [] }),
    ...(predictions.length > 0 && { best: predictions[0], worst: predictions.at(-1) }),
    confirmations: joint
      ? all
          .filter((entry) => confirmIds.includes(entry.entry.variant.id))
          .map((entry) => prediction(joint, entry.entry.variant.id, entry.point, entry, true))
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

/** Per workload: the baseline, then each layer above it, its best variant and its median ratio; none for directories alone. */
export function panelLayers(data: ReportData): PanelLayers[] {
  return data.panels.flatMap((panel) => {
    const measured = ratios(panel);
    const layers = LAYERS_BOTTOM_UP.filter((layer) => measured.some((entry) => entry.variant.variant.layer === layer));
    const steps = layers.map((layer): LayerStep => {
      const inLayer = measured
        .filter((entry) => entry.variant.variant.layer === layer)
        .sort((a, b) => b.ratio - a.ratio);
      const middle = inLayer.map((entry) => entry.ratio);
      const half = Math.floor(middle.length / 2);
      const median = middle.length % 2 === 1 ? middle[half] : (middle[half - 1] + middle[half]) / 2;
      return { layer, best: inLayer[0], median, n: inLayer.length };
    });
    // Local directories are peers, not layers: a report of them alone has no layer to step through.
    return steps.some((step) => step.layer !== "local") ? [{ panel, steps }] : [];
  });
}
