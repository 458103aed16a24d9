import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { Spec as VegaSpec } from "vega";
import type { TopLevelSpec } from "vega-lite";
import { SHOWN_METRICS } from "../core/metrics.js";
import { warningCodes } from "../core/warnings.js";
import {
  axisTitle,
  barFlags,
  CHARTS,
  type ChartDefinition,
  FLAG_MARK,
  PAGE_WIDTH_PX,
  panelUnit,
  ROOM_PAST_MARKS,
  type Unit,
} from "./chart-definitions.js";
import { compileSpec } from "./charts.js";
import { variantColourScale } from "./colours.js";
import { axesOf } from "./effects.js";
import { type HtmlPart, partsToHtml } from "./html-body.js";
import type { ReportData } from "./rows.js";
import type { ReportPart } from "./table.js";

// report.html: one self-contained page (vega and vega-embed inlined, the data too: nothing is fetched
// when it is viewed) with the charts made interactive (a workload picker, sort, a filter per axis, tooltips with
// value, n, spread and flags) above report.md's text and tables.

const require = createRequire(import.meta.url);

/** A package's built browser bundle: `file` under the first folder above the package's entry that holds it. */
function bundle(pkg: string, file: string): string {
  for (let dir = dirname(require.resolve(pkg)); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, file))) return readFileSync(join(dir, file), "utf8");
  }
  throw new Error(`${pkg}'s ${file} is missing: run npm ci`);
}

/** Text placed inside <script>: a "</script" in it would end the element. */
const inScript = (text: string) => text.replaceAll("</script", "<\\/script");

/**
 * A row of the page's data: a variant's numbers in one workload; per chart its value `m0`..., spread `m0Sd` (the
 * error bar's ends are worked out in the page) and the 99th percentile `m0P99` where the chart draws it.
 */
interface PageRow {
  workload: string;
  variant: string;
  order: number;
  n: number;
  flags: string;
  [field: string]: string | number;
}

/**
 * The page draws the charts the SVGs draw (chart-definitions.ts), each workload in the unit its largest value reads
 * best in, as the SVGs' panels do: a 4 KiB QD1 latency in µs beside a QD16 one in ms.
 */
interface PageChart {
  field: string;
  /** The row's keys for this chart, made once: 2,000 rows each spelling them out took most of the page's time. */
  keys: { sd: string; p99: string };
  axis: string;
  metric: ChartDefinition["metric"];
  p99Metric?: ChartDefinition["metric"];
  /** Workload -> its unit. */
  units: Map<string, Unit>;
  higherIsBetter: boolean;
}

const workloadOf = (panel: ReportData["panels"][number]) => `${panel.title} · ${panel.direction}`;

function pageCharts(data: ReportData): PageChart[] {
  return CHARTS.map((chart, index) => ({
    field: `m${index}`,
    keys: { sd: `m${index}Sd`, p99: `m${index}P99` },
    axis: chart.axis,
    metric: chart.metric,
    ...(chart.p99Metric && { p99Metric: chart.p99Metric }),
    units: new Map(
      data.panels.map((panel) => [
        workloadOf(panel),
        panelUnit(
          chart,
          panel.cells.map((cell) => cell.summary),
        ),
      ]),
    ),
    higherIsBetter: SHOWN_METRICS.find((shown) => shown.metric === chart.metric)?.higherIsBetter ?? true,
  }));
}

