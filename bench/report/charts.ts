import * as vega from "vega";
import * as vl from "vega-lite";
import { warningCodes } from "../core/warnings.js";
import { axisTitle, type ChartDefinition, type ChartOptions, panelUnit, type Unit } from "./chart-definitions.js";
import { matrixChartSpec } from "./matrix-chart.js";
import { panelHeader, type ReportData } from "./rows.js";

/** Up to this many variants, a chart has a panel per workload and each bar labelled under it; beyond, a matrix. */
const MAX_LABELLED_VARIANTS = 40;

/** Pixels a row of panels may take before the next panel wraps. */
const MAX_CHART_WIDTH = 1600;

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
}

/**
 * The values of a chart, each panel in the unit that reads best for it. `unit` is set when every panel has the same
 * one (the y axis names it); otherwise each panel's header names its own.
 */
export function chartRows(data: ReportData, chart: ChartDefinition): { rows: ChartRow[]; unit?: Unit } {
  const panels = data.panels.filter((panel) => chart.directions.includes(panel.direction));
  const raw = panels.flatMap((panel) =>
    panel.cells.flatMap(({ variant, summary, warnings }) => {
      const stat = summary[chart.metric];
      if (!stat) return [];
      const p99 = chart.p99Metric ? summary[chart.p99Metric] : undefined;
      const flags = warningCodes(warnings, ["buffered-io"]);
      return [{ panel: panelHeader(panel, data.panels), variant: variant.label, stat, p99, flags }];
    }),
  );
  // Only the panels that have a value of this chart: an empty one names no unit.
  const units = new Map(
    panels
      .filter((panel) => panel.cells.some((cell) => cell.summary[chart.metric]))
      .map((panel) => [
        panelHeader(panel, data.panels),
        panelUnit(
          chart,
          panel.cells.map((cell) => cell.summary),
        ),
      ]),
  );
  const labels = new Set([...units.values()].map((unit) => unit.label));
  const shared = labels.size === 1 ? [...units.values()][0] : undefined;
  const rows = raw.map(({ panel, variant, stat, p99, flags }) => {
    const unit = units.get(panel) as Unit;
    return {
      panel: shared ? panel : `${panel} (${unit.label})`,
      variant,
      flags,
      value: stat.mean / unit.divisor,
      low: (stat.mean - stat.stdev) / unit.divisor,
      high: (stat.mean + stat.stdev) / unit.divisor,
      repeats: stat.n,
      ...(p99 && { p99: p99.mean / unit.divisor }),
      ...(p99 &&
        p99.n > 1 && { p99Low: (p99.mean - p99.stdev) / unit.divisor, p99High: (p99.mean + p99.stdev) / unit.divisor }),
    };
  });
  return { rows, ...(shared && { unit: shared }) };
}

/** Legend columns: as many as the longest label leaves room for, so that no label is cut. */
function legendColumns(labels: string[]): number {
  const longest = Math.max(0, ...labels.map((label) => label.length));
  return Math.max(1, Math.min(3, Math.floor(120 / Math.max(longest, 1))));
}

/**
 * The vega-lite spec: one panel per workload (own y scale), one labelled bar per variant, ±1 stdev error bars when
 * repeated; beyond the variants a panel can label, a variant x workload matrix of values (matrix-chart.ts).
 */
