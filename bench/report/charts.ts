import * as vega from "vega";
import * as vl from "vega-lite";
import { throughPageCache } from "../core/results.js";
import {
  axisTitle,
  barFlags,
  type ChartDefinition,
  type ChartRow,
  FLAG_MARK,
  MAX_LABELLED_VARIANTS,
  panelUnit,
  ROOM_PAST_MARKS,
  type Unit,
} from "./chart-definitions.js";
import type { ChartOptions } from "./chart-options.js";
import { variantColourScale } from "./colours.js";
import { matrixChartSpec } from "./matrix-chart.js";
import { emulatedCpuNote, measuresRbdImages, panelHeader, type ReportData } from "./rows.js";
import { sweepChartSpec, sweepOf } from "./sweep-chart.js";

/** A row for each variant a panel has no value for: the chart says "no data" there, not a bar of zero. */
function missingRows(rows: ChartRow[], variants: string[]): ChartRow[] {
  const panels = [...new Set(rows.map((row) => row.panel))];
  return panels.flatMap((panel) =>
    variants
      .filter((variant) => !rows.some((row) => row.panel === panel && row.variant === variant))
      .map((variant) => ({ panel, variant, value: 0, low: 0, high: 0, repeats: 0, flags: "", missing: 1 })),
  );
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
      const flags = barFlags(warnings);
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

/**
 * On a log scale, each panel's bars rise from half its smallest value (a log scale has no zero), and the spreads
 * below it are cut there: a mean less one standard deviation can be negative.
 */
function withLogBase(rows: ChartRow[]): ChartRow[] {
  const smallest = new Map<string, number>();
  for (const row of rows) {
    const values = [row.value, row.low, row.p99, row.p99Low].filter(
      (value): value is number => value !== undefined && value > 0,
    );
    smallest.set(row.panel, Math.min(smallest.get(row.panel) ?? Number.POSITIVE_INFINITY, ...values));
  }
  return rows.map((row) => {
    const base = (smallest.get(row.panel) as number) / 2;
    return {
      ...row,
      base,
      low: Math.max(row.low, base),
      ...(row.p99Low !== undefined && { p99Low: Math.max(row.p99Low, base) }),
    };
  });
}

/** A panel's bar length in pixels, and the most panels side by side. */
const PANEL_WIDTH_PX = 240;
const MAX_COLUMNS = 4;
/** The width a chart keeps within (a 1400 px screen), the variants' names and each panel's axis and gap. */
const MAX_CHART_WIDTH_PX = 1400;
const PANEL_GAP_PX = 40;
const MIN_PANEL_HEIGHT_PX = 96;
/** About the width of a character of an axis label (10 px Helvetica). */
const LABEL_CHAR_PX = 6;

/** Panels side by side: as many as fit beside the variants' names. */
function columnsBeside(labels: string[], panels: number): number {
  const labelsPx = LABEL_CHAR_PX * Math.max(0, ...labels.map((label) => label.length));
  const fit = Math.floor((MAX_CHART_WIDTH_PX - labelsPx) / (PANEL_WIDTH_PX + PANEL_GAP_PX));
  return Math.max(1, Math.min(MAX_COLUMNS, panels, fit));
}

/** A bar chart's rows in the variants' order, a "no data" row where a variant has no value in a panel. */
function barRows(data: ReportData, panelRows: ChartRow[], logScale: boolean): ChartRow[] {
  const variantOrder = data.variants.map((variant) => variant.label);
  // Rows in variant order, so that the bars take the order the rows come in (sort: null): an explicit sort list
  // is looked up for every row of every layer.
  const rank = new Map(variantOrder.map((label, index) => [label, index]));
  const sorted = [...panelRows].sort((a, b) => (rank.get(a.variant) ?? 0) - (rank.get(b.variant) ?? 0));
  const measured = logScale ? withLogBase(sorted) : sorted;
  return [
    ...measured,
    ...missingRows(measured, variantOrder).map((row) => ({
      ...row,
      ...(logScale && { value: 0, base: measured.find((other) => other.panel === row.panel)?.base }),
    })),
  ].sort((a, b) => (rank.get(a.variant) ?? 0) - (rank.get(b.variant) ?? 0));
}

/** What a bar chart's subtitle says once: what its error bars are, its scale, its flags and what they measured. */
function barSubtitle(data: ReportData, rows: ChartRow[], logScale: boolean): string[] {
  const buffered = data.documents.some((document) => throughPageCache(document.profile));
  return [
    rows.some((row) => row.repeats > 1) ? "error bars: ±1 standard deviation over repeats" : "",
    logScale ? "logarithmic scale" : "",
    rows.some((row) => row.flags) ? "! flagged: see Flags in report.md" : "",
    buffered
      ? `buffered I/O: the page cache is part of the numbers${measuresRbdImages(data) ? " (of RBD images: librbd's cache, flagged client-cache)" : ""}`
      : "",
    emulatedCpuNote(data) ?? "",
  ].filter(Boolean);
}

const BAR_Y = {
  field: "variant",
  type: "nominal" as const,
  sort: null,
  title: null,
  axis: { labelLimit: 0, ticks: false },
};
type BarX = (field: string) => {
  field: string;
  type: "quantitative";
  title: string;
  scale?: { type: "log"; nice: false };
};

/** What a panel draws beside its bars, each only where it has something to draw. */
function annotationLayers(rows: ChartRow[], chart: ChartDefinition, x: BarX, logScale: boolean) {
  const y = BAR_Y;
  const spread = (size: number, color: string) => ({ type: "errorbar" as const, ticks: { size }, color });
  return [
    ...(rows.some((row) => row.missing === 1)
      ? [
          {
            transform: [{ filter: "datum.missing === 1" }],
            mark: {
              type: "text" as const,
              text: "no data",
              align: "left" as const,
              dx: 3,
              fontStyle: "italic",
              color: "gray",
              aria: false,
            },
            encoding: { y, x: logScale ? x("base") : x("value") },
          },
        ]
      : []),
    // Layers only where they have something to draw.
    ...(rows.some((row) => row.repeats > 1)
      ? [
          {
            transform: [{ filter: "datum.repeats > 1" }],
            mark: spread(8, "black"),
            encoding: { y, x: x("low"), x2: { field: "high" } },
          },
        ]
      : []),
    ...(rows.some((row) => row.flags)
      ? [
          {
            // A flagged bar carries a "!" past its end and its error bar; report.md's Flags section and
            // report.html say why.
            transform: [
              { filter: "datum.flags !== ''" },
              { calculate: "datum.repeats > 1 ? max(datum.value, datum.high) : datum.value", as: "flagAt" },
            ],
            mark: FLAG_MARK,
            encoding: { y, x: x("flagAt") },
          },
        ]
      : []),
    ...(chart.p99Metric && rows.some((row) => row.p99 !== undefined)
      ? [
          {
            transform: [{ filter: "isValid(datum.p99)" }],
            mark: { type: "point" as const, shape: "diamond", filled: true, color: "black", size: 40, aria: false },
            encoding: { y, x: x("p99") },
          },
          ...(rows.some((row) => row.p99Low !== undefined)
            ? [
                {
                  transform: [{ filter: "isValid(datum.p99Low)" }],
                  mark: spread(5, "dimgray"),
                  encoding: { y, x: x("p99Low"), x2: { field: "p99High" } },
                },
              ]
            : []),
        ]
      : []),
  ];
}

/**
 * A panel's layers: the bars, room past the longest mark, then "no data", the spread over repeats, a flag's "!",
 * the 99th percentile's diamond and its spread.
 */
function barLayers(rows: ChartRow[], chart: ChartDefinition, variantOrder: string[], logScale: boolean, unit?: Unit) {
  const y = BAR_Y;
  const valueTitle = axisTitle(chart.axis, unit);
  // A log scale has no zero: bars rise from half the panel's smallest value, the scale's own start (not rounded
  // down to a power of ten, which left the bars floating off the axis).
  const x: BarX = (field) => ({
    field,
    type: "quantitative" as const,
    title: valueTitle,
    ...(logScale && { scale: { type: "log" as const, nice: false as const } }),
  });
  return [
    {
      // No ARIA label and no tooltip per bar (an SVG file shows none): report.md's tables carry every value
      // and report.html has the tooltips.
      transform: [{ filter: "datum.missing !== 1" }],
      mark: { type: "bar" as const, aria: false },
      encoding: {
        y,
        x: x("value"),
        ...(logScale && { x2: { field: "base" } }),
        color: {
          field: "variant",
          type: "nominal" as const,
          sort: null,
          scale: variantColourScale(variantOrder),
          legend: null,
        },
      },
    },
    {
      // Nothing drawn that widens the scale: room past each panel's longest mark for its "!" and diamond.
      transform: [
        { filter: "datum.missing !== 1" },
        {
          calculate: `${ROOM_PAST_MARKS} * max(datum.value, datum.high, isValid(datum.p99) ? datum.p99 : 0, isValid(datum.p99High) ? datum.p99High : 0)`,
          as: "room",
        },
      ],
      mark: { type: "point" as const, opacity: 0, aria: false },
      encoding: { y, x: x("room") },
    },
    ...annotationLayers(rows, chart, x, logScale),
  ];
}

/**
 * The vega-lite spec: one panel per workload (its own value scale), one horizontal bar per variant named on the
 * left of each row of panels (any label length reads whole, no legend to match colours against), ±1 stdev error
 * bars when repeated; beyond the variants a panel can label, a variant x workload matrix of values
 * (matrix-chart.ts).
 */
export function chartSpec(
  data: ReportData,
  chart: ChartDefinition,
  options: ChartOptions = { latencyScale: "linear" },
): vl.TopLevelSpec {
  const { rows: panelRows, unit } = chartRows(data, chart);
  if (data.variants.length > MAX_LABELLED_VARIANTS) return matrixChartSpec(data, chart, panelRows, unit);
  const sweep = sweepOf(data);
  if (sweep) return sweepChartSpec(data, chart, sweep);
  const variantOrder = data.variants.map((variant) => variant.label);
  const logScale = options.latencyScale === "log" && chart.p99Metric !== undefined;
  const rows = barRows(data, panelRows, logScale);
  const panels = [...new Set(rows.map((row) => row.panel))];
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    description: `${chart.title} per workload and variant; the values are in the tables of report.md.`,
    // A note a line: one long line would set the chart's width (vega estimates text widths generously).
    title: { text: chart.title, subtitle: barSubtitle(data, rows, logScale), anchor: "start" },
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
      sort: panels,
      header: { labelFontSize: 11, labelExpr: "split(datum.value, '\\n')" },
    },
    columns: columnsBeside(variantOrder, panels.length),
    // Each panel its own value scale and axis; the variants are the same in every panel, named once per row.
    resolve: { scale: { x: "independent" } },
    spec: {
      width: PANEL_WIDTH_PX,
      // A bar per variant, 16 px each; a few variants get thicker bars rather than a flat strip.
      height: { step: Math.max(16, Math.round(MIN_PANEL_HEIGHT_PX / variantOrder.length)) },
      layer: barLayers(rows, chart, variantOrder, logScale, unit),
    },
  };
}

// vega-lite warns on stderr when layers of independent facet scales share a field (our filtered marks over the
// bars): the scales come out as meant, and a report is not the place for the compiler's notes.
const QUIET = vega.logger(vega.None);

/** A vega-lite spec compiled to vega, without the compiler's notes. */
export const compileSpec = (spec: vl.TopLevelSpec) => vl.compile(spec, { logger: QUIET }).spec;

/** Any vega-lite spec as SVG, rendered headless. */
export const renderSpecSvg = (spec: vl.TopLevelSpec) => renderVegaSvg(compileSpec(spec));

/** A compiled (vega) spec as SVG: report.html takes the same compiled spec. */
export async function renderVegaSvg(spec: vega.Spec): Promise<string> {
  const view = new vega.View(vega.parse(spec), { renderer: "none" });
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