function pageRows(data: ReportData, axes: string[], charts: PageChart[]): PageRow[] {
  const axisKeys = axes.map((axis) => [axis, `axis_${axis}`] as const);
  return data.panels.flatMap((panel) =>
    panel.cells.map((cell) => {
      const workload = workloadOf(panel);
      const row: PageRow = {
        workload,
        variant: cell.variant.label,
        order: data.variants.indexOf(cell.variant),
        n: cell.summary.iops?.n ?? 0,
        flags: warningCodes(cell.warnings),
        // The "!" of the SVGs: buffered I/O concerns every bar, the report says it once.
        flagged: barFlags(cell.warnings) === "" ? 0 : 1,
      };
      for (const chart of charts) {
        const stat = cell.summary[chart.metric];
        if (!stat) continue;
        const divisor = chart.units.get(workload)?.divisor ?? 1;
        row[chart.field] = stat.mean / divisor;
        row[chart.keys.sd] = stat.stdev / divisor;
        const p99 = chart.p99Metric ? cell.summary[chart.p99Metric] : undefined;
        if (p99) row[chart.keys.p99] = p99.mean / divisor;
      }
      for (const [axis, key] of axisKeys) row[key] = String(cell.variant.variant.options[axis] ?? "–");
      return row;
    }),
  );
}

/**
 * The filters: each layer's axes, as the Effects section has them. Over all variants at once a key only the
 * baseline has (its dataset's path, a local guest's kernel) would look like an axis of two values.
 */
function filterAxes(data: ReportData): string[] {
  const layers = [...new Set(data.variants.map((entry) => entry.variant.layer))];
  return [
    ...new Set(layers.flatMap((layer) => axesOf(data.variants.filter((entry) => entry.variant.layer === layer)))),
  ];
}

/** The charts' width on report.html's page: its body, less padding. */
const PAGE_PX = PAGE_WIDTH_PX - 100;
/** About the width of a character of an axis label (10 px Helvetica). */
const LABEL_CHAR_PX = 6;
/** The narrowest bars worth a chart of their own; narrower, the charts take a row each. */
const MIN_BARS_PX = 240;

/** What the page's charts share: their width, the variants' colours, the axes' filter, whether any bar is flagged. */
interface PageLayout {
  width: number;
  colours: ReturnType<typeof variantColourScale>;
  axisFilter: string;
  flagged: boolean;
}

/** Every chart's variants, sorted by the rank its transform works out (by name or by value). */
const PAGE_Y = {
  field: "variant",
  type: "nominal" as const,
  sort: { field: "rank", op: "min" as const },
  title: null,
  axis: { labelLimit: 0 },
};
const pageX = (value: string) => ({ field: value, type: "quantitative" as const, title: null });

/** A chart's marks: its bars, room past the longest mark, and the spread, 99th percentile and flag beside them. */
function pageChartLayers({ field, axis, p99Metric }: PageChart, { colours, flagged }: PageLayout) {
  const [y, x] = [PAGE_Y, pageX];
  return [
    {
      // Named, so that the page's tests find the bars among the other marks.
      name: `${field}_bars`,
      mark: { type: "bar" as const, tooltip: true },
      encoding: {
        y,
        x: x(field),
        color: { field: "variant", type: "nominal" as const, scale: colours, legend: null },
        tooltip: [
          { field: "variant", title: "variant" },
          { field, title: axis, format: ",.1f" },
          { field: `${field}Sd`, title: "± stdev", format: ",.1f" },
          ...(p99Metric ? [{ field: `${field}P99`, title: "p99", format: ",.1f" }] : []),
          { field: "n", title: "runs" },
          { field: "flags", title: "flags" },
        ],
      },
    },
    // Nothing drawn that widens the scale: room past the longest mark for its "!" and diamond (cut at the edge).
    {
      name: `${field}_room`,
      transform: [
        {
          calculate: `${ROOM_PAST_MARKS} * max(datum.${field}, isValid(datum.${field}Sd) ? datum.${field} + datum.${field}Sd : 0, isValid(datum.${field}P99) ? datum.${field}P99 : 0)`,
          as: "room",
        },
      ],
      mark: { type: "point" as const, opacity: 0, tooltip: false },
      encoding: { y, x: x("room") },
    },
    // What the SVGs draw beside the bars: the spread over repeats, the 99th percentile, a flag.
    {
      name: `${field}_spread`,
      transform: [
        { filter: "datum.n > 1" },
        { calculate: `datum.${field} - datum.${field}Sd`, as: "low" },
        { calculate: `datum.${field} + datum.${field}Sd`, as: "high" },
      ],
      mark: { type: "errorbar" as const, ticks: { size: 8 } },
      encoding: { y, x: x("low"), x2: { field: "high" } },
    },
    ...(p99Metric
      ? [
          {
            transform: [{ filter: `isValid(datum.${field}P99)` }],
            mark: { type: "point" as const, shape: "diamond", filled: true, size: 40, color: "gray" },
            encoding: { y, x: x(`${field}P99`) },
          },
        ]
      : []),
    ...(flagged
      ? [
          {
            transform: [
              { filter: "datum.flagged === 1" },
              {
                calculate: `datum.n > 1 ? datum.${field} + max(0, datum.${field}Sd) : datum.${field}`,
                as: "flagAt",
              },
            ],
            mark: FLAG_MARK,
            encoding: { y, x: x("flagAt") },
          },
        ]
      : []),
  ];
}

