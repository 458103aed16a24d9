import type * as vl from "vega-lite";
import { throughPageCache } from "../core/results.js";
import { median } from "../core/stats.js";
import type { ChartDefinition, ChartRow, Unit } from "./chart-definitions.js";
import { emulatedCpuNote, type ReportData } from "./rows.js";

// A chart of a big matrix: beyond the variants a bar chart can label, one row per variant and one column per
// workload, each cell the value in print and coloured by its ratio to the baseline. Every variant stays named
// (a colour legend of a hundred entries repeats its colours), and one view draws far faster than a panel per
// workload (a hundred variants x twenty workloads: about a third of the time).

/** A value in the unit its column or the title names, in at most six characters: "86.0k", "1024", "9.81", "0.42". */
export function cellText(value: number): string {
  if (value >= 10_000) return `${(value / 1000).toFixed(1)}k`;
  if (value >= 100) return value.toFixed(0);
  return value.toFixed(value >= 10 ? 1 : 2);
}

/** Beyond this share of the colour scale's reach (on its log scale) a cell is dark enough for white text. */
const WHITE_TEXT_FROM = 0.6;

interface Cell {
  panel: string;
  variant: string;
  ratio: number;
  text: string;
  /** The cell's colour is dark: its text is white. */
  dark: boolean;
}

/**
 * The cells, each against its workload's baseline value; where the baseline has not measured every workload (or
 * there is none), each against its workload's median instead, so that one chart has one reference.
 */
function cells(rows: ChartRow[], baseline: string | undefined): { cells: Cell[]; againstBaseline: boolean } {
  const byPanel = new Map<string, number[]>();
  for (const row of rows) {
    const values = byPanel.get(row.panel);
    if (values) values.push(row.value);
    else byPanel.set(row.panel, [row.value]);
  }
  const baselineValues = new Map(
    rows.filter((row) => row.variant === baseline && row.value > 0).map((row) => [row.panel, row.value]),
  );
  const againstBaseline = baselineValues.size === byPanel.size;
  const reference = new Map(
    [...byPanel].map(([panel, values]) => [panel, againstBaseline ? baselineValues.get(panel) : median(values)]),
  );
  const ratios = rows.map((row) => row.value / (reference.get(row.panel) as number));
  const logRatios = ratios.map(Math.log);
  const reachUp = Math.max(0, ...logRatios.filter(Number.isFinite));
  const reachDown = Math.min(0, ...logRatios.filter(Number.isFinite));
  return {
    againstBaseline,
    cells: rows.map((row, index) => {
      const logRatio = logRatios[index];
      // A ratio of zero (nothing moved) has no colour on a log scale: its cell stays white.
      const reach = !Number.isFinite(logRatio)
        ? 0
        : logRatio > 0
          ? logRatio / reachUp
          : logRatio < 0
            ? logRatio / reachDown
            : 0;
      return {
        panel: row.panel.replace("\n", ", "),
        variant: row.variant,
        ratio: ratios[index],
        text: `${cellText(row.value)}${row.flags ? " !" : ""}`,
        dark: reach > WHITE_TEXT_FROM,
      };
    }),
  };
}

/** What a matrix needs of its chart: a value chart's definition, or the tail-latency chart's own. */
type MatrixDefinition = Pick<ChartDefinition, "title" | "matrixTitle" | "axis" | "lowerIsBetter"> & {
  /** Where the numbers the cells leave out are. */
  elsewhere?: string;
};

export function matrixChartSpec(
  data: ReportData,
  chart: MatrixDefinition,
  rows: ChartRow[],
  unit: Unit | undefined,
): vl.TopLevelSpec {
  const { cells: values, againstBaseline } = cells(rows, data.baseline?.label);
  const reference = againstBaseline ? "× baseline" : "× the workload's median";
  const subtitle = [
    unit && unit.label !== chart.axis ? `in ${unit.label}` : "",
    rows.some((row) => row.repeats > 1) ? "mean of the repeats" : "",
    `colour: ${reference}, blue better`,
    chart.elsewhere ?? "spread and p99 in report.md's tables",
    rows.some((row) => row.flags) ? "! flagged: see Flags in report.md" : "",
    data.documents.some((document) => throughPageCache(document.profile))
      ? "buffered I/O: the page cache is part of the numbers"
      : "",
    emulatedCpuNote(data) ?? "",
  ].filter(Boolean);
  const measured = new Set(rows.map((row) => row.variant));
  const cellPosition = {
    // Explicit domains keep the variants' and workloads' order without a sort over the cells.
    x: {
      field: "panel",
      type: "nominal" as const,
      title: null,
      scale: { domain: [...new Set(values.map((cell) => cell.panel))] },
      axis: { orient: "top" as const, labelAngle: -40, labelLimit: 220 },
    },
    y: {
      field: "variant",
      type: "nominal" as const,
      title: null,
      scale: { domain: data.variants.map((variant) => variant.label).filter((label) => measured.has(label)) },
      axis: { labelLimit: 320 },
    },
  };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    description: `${chart.matrixTitle ?? chart.title} per variant and workload; the values are in the tables of report.md.`,
    title: { text: chart.matrixTitle ?? chart.title, subtitle, anchor: "start" },
    background: "white",
    config: { font: "Helvetica, Arial, sans-serif", view: { stroke: null } },
    data: { values },
    width: { step: 46 },
    height: { step: 16 },
    encoding: cellPosition,
    layer: [
      {
        mark: { type: "rect", aria: false },
        encoding: {
          color: {
            field: "ratio",
            type: "quantitative",
            title: reference,
            scale: { type: "log", scheme: "redblue", domainMid: 1, reverse: chart.lowerIsBetter === true },
          },
        },
      },
      {
        mark: { type: "text", fontSize: 9, aria: false },
        encoding: {
          text: { field: "text" },
          color: { condition: { test: "datum.dark", value: "white" }, value: "black" },
        },
      },
    ],
  };
}