export function chartSpec(
  data: ReportData,
  chart: ChartDefinition,
  options: ChartOptions = { latencyScale: "linear" },
): vl.TopLevelSpec {
  const { rows: panelRows, unit } = chartRows(data, chart);
  if (data.variants.length > MAX_LABELLED_VARIANTS) return matrixChartSpec(data, chart, panelRows, unit);
  const variantOrder = data.variants.map((variant) => variant.label);
  // Rows in variant order, so that the bars and the legend take the order the rows come in (sort: null): an
  // explicit sort list is looked up for every row of every layer.
  const rank = new Map(variantOrder.map((label, index) => [label, index]));
  const rows = [...panelRows].sort((a, b) => (rank.get(a.variant) ?? 0) - (rank.get(b.variant) ?? 0));
  const x = {
    field: "variant",
    type: "nominal" as const,
    sort: null,
    title: null,
    // Labels under the bars too: a bar is not to be told by its colour alone.
    axis: { labelAngle: -40, labelLimit: 160, ticks: false },
  };
  const yTitle = axisTitle(chart.axis, unit);
  const logScale = options.latencyScale === "log" && chart.p99Metric !== undefined;
  const y = (field: string) => ({
    field,
    type: "quantitative" as const,
    title: yTitle,
    ...(logScale && { scale: { type: "log" as const } }),
  });
  const repeated = rows.some((row) => row.repeats > 1);
  const spread = (size: number, color: string) => ({ type: "errorbar" as const, ticks: { size }, color });
  const panelWidth = Math.max(150, 34 * variantOrder.length);
  // Panels wrap into rows so that many variants make a tall chart rather than a very wide one.
  const columns = Math.max(1, Math.floor(MAX_CHART_WIDTH / (panelWidth + 60)));
  const buffered = data.documents.some((document) => !document.profile.direct);
  const subtitle = [
    repeated ? "error bars: ±1 standard deviation over repeats" : "",
    logScale ? "logarithmic scale" : "",
    rows.some((row) => row.flags) ? "! flagged: see Flags in report.md" : "",
    buffered ? "buffered I/O: the page cache is part of the numbers" : "",
  ].filter(Boolean);
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    description: `${chart.title} per workload and variant; the values are in the tables of report.md.`,
    title: { text: chart.title, subtitle: subtitle.join("; "), anchor: "start" },
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
          // A log scale has no zero: bars then rise from half the panel's smallest value instead.
          ...(logScale && {
            transform: [
              { joinaggregate: [{ op: "min" as const, field: "value", as: "panelMin" }], groupby: ["panel"] },
              { calculate: "datum.panelMin / 2", as: "base" },
            ],
          }),
          // No ARIA label and no tooltip per bar (an SVG file shows none): thousands of them in a big matrix cost
          // seconds, while report.md's tables carry every value and report.html has the tooltips.
          mark: { type: "bar", aria: false },
          encoding: {
            x,
            y: y("value"),
            ...(logScale && { y2: { field: "base" } }),
            color: {
              field: "variant",
              type: "nominal",
              sort: null,
              title: "Variant",
              legend: { orient: "bottom", columns: legendColumns(variantOrder), labelLimit: 0 },
            },
          },
        },
        // Layers only where they have something to draw: each one costs time in a big matrix.
        ...(repeated
          ? [
              {
                transform: [{ filter: "datum.repeats > 1" }],
                mark: spread(12, "black"),
                encoding: { x, y: y("low"), y2: { field: "high" } },
              },
            ]
          : []),
        ...(rows.some((row) => row.flags)
          ? [
              {
                // A flagged bar carries a "!" above it; report.md's Flags section and report.html say why.
                transform: [{ filter: "datum.flags !== ''" }],
                mark: { type: "text" as const, text: "!", dy: -8, fontWeight: "bold" as const, color: "firebrick" },
                encoding: { x, y: y("value") },
              },
            ]
          : []),
        ...(chart.p99Metric && rows.some((row) => row.p99 !== undefined)
          ? [
              {
                transform: [{ filter: "isValid(datum.p99)" }],
                mark: { type: "point" as const, shape: "diamond", filled: true, color: "black", size: 40, aria: false },
                encoding: { x, y: y("p99") },
              },
              ...(rows.some((row) => row.p99Low !== undefined)
                ? [
                    {
                      transform: [{ filter: "isValid(datum.p99Low)" }],
                      mark: spread(6, "dimgray"),
                      encoding: { x, y: y("p99Low"), y2: { field: "p99High" } },
                    },
                  ]
                : []),
            ]
          : []),
      ],
    },
  };
}

// vega-lite warns on stderr when layers of independent facet scales share a field (our filtered marks over the
// bars): the scales come out as meant, and a report is not the place for the compiler's notes.
const QUIET = vega.logger(vega.None);

/** Any vega-lite spec as SVG, rendered headless. */
export async function renderSpecSvg(spec: vl.TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(vl.compile(spec, { logger: QUIET }).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export async function renderChartSvg(
  data: ReportData,
  chart: ChartDefinition,
  options?: ChartOptions,
): Promise<string> {
  return renderSpecSvg(chartSpec(data, chart, options));
}