/** One of the page's charts: the selected workload's bars in the unit it reads best in, sorted as chosen. */
function pageChart(chart: PageChart, layout: PageLayout) {
  const { field, axis, units, higherIsBetter, p99Metric } = chart;
  const { width, axisFilter } = layout;
  return {
    // The selected workload's unit in the title: a vega expression over a table of the titles by workload.
    title: {
      text: {
        expr: `(${JSON.stringify(Object.fromEntries([...units].map(([workload, unit]) => [workload, axisTitle(axis, unit)])))})[workload]`,
      },
      // What the marks beside the bars are: the SVG's title says it too.
      ...(p99Metric && { subtitle: "bar: mean · ◆: 99th percentile" }),
    },
    width,
    height: { step: 16 },
    transform: [
      { filter: `datum.workload == workload && isValid(datum.${field})${axisFilter ? ` && ${axisFilter}` : ""}` },
      {
        calculate: `sortBy == 'value' ? ${higherIsBetter ? "-" : ""}datum.${field} : datum.order`,
        as: "rank",
      },
    ],
    layer: pageChartLayers(chart, layout),
  };
}

/** The interactive charts: one view, its controls shared by the charts in it. */
export function pageSpec(data: ReportData): TopLevelSpec {
  const axes = filterAxes(data);
  const charts = pageCharts(data);
  const rows = pageRows(data, axes, charts);
  const workloads = [...new Set(rows.map((row) => row.workload))];
  const axisFilter = axes
    .map((axis) => `(axis_${axis} == 'all' || datum['axis_${axis}'] == axis_${axis})`)
    .join(" && ");
  // Horizontal bars, as in the SVGs: every chart names its variants (sorted by value, each chart has its own
  // order), two charts a row while the bars beside the names keep MIN_BARS_PX.
  const labelsPx = LABEL_CHAR_PX * Math.max(0, ...data.variants.map((variant) => variant.label.length)) + 60;
  const halfBars = PAGE_PX / 2 - labelsPx;
  const columns = halfBars >= MIN_BARS_PX ? 2 : 1;
  const width = columns === 2 ? halfBars : Math.max(MIN_BARS_PX, PAGE_PX - labelsPx);
  const layout: PageLayout = {
    width,
    colours: variantColourScale(data.variants.map((variant) => variant.label)),
    axisFilter,
    flagged: rows.some((row) => row.flagged === 1),
  };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    background: null as unknown as string,
    params: [
      { name: "workload", value: workloads[0], bind: { input: "select", options: workloads, name: "Workload " } },
      { name: "sortBy", value: "name", bind: { input: "select", options: ["name", "value"], name: "Sort by " } },
      ...axes.map((axis) => {
        const values = [...new Set(rows.map((row) => row[`axis_${axis}`]))].sort();
        return {
          name: `axis_${axis}`,
          value: "all",
          bind: { input: "select" as const, options: ["all", ...values], name: `${axis} ` },
        };
      }),
    ],
    data: { values: rows },
    columns,
    concat: charts.map((chart) => pageChart(chart, layout)),
  } as TopLevelSpec;
}

