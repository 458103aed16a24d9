import type { Direction, DirectionSummary, Metric } from "../core/results.js";
import { type ResultWarning, warningCodes } from "../core/warnings.js";

// What each chart shows, apart from how it is drawn (charts.ts, which loads vega): the CLI names the files
// without loading a renderer.

export interface Unit {
  label: string;
  divisor: number;
}

export interface ChartDefinition {
  file: string;
  title: string;
  /** The quantity on the y axis; the unit is added in parentheses unless it is the same word. */
  axis: string;
  metric: Metric;
  directions: Direction[];
  /** Picks a readable unit for the largest value of a panel. */
  unit: (max: number) => Unit;
  /** The title of a big matrix's chart (matrix-chart.ts), where it differs: one value per cell, no second mark. */
  matrixTitle?: string;
  /** A second mark per bar: the 99th percentile, for latency. */
  p99Metric?: Metric;
  /** Latency: a matrix's colour scale runs the other way, so that blue is better in every chart. */
  lowerIsBetter?: true;
}

/** Up to this many variants, a chart has a panel per workload and each variant drawn in it; beyond, a matrix. */
export const MAX_LABELLED_VARIANTS = 40;

/**
 * What a chart begins with: its title and notes (a string, or a line each), white ground, the report's font. The
 * analysis, sweep, per-second and tail-latency charts share it.
 */
export const chartFrame = (title: string, subtitle: string | string[]) => ({
  $schema: "https://vega.github.io/schema/vega-lite/v5.json" as const,
  title: { text: title, subtitle, anchor: "start" as const },
  background: "white",
  config: { font: "Helvetica, Arial, sans-serif", view: { stroke: null } },
});

/**
 * A panel's scale reaches this many times its longest mark (bar, its spread, p99), in the SVGs and report.html
 * alike: a "!" or a diamond after it is drawn whole, not cut at the edge.
 */
export const ROOM_PAST_MARKS = 1.12;

/** The warning codes that put a "!" on a bar: buffered I/O concerns every bar, and each chart says it once. */
export const barFlags = (warnings: ResultWarning[]) => warningCodes(warnings, ["buffered-io"]);

/** The "!" past a flagged bar (and its error bar), in the SVGs and report.html alike. */
export const FLAG_MARK = {
  type: "text" as const,
  text: "!",
  dx: 6,
  align: "left" as const,
  fontWeight: "bold" as const,
  color: "firebrick",
};

/**
 * A chart's value title: "Latency (µs)", "IOPS" where the unit is the quantity's own name, and where the panels
 * each have their own unit (a 423 ns cache hit beside a 47 ms write), a pointer to their titles, which name it.
 */
export const axisTitle = (axis: string, unit: Unit | undefined) =>
  !unit ? `${axis} (unit in each panel's title)` : unit.label === axis ? axis : `${axis} (${unit.label})`;

const binaryBytes = (max: number): Unit =>
  max >= 10 * 1024 ** 3 ? { label: "GiB", divisor: 1024 ** 3 } : { label: "MiB", divisor: 1024 ** 2 };
// Per panel: a 423 ns page-cache hit and a 47 ms disk write each read in their own unit.
const latency = (max: number): Unit =>
  max >= 1e6 ? { label: "ms", divisor: 1e6 } : max >= 1e3 ? { label: "µs", divisor: 1e3 } : { label: "ns", divisor: 1 };

/**
 * The unit a panel of a chart reads best in, from its tallest mark: a mean with its spread, and the 99th percentile
 * where the chart draws it. The SVGs (charts.ts) and report.html (html.ts) take the same.
 */
export function panelUnit(chart: ChartDefinition, summaries: DirectionSummary[]): Unit {
  const top = Math.max(
    0,
    ...summaries.map((summary) => {
      const stat = summary[chart.metric];
      const p99 = chart.p99Metric ? summary[chart.p99Metric] : undefined;
      return Math.max(stat ? stat.mean + stat.stdev : 0, (p99?.mean ?? 0) + (p99?.stdev ?? 0));
    }),
  );
  return chart.unit(top);
}

export const CHARTS: ChartDefinition[] = [
  {
    file: "iops.svg",
    title: "IOPS",
    axis: "IOPS",
    metric: "iops",
    directions: ["read", "write", "mixed"],
    unit: () => ({ label: "IOPS", divisor: 1 }),
  },
  {
    file: "io_bandwidth.svg",
    title: "Bandwidth",
    axis: "Bandwidth",
    metric: "bwBytes",
    directions: ["read", "write", "mixed"],
    unit: (max) => ({ label: `${binaryBytes(max).label}/s`, divisor: binaryBytes(max).divisor }),
  },
  {
    file: "io_written.svg",
    title: "Bytes written per run",
    axis: "Written",
    metric: "ioBytes",
    directions: ["write"],
    unit: binaryBytes,
  },
  {
    file: "latency.svg",
    title: "Completion latency: mean (bar) and 99th percentile (diamond)",
    matrixTitle: "Mean completion latency",
    axis: "Latency",
    metric: "latMeanNs",
    p99Metric: "latP99Ns",
    lowerIsBetter: true,
    directions: ["read", "write", "mixed"],
    unit: latency,
  },
];

/**
 * The charts of report.md's Layer by layer and Effects sections, written when the results have something for them
 * (analysis-charts.ts draws them, markdown.ts shows them).
 */
export const ANALYSIS_CHARTS = {
  layers: { file: "layers.svg", title: "Layer by layer" },
  effects: { file: "effects.svg", title: "Effects" },
  heatmap: { file: "heatmap.svg", title: "Heatmap of the two axes that matter most" },
  series: { file: "series.svg", title: "IOPS second by second" },
  percentiles: { file: "percentiles.svg", title: "Tail latency: completion latency by percentile" },
} as const;

/** The page the charts are laid out for: report.html's body, and the heatmap's panels. */
export const PAGE_WIDTH_PX = 1200;

/** A chart as report.md embeds it. */
export const chartImage = (chart: { file: string; title: string }) => `![${chart.title}](${chart.file})`;

const ANALYSIS_CHART_FILES = Object.values(ANALYSIS_CHARTS).map((chart) => chart.file);

/** The files a report writes: report.md and one SVG per chart. */
export const REPORT_FILES = ["report.md", "report.html", ...CHARTS.map((chart) => chart.file), ...ANALYSIS_CHART_FILES];

/** One bar (or cell) of a chart: a variant's value in a panel, with its spread, p99 and flags. */
export interface ChartRow {
  panel: string;
  variant: string;
  value: number;
  low: number;
  high: number;
  repeats: number;
  /** Warning codes that call the bar into question (buffered-io, which concerns them all, is in the subtitle). */
  flags: string;
  p99?: number;
  /** ±1 standard deviation of the p99 over repeats. */
  p99Low?: number;
  p99High?: number;
  /** On a log scale: where the bar starts (withLogBase). */
  base?: number;
  /** 1: the variant has no value in this panel (it did not run the workload, or every run failed). */
  missing?: number;
}
