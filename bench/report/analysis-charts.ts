import type * as vl from "vega-lite";
import { times } from "../util/format.js";
import { levelLabel } from "../variants/vm-variants.js";
import { ANALYSIS_CHARTS, chartFrame, PAGE_WIDTH_PX } from "./chart-definitions.js";
import { geometricMean, panelEffects } from "./effects.js";
import { panelLayers, ratios } from "./layer-steps.js";
import { percentileSpec } from "./percentile-chart.js";
import { panelName, type ReportData } from "./rows.js";
import { seriesSpec } from "./series-chart.js";

// The charts of the Effects and Layer sections of report.md: which axis moves the number (effects.svg), the two
// that move it most against each other (heatmap.svg), and what each layer costs (layers.svg). Each is absent when
// the results have nothing for it (no axes, one layer).

/** An axis's values in natural order: iodepth 1, 2, 16 rather than 1, 16, 2. */
const naturalOrder = <K extends string>(rows: Array<Record<K, string>>, field: K) =>
  [...new Set(rows.map((row) => row[field]))].sort((a, b) => a.localeCompare(b, "en", { numeric: true }));

/** The panels in the order their rows come, the report's (a facet sorts its values as strings otherwise). */
const inOrder = (rows: Array<{ panel: string }>) => [...new Set(rows.map((row) => row.panel))];

const ROW = { field: "row", type: "nominal" as const, title: null, sort: null, axis: { labelLimit: 260 } };

/** One panel per workload and layer, one row per axis value, a point at its ratio with its 95 % interval. */
export function effectsSpec(data: ReportData): vl.TopLevelSpec | undefined {
  const rows = panelEffects(data).flatMap(({ panel, layer, axes }) =>
    axes.flatMap((axis, rank) =>
      axis.values.map((value) => ({
        panel: `${panelName(panel, data.panels)} · ${panel.direction} · ${layer}`,
        row: `${rank + 1}. ${axis.axis} = ${value.value}`,
        ratio: value.ratio,
        low: value.low,
        high: value.high,
        n: value.n,
      })),
    ),
  );
  if (rows.length === 0) return undefined;
  // The interval is drawn where the fit has one: a fit with no degrees of freedom left for the error has none.
  const withInterval = rows.filter((row) => row.low !== undefined && row.high !== undefined).length;
  const interval =
    withInterval === rows.length
      ? "least-squares estimate with its 95 % interval"
      : withInterval === 0
        ? "least-squares estimate; no interval: the fit has no degrees of freedom left for the error (repeat the runs, or measure more variants)"
        : "least-squares estimate, with its 95 % interval where the fit has one";
  return {
    ...chartFrame("Effects: IOPS against the baseline per axis value", [
      interval,
      "axes ranked by how much they move the number",
    ]),
    data: { values: rows },
    facet: { field: "panel", type: "nominal", title: null, sort: inOrder(rows) },
    columns: 2,
    spec: {
      width: 320,
      layer: [
        // The baseline: one vertical line at 1.0 across the panel.
        { mark: { type: "rule", color: "gray", strokeDash: [4, 4] }, encoding: { x: { datum: 1 } } },
        {
          mark: { type: "rule" },
          encoding: {
            y: ROW,
            x: { field: "low", type: "quantitative", scale: { type: "log" }, title: "× baseline" },
            x2: { field: "high" },
          },
        },
        {
          mark: { type: "point", filled: true, size: 60 },
          encoding: { y: ROW, x: { field: "ratio", type: "quantitative", scale: { type: "log" } } },
        },
      ],
    },
    // Each panel its own x axis on the shared scale: a wrapped row's empty cells draw none.
    resolve: { scale: { y: "independent" }, axis: { x: "independent" } },
  };
}

/** How far towards its end of the scale a cell's colour is dark enough for white text (redblue from 1.0 out). */
const HEATMAP_DARK_FROM = 0.5;

/**
 * Which cells get white text: those past half-way from 1.0 to their end of the colour scale (log, its middle at
 * 1.0, each side spanning to the most extreme ratio on it). Black on dark red was not read.
 */
function darkCells<T extends { ratio: number }>(rows: T[]): Array<T & { dark: number }> {
  const logs = rows.map((row) => Math.log(row.ratio));
  const [lowest, highest] = [Math.min(0, ...logs), Math.max(0, ...logs)];
  return rows.map((row, index) => {
    const log = logs[index];
    const along = log > 0 ? log / highest : log < 0 ? log / lowest : 0;
    return { ...row, dark: along > HEATMAP_DARK_FROM ? 1 : 0 };
  });
}

/** Width of a heatmap cell, and room for a panel's axis titles and labels beside its cells. */
const HEATMAP_CELL_PX = 70;
const HEATMAP_MARGIN_PX = 150;

/**
 * The two axes that move the first layer's numbers most, one against the other, in every panel of that layer (a
 * layer without those axes would draw empty cells); a cell is their ratio to the baseline.
 */