const STYLE = `
:root { color-scheme: light dark; --fg: #1b1b1b; --bg: #ffffff; --muted: #666; --line: #ddd; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e6e6; --bg: #161616; --muted: #aaa; --line: #444; } }
body { font: 15px/1.5 Helvetica, Arial, sans-serif; color: var(--fg); background: var(--bg); margin: 2rem auto; max-width: ${PAGE_WIDTH_PX}px; padding: 0 1rem; }
/* A table of a column per variant (kbench's summary of 100 variants: 6478 px) scrolls within the page. */
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 13px; display: block; max-width: 100%; overflow-x: auto; }
th, td { border: 1px solid var(--line); padding: 2px 8px; }
td { text-align: right; } td:first-child { text-align: left; }
blockquote { border-left: 4px solid #d9822b; margin: 1rem 0; padding: 0.2rem 1rem; }
.vega-bind { display: inline-block; margin: 0 1.5rem 0.5rem 0; }
#controls { position: sticky; top: 0; background: var(--bg); padding: 0.5rem 0; z-index: 1; }
#charts { margin: 1rem 0 2rem; }
.analysis { margin: 1rem 0; overflow-x: auto; }
summary { cursor: pointer; color: var(--muted); margin: 0.5rem 0 1.5rem; }
`;

/** The element an analysis chart is drawn in, where report.md shows its SVG. */
const analysisElementId = (file: string) => `chart-${file.replace(/\.svg$/, "")}`;

/**
 * The page: report.md's text and tables; its SVGs of the measured values give way to the interactive charts above,
 * its analysis charts (layers, effects, heatmap) are drawn where report.md shows them.
 */
export function renderHtml(
  data: ReportData,
  parts: ReportPart[],
  analysis: Array<{ file: string; spec: VegaSpec }>,
): string {
  const analysisImage = new Map(analysis.map(({ file }) => [file, analysisElementId(file)]));
  // The charts' elements are the page's own HTML, beside report.md's text (whose HTML is shown as text).
  const shown = parts.flatMap((part): HtmlPart[] =>
    typeof part !== "string"
      ? [part]
      : part.split("\n").flatMap((line): HtmlPart[] => {
          if (line === "# layerbench report") return [];
          const image = /^!\[.*\]\((.*\.svg)\)$/.exec(line);
          if (!image) return [line];
          const id = analysisImage.get(image[1]);
          return id ? [{ html: `<div class="analysis" id="${id}"></div>` }] : [];
        }),
  );
  const body = partsToHtml(shown);
  // Compiled to vega here: the page needs neither vega-lite (a quarter of a MiB) nor the compile at each load.
  const spec = JSON.stringify(compileSpec(pageSpec(data)));
  const analysisSpecs = JSON.stringify(
    Object.fromEntries(analysis.map(({ file, spec: chart }) => [analysisElementId(file), chart])),
  );
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>layerbench report</title>
<style>${STYLE}</style>
<script>${inScript(bundle("vega", "build/vega.min.js"))}</script>
<script>${inScript(bundle("vega-embed", "build/vega-embed.min.js"))}</script>
</head>
<body>
<h1>layerbench report</h1>
<div id="controls"></div>
<div id="charts"></div>
${body}
<script>
const spec = ${inScript(spec)};
const analysis = ${inScript(analysisSpecs)};
const dark = window.matchMedia("(prefers-color-scheme: dark)").matches;
const options = { mode: "vega", renderer: "svg", actions: false, ...(dark ? { theme: "dark" } : {}) };
const failed = (id) => (error) => { document.getElementById(id).textContent = "chart could not be drawn: " + error; console.error(error); };
vegaEmbed("#charts", spec, { ...options, bind: "#controls" }).catch(failed("charts"));
for (const [id, chart] of Object.entries(analysis)) vegaEmbed("#" + id, chart, options).catch(failed(id));
</script>
</body>
</html>
`;
}
