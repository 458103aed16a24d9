import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { TopLevelSpec } from "vega-lite";
import * as vl from "vega-lite";
import { SHOWN_METRICS } from "../core/metrics.js";
import { warningCodes } from "../core/warnings.js";
import { axisTitle, CHARTS, type ChartDefinition, PAGE_WIDTH_PX, panelUnit, type Unit } from "./chart-definitions.js";
import { axesOf } from "./effects.js";
import { partsToHtml } from "./html-body.js";
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

/** A row of the page's data: a variant's numbers in one workload, value `m0`... per chart, `m0Sd`... its spread. */
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
  axis: string;
  metric: ChartDefinition["metric"];
  /** Workload -> its unit. */
  units: Map<string, Unit>;
  higherIsBetter: boolean;
}

const workloadOf = (panel: ReportData["panels"][number]) => `${panel.title} · ${panel.direction}`;

function pageCharts(data: ReportData): PageChart[] {
  return CHARTS.map((chart, index) => ({
    field: `m${index}`,
    axis: chart.axis,
    metric: chart.metric,
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
  return data.panels.flatMap((panel) =>
    panel.cells.map((cell) => {
      const workload = workloadOf(panel);
      const row: PageRow = {
        workload,
        variant: cell.variant.label,
        order: data.variants.indexOf(cell.variant),
        n: cell.summary.iops?.n ?? 0,
        flags: warningCodes(cell.warnings),
      };
      for (const chart of charts) {
        const stat = cell.summary[chart.metric];
        if (!stat) continue;
        const divisor = chart.units.get(workload)?.divisor ?? 1;
        row[chart.field] = stat.mean / divisor;
        row[`${chart.field}Sd`] = stat.stdev / divisor;
      }
      for (const axis of axes) row[`axis_${axis}`] = String(cell.variant.variant.options[axis] ?? "–");
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

/** The charts' width on report.html's page: its body, less padding and the y axes' labels. */
const PAGE_PX = PAGE_WIDTH_PX - 100;
/** Half of it, less the second chart's y axis labels. */
const HALF_PAGE_PX = (PAGE_PX - 100) / 2;

/** The interactive charts: one view, its controls shared by the charts in it. */
export function pageSpec(data: ReportData): TopLevelSpec {
  const axes = filterAxes(data);
  const charts = pageCharts(data);
  const rows = pageRows(data, axes, charts);
  const workloads = [...new Set(rows.map((row) => row.workload))];
  const axisFilter = axes
    .map((axis) => `(axis_${axis} == 'all' || datum['axis_${axis}'] == axis_${axis})`)
    .join(" && ");
  // The page's 1100 px: two charts a row while a chart's bars fit in half of it, one a row beyond (a big matrix
  // then gets thinner bars). Wide enough to tell the bars apart either way.
  const barsWidth = Math.max(240, 26 * data.variants.length);
  const columns = barsWidth <= HALF_PAGE_PX ? 2 : 1;
  const width = columns === 2 ? HALF_PAGE_PX : Math.min(PAGE_PX, barsWidth);
  const chart = ({ field, axis, units, higherIsBetter }: PageChart) => ({
    // The selected workload's unit in the title: a vega expression over a table of the titles by workload.
    title: {
      text: {
        expr: `(${JSON.stringify(Object.fromEntries([...units].map(([workload, unit]) => [workload, axisTitle(axis, unit)])))})[workload]`,
      },
    },
    width,
    height: 200,
    transform: [
      { filter: `datum.workload == workload && isValid(datum.${field})${axisFilter ? ` && ${axisFilter}` : ""}` },
      {
        calculate: `sortBy == 'value' ? ${higherIsBetter ? "-" : ""}datum.${field} : datum.order`,
        as: "rank",
      },
    ],
    mark: { type: "bar" as const, tooltip: true },
    encoding: {
      x: {
        field: "variant",
        type: "nominal" as const,
        sort: { field: "rank" },
        title: null,
        axis: { labelAngle: -40, labelLimit: 160 },
      },
      y: { field, type: "quantitative" as const, title: axis },
      color: { field: "variant", type: "nominal" as const, legend: null },
      tooltip: [
        { field: "variant", title: "variant" },
        { field, title: axis, format: ",.1f" },
        { field: `${field}Sd`, title: "± stdev", format: ",.1f" },
        { field: "n", title: "runs" },
        { field: "flags", title: "flags" },
      ],
    },
  });
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
    concat: charts.map(chart),
  } as TopLevelSpec;
}

const STYLE = `
:root { color-scheme: light dark; --fg: #1b1b1b; --bg: #ffffff; --muted: #666; --line: #ddd; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e6e6; --bg: #161616; --muted: #aaa; --line: #444; } }
body { font: 15px/1.5 Helvetica, Arial, sans-serif; color: var(--fg); background: var(--bg); margin: 2rem auto; max-width: ${PAGE_WIDTH_PX}px; padding: 0 1rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 2px 8px; }
td { text-align: right; } td:first-child { text-align: left; }
blockquote { border-left: 4px solid #d9822b; margin: 1rem 0; padding: 0.2rem 1rem; }
.vega-bind { display: inline-block; margin: 0 1.5rem 0.5rem 0; }
#controls { position: sticky; top: 0; background: var(--bg); padding: 0.5rem 0; z-index: 1; }
#charts { margin: 1rem 0 2rem; }
summary { cursor: pointer; color: var(--muted); margin: 0.5rem 0 1.5rem; }
`;

/** The page: report.md's text and tables (its SVG images left out: the charts here replace them). */
export function renderHtml(data: ReportData, parts: ReportPart[]): string {
  const shown = parts.map((part) =>
    typeof part !== "string"
      ? part
      : part
          .split("\n")
          .filter((line) => !/^!\[.*\]\(.*\.svg\)$/.test(line) && line !== "# layerbench report")
          .join("\n"),
  );
  const body = partsToHtml(shown);
  // Compiled to vega here: the page needs neither vega-lite (a quarter of a MiB) nor the compile at each load.
  const spec = JSON.stringify(vl.compile(pageSpec(data)).spec);
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
const dark = window.matchMedia("(prefers-color-scheme: dark)").matches;
vegaEmbed("#charts", spec, { mode: "vega", renderer: "svg", actions: false, bind: "#controls", ...(dark ? { theme: "dark" } : {}) })
  .catch((error) => { document.getElementById("charts").textContent = "charts could not be drawn: " + error; console.error(error); });
</script>
</body>
</html>
`;
}