export function heatmapSpec(data: ReportData): vl.TopLevelSpec | undefined {
  const withTwoAxes = panelEffects(data).filter((entry) => entry.axes.length >= 2);
  if (withTwoAxes.length === 0) return undefined;
  const effects = withTwoAxes.filter((entry) => entry.layer === withTwoAxes[0].layer);
  const [first, second] = effects[0].axes.map((axis) => axis.axis);
  const rows = effects.flatMap(({ panel, layer }) => {
    const cells = new Map<string, number[]>();
    for (const { variant, ratio } of ratios(panel)) {
      if (variant.variant.layer !== layer) continue;
      // Levels as the axes name them (iothread on/off, not true/false); "–" where the option does not apply.
      const level = (axis: string) => {
        const value = variant.variant.options[axis];
        return value === undefined ? "–" : levelLabel(axis, value);
      };
      const key = `${level(first)}\u0000${level(second)}`;
      cells.set(key, [...(cells.get(key) ?? []), ratio]);
    }
    return [...cells].map(([key, list]) => {
      const [a, b] = key.split("\u0000");
      const ratio = geometricMean(list);
      return {
        panel: `${panelName(panel, data.panels)} · ${panel.direction} · ${layer}`,
        a,
        b,
        ratio,
        label: times(ratio),
      };
    });
  });
  return {
    ...chartFrame(
      `Heatmap: ${first} against ${second}`,
      "IOPS against the baseline (geometric mean over the other axes); red below 1.0, blue above",
    ),
    data: { values: darkCells(rows) },
    facet: { field: "panel", type: "nominal", title: null, sort: inOrder(rows) },
    columns: Math.max(
      1,
      Math.min(
        3,
        Math.floor(PAGE_WIDTH_PX / (new Set(rows.map((row) => row.a)).size * HEATMAP_CELL_PX + HEATMAP_MARGIN_PX)),
      ),
    ),
    // Each panel its own axes: a wrapped row's empty cells draw none.
    resolve: { axis: { x: "independent", y: "independent" } },
    spec: {
      width: { step: HEATMAP_CELL_PX },
      height: { step: 32 },
      layer: [
        {
          mark: { type: "rect" },
          encoding: {
            x: { field: "a", type: "nominal", title: first, sort: naturalOrder(rows, "a"), axis: { labelAngle: 0 } },
            y: { field: "b", type: "nominal", title: second, sort: naturalOrder(rows, "b") },
            color: {
              field: "ratio",
              type: "quantitative",
              title: "× baseline",
              scale: { type: "log", scheme: "redblue", domainMid: 1 },
            },
          },
        },
        {
          mark: { type: "text", fontSize: 11 },
          encoding: {
            x: { field: "a", type: "nominal", sort: naturalOrder(rows, "a") },
            y: { field: "b", type: "nominal", sort: naturalOrder(rows, "b") },
            text: { field: "label" },
            color: { condition: { test: "datum.dark === 1", value: "white" }, value: "black" },
          },
        },
      ],
    },
  };
}

/**
 * Per workload: the baseline (1.0), then each layer's best variant and median, side by side. One view with a group
 * of bars per workload (they share the scale: all are ratios to the baseline) draws in a fraction of the time of a
 * panel per workload.
 */
export function layersSpec(data: ReportData): vl.TopLevelSpec | undefined {
  const layers = panelLayers(data);
  if (layers.length === 0) return undefined;
  const bars = layers.flatMap(({ panel, steps }) => {
    const workload = `${panelName(panel, data.panels)} · ${panel.direction}`;
    return [
      { workload, bar: "baseline", ratio: 1 },
      ...steps.flatMap((step) => [
        { workload, bar: `${step.label}: best`, ratio: step.best.ratio },
        { workload, bar: `${step.label}: median`, ratio: step.median },
      ]),
    ];
  });
  const order = [...new Set(bars.map((bar) => bar.bar))];
  return {
    ...chartFrame(
      "Layer by layer: IOPS against the baseline",
      "each layer's best variant and the median of its variants",
    ),
    data: { values: bars },
    // Horizontal, as the other bar charts: the workloads' names read whole. A step per bar: the groups of bars
    // are as tall as the layers they hold.
    height: { step: 12 },
    width: 480,
    mark: { type: "bar" },
    encoding: {
      y: { field: "workload", type: "nominal", title: null, sort: null, axis: { labelLimit: 0 } },
      yOffset: { field: "bar", sort: order },
      x: { field: "ratio", type: "quantitative", title: "× baseline" },
      // A column at the right, each name whole: steps named by their storage ("vm on Ceph RBD (librbd): median")
      // outgrow a row's 160 px.
      color: { field: "bar", type: "nominal", title: null, sort: order, legend: { orient: "right", labelLimit: 0 } },
    },
  };
}

export interface AnalysisChart {
  file: string;
  spec: vl.TopLevelSpec;
}

/** The analysis charts that have something to show, by file name. */
export function analysisCharts(data: ReportData): AnalysisChart[] {
  return [
    { file: ANALYSIS_CHARTS.layers.file, spec: layersSpec(data) },
    { file: ANALYSIS_CHARTS.effects.file, spec: effectsSpec(data) },
    { file: ANALYSIS_CHARTS.heatmap.file, spec: heatmapSpec(data) },
    { file: ANALYSIS_CHARTS.series.file, spec: seriesSpec(data) },
    { file: ANALYSIS_CHARTS.percentiles.file, spec: percentileSpec(data) },
  ].flatMap(({ file, spec }) => (spec ? [{ file, spec }] : []));
}
