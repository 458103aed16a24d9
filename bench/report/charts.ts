import * as vega from "vega";
import * as vl from "vega-lite";
import type { Direction, Metric } from "../core/results.js";
import { panelHeader, type ReportData } from "./rows.js";

interface Unit {
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
  /** Picks a readable unit for the largest value shown. */
  unit: (max: number) => Unit;
  /** A second mark per bar: the 99th percentile, for latency. */
  p99Metric?: Metric;
}

const binaryBytes = (max: number): Unit =>
  max >= 10 * 1024 ** 3 ? { label: "GiB", divisor: 1024 ** 3 } : { label: "MiB", divisor: 1024 ** 2 };
// One unit for every panel: µs reads well from fast NVMe (tens) to slow disks (tens of thousands).
const microseconds = (): Unit => ({ label: "µs", divisor: 1e3 });

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
    axis: "Latency",
    metric: "latMeanNs",
    p99Metric: "latP99Ns",
    directions: ["read", "write", "mixed"],
    unit: microseconds,
  },
];

/** Pixels a row of panels may take before the next panel wraps. */
const MAX_CHART_WIDTH = 1600;

interface ChartRow {
  panel: string;
  variant: string;
  value: number;
  low: number;
  high: number;
  repeats: number;
  p99?: number;
}

export function chartRows(data: ReportData, chart: ChartDefinition): { rows: ChartRow[]; unit: Unit } {
  const raw = data.panels
    .filter((panel) => chart.directions.includes(panel.direction))
    .flatMap((panel) =>
      panel.cells.flatMap(({ variant, summary }) => {
        const stat = summary[chart.metric];
        if (!stat) return [];
        const p99 = chart.p99Metric ? summary[chart.p99Metric]?.mean : undefined;
        return [{ panel: panelHeader(panel, data.panels), variant: variant.label, stat, p99 }];
      }),
    );
  const unit = chart.unit(Math.max(0, ...raw.map((row) => Math.max(row.stat.mean + row.stat.stdev, row.p99 ?? 0))));
  const rows = raw.map(({ panel, variant, stat, p99 }) => ({
    panel,
    variant,
    value: stat.mean / unit.divisor,
    low: (stat.mean - stat.stdev) / unit.divisor,
    high: (stat.mean + stat.stdev) / unit.divisor,
    repeats: stat.n,
    ...(p99 !== undefined && { p99: p99 / unit.divisor }),
  }));
  return { rows, unit };
}

/** The vega-lite spec: one panel per workload (own y scale), one bar per variant, ±1 stdev error bars when repeated. */
export function chartSpec(data: ReportData, chart: ChartDefinition): vl.TopLevelSpec {
  const { rows, unit } = chartRows(data, chart);
  const variantOrder = data.variants.map((variant) => variant.label);
  const x = {
    field: "variant",
    type: "nominal" as const,
    sort: variantOrder,
    title: null,
    axis: { labels: false, ticks: false },
  };
  const yTitle = chart.axis === unit.label ? chart.axis : `${chart.axis} (${unit.label})`;
  const repeated = rows.some((row) => row.repeats > 1);
  const panelWidth = Math.max(150, 34 * variantOrder.length);
  // Panels wrap into rows so that a big matrix makes a tall chart rather than one tens of thousands of pixels wide.
  const columns = Math.max(1, Math.floor(MAX_CHART_WIDTH / (panelWidth + 60)));
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    description: `${chart.title} per workload and variant; the values are in the tables of report.md.`,
    title: {
      text: chart.title,
      subtitle: repeated ? "error bars: ±1 standard deviation over repeats" : "",
      anchor: "start",
    },
    background: "white",
    // Error bars are drawn as rules and ticks: no ARIA label for them either.
    config: {
      font: "Helvetica, Arial, sans-serif",
      view: { stroke: null },
      rule: { aria: false },
      tick: { aria: false },
    },
    data: { values: rows },
    facet: {
      field: "panel",
      type: "nominal",
      title: null,
      sort: [...new Set(rows.map((row) => row.panel))],
      header: { labelFontSize: 11, labelExpr: "split(datum.value, '\\n')" },
    },
    columns,
    resolve: { scale: { y: "independent" } },
    spec: {
      width: panelWidth,
      height: 220,
      layer: [
        {
          // No ARIA label per bar: thousands of them in a big matrix, while report.md's tables carry every value.
          mark: { type: "bar", tooltip: true, aria: false },
          encoding: {
            x,
            y: { field: "value", type: "quantitative", title: yTitle },
            color: {
              field: "variant",
              type: "nominal",
              sort: variantOrder,
              title: "Variant",
              legend: { orient: "bottom", columns: 3, labelLimit: 320 },
            },
          },
        },
        {
          transform: [{ filter: "datum.repeats > 1" }],
          mark: { type: "errorbar", ticks: { size: 12 }, color: "black" },
          encoding: { x, y: { field: "low", type: "quantitative", title: yTitle }, y2: { field: "high" } },
        },
        ...(chart.p99Metric
          ? [
              {
                transform: [{ filter: "isValid(datum.p99)" }],
                mark: { type: "point" as const, shape: "diamond", filled: true, color: "black", size: 40, aria: false },
                encoding: { x, y: { field: "p99", type: "quantitative" as const, title: yTitle } },
              },
            ]
          : []),
      ],
    },
  };
}

export async function renderChartSvg(data: ReportData, chart: ChartDefinition): Promise<string> {
  const view = new vega.View(vega.parse(vl.compile(chartSpec(data, chart)).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
