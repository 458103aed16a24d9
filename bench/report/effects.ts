import type { Layer } from "../core/results.js";
import type { ReportData, ReportPanel, ReportVariant } from "./rows.js";

// Which setting matters, and what each layer costs: per workload, the variants' IOPS as a ratio of the baseline's,
// grouped by the value each variant has on an axis (cache, iothread, replicas...), and by layer.

/** One value of an axis: the geometric mean of its variants' ratios to the baseline, their range, and n. */
export interface AxisValueEffect {
  value: string;
  ratio: number;
  low: number;
  high: number;
  n: number;
}

export interface AxisEffect {
  axis: string;
  values: AxisValueEffect[];
  /** Best value's ratio over the worst's: how much the axis moves the number. */
  moves: number;
}

export interface PanelEffects {
  panel: ReportPanel;
  layer: Layer;
  /** Ranked: the axis that moves the number most first. */
  axes: AxisEffect[];
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

/** Each non-baseline variant's IOPS over the baseline's in a panel. */
export function ratios(panel: ReportPanel): Array<{ variant: ReportVariant; ratio: number }> {
  const base = panel.cells.find((cell) => cell.variant.baseline)?.summary.iops?.mean;
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
    const values = new Set(variants.map((entry) => String(entry.variant.options[key] ?? "–")));
    return values.size >= 2 && values.size < variants.length;
  });
}

export function panelEffects(data: ReportData): PanelEffects[] {
  return data.panels.flatMap((panel) => {
    const measured = ratios(panel);
    const layers = [...new Set(measured.map((entry) => entry.variant.variant.layer))];
    return layers.flatMap((layer) => {
      const inLayer = measured.filter((entry) => entry.variant.variant.layer === layer);
      const axes = axesOf(inLayer.map((entry) => entry.variant))
        .map((axis): AxisEffect => {
          const byValue = new Map<string, number[]>();
          for (const { variant, ratio } of inLayer) {
            const value = String(variant.variant.options[axis] ?? "–");
            byValue.set(value, [...(byValue.get(value) ?? []), ratio]);
          }
          const values = [...byValue].map(([value, list]) => ({
            value,
            ratio: geometricMean(list),
            low: Math.min(...list),
            high: Math.max(...list),
            n: list.length,
          }));
          values.sort((a, b) => b.ratio - a.ratio);
          return { axis, values, moves: values[0].ratio / (values.at(-1)?.ratio ?? values[0].ratio) };
        })
        .sort((a, b) => b.moves - a.moves);
      return axes.length > 0 ? [{ panel, layer, axes }] : [];
    });
  });
}

const LAYER_ORDER: Layer[] = ["local", "host", "vm", "k8s"];

/** Per workload: the baseline, then each layer above it, its best variant and its median ratio; none for directories alone. */
export function panelLayers(data: ReportData): PanelLayers[] {
  return data.panels.flatMap((panel) => {
    const measured = ratios(panel);
    const layers = LAYER_ORDER.filter((layer) => measured.some((entry) => entry.variant.variant.layer === layer));
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
