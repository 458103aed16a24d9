import type * as vl from "vega-lite";
import type { Direction } from "../core/results.js";
import type { Series } from "../core/series.js";
import { chartFrame } from "./chart-definitions.js";
import { variantColourScale } from "./colours.js";
import { emulatedCpuNote, panelName, type ReportData } from "./rows.js";

// What happened during the runs: per workload, every variant's IOPS second by second (each run a line in the
// variant's colour, the baseline among them; a variant's mean run where that would be too many lines), from the
// series fio logged (core/series.ts).

/** Lines a panel can show apart: beyond, the variants whose runs did not settle first, then the report's order. */
const MAX_VARIANTS = 12;
/** Points per line at most, and over the chart: a run's seconds are averaged in groups beyond them, so that the
 * report of a big matrix stays fast (100 variants x 20 panels x 5 runs of 60 s: 9.8 s to report, drawn whole). */
const MAX_POINTS = 120;
const MAX_CHART_POINTS = 20_000;
/**
 * Lines a chart draws at most: beyond, each variant's runs are averaged second by second into one line. Drawing costs
 * per line more than per point (12 variants x 20 panels x 5 runs, 1,200 lines: 0.5 s; 240: 0.1 s).
 */
const MAX_LINES = 240;

/** The variants drawn: all up to MAX_VARIANTS; beyond, the baseline, those flagged not-steady, then the rest in order. */
function drawnVariants(data: ReportData): Set<string> {
  if (data.variants.length <= MAX_VARIANTS) return new Set(data.variants.map((variant) => variant.label));
  const unsettled = new Set(
    data.panels.flatMap((panel) =>
      panel.cells
        .filter((cell) => cell.warnings.some((warning) => warning.code === "not-steady"))
        .map((cell) => cell.variant.label),
    ),
  );
  const ranked = [
    ...data.variants.filter((variant) => variant.baseline),
    ...data.variants.filter((variant) => !variant.baseline && unsettled.has(variant.label)),
    ...data.variants.filter((variant) => !variant.baseline && !unsettled.has(variant.label)),
  ];
  return new Set(ranked.slice(0, MAX_VARIANTS).map((variant) => variant.label));
}

/** A run's values in at most `points`, each the mean of its group of seconds, at the group's last second. */
function thinned(values: number[], intervalSec: number, points: number): Array<{ second: number; value: number }> {
  const group = Math.ceil(values.length / points);
  return Array.from({ length: Math.ceil(values.length / group) }, (_, index) => {
    const part = values.slice(index * group, (index + 1) * group);
    return {
      second: (index * group + part.length) * intervalSec,
      value: part.reduce((sum, value) => sum + value, 0) / part.length,
    };
  });
}

/** A panel's IOPS of a run: its own direction's when the run logged both, else all of them (there is one). */
function directionIops(series: Series, direction: Direction): number[] {
  const own = direction === "read" ? series.readIops : direction === "write" ? series.writeIops : undefined;
  return own ?? series.iops;
}

/** Runs' values second by second, each second the mean of the runs that reached it. */
function meanOfRuns(runs: number[][]): number[] {
  const length = Math.max(...runs.map((values) => values.length));
  return Array.from({ length }, (_, second) => {
    const values = runs.flatMap((run) => (second < run.length ? [run[second]] : []));
    return values.reduce((sum, value) => sum + value, 0) / values.length;
  });
}

/**
 * The rows of the chart: one per point of every run drawn that has a series (or of each variant's mean run, past
 * MAX_LINES); none when no run has one.
 */
function seriesRows(data: ReportData, drawn: Set<string>) {
  const runLines = data.panels.reduce(
    (sum, panel) =>
      sum +
      panel.cells
        .filter((cell) => drawn.has(cell.variant.label))
        .reduce(
          (count, cell) =>
            count +
            (cell.variant.variant.workloads.find((workload) => workload.id === panel.workloadId)?.runs.length ?? 0),
          0,
        ),
    0,
  );
  const tooMany = runLines > MAX_LINES;
  let averaged = false;
  const lines = tooMany ? data.panels.length * drawn.size : runLines;
  const points = Math.max(5, Math.min(MAX_POINTS, Math.floor(MAX_CHART_POINTS / Math.max(1, lines))));
  const rows = data.panels.flatMap((panel) => {
    const name = panelName(panel, data.panels);
    return panel.cells.flatMap(({ variant }) => {
      if (!drawn.has(variant.label)) return [];
      const workload = variant.variant.workloads.find((candidate) => candidate.id === panel.workloadId);
      const runs = (workload?.runs ?? []).flatMap((run, index) =>
        run[panel.direction] && run.series
          ? [
              {
                name: `${variant.label} #${index + 1}`,
                intervalSec: run.series.intervalSec,
                iops: directionIops(run.series, panel.direction),
              },
            ]
          : [],
      );
      const average = tooMany && runs.length > 1;
      averaged ||= average;
      const drawnRuns = average
        ? [
            {
              name: `${variant.label} (mean of ${runs.length} runs)`,
              intervalSec: runs[0].intervalSec,
              iops: meanOfRuns(runs.map((run) => run.iops)),
            },
          ]
        : runs;
      return drawnRuns.flatMap((run) =>
        thinned(run.iops, run.intervalSec, points).map(({ second, value }) => ({
          panel: name,
          variant: variant.label,
          run: run.name,
          second,
          iops: value,
        })),
      );
    });
  });
  return { rows, averaged };
}

/** Below this many points a run's line is drawn with its points. */
const MIN_LINE_POINTS = 3;

/**
 * The seconds axis: whole seconds. vega puts ticks at half seconds on a short run (1, 1.5, 2 read "1 2 2" as
 * integers; its tickMinStep did not stop it), so up to a dozen seconds each one is a tick of its own.
 */
function secondsAxis(rows: Array<{ second: number }>) {
  const seconds = rows.map((row) => row.second);
  const [first, last] = [Math.floor(Math.min(...seconds)), Math.ceil(Math.max(...seconds))];
  return last <= 12
    ? { format: "d", values: Array.from({ length: last - first + 1 }, (_, index) => first + index) }
    : { format: "d" };
}

export function seriesSpec(data: ReportData): vl.TopLevelSpec | undefined {
  const drawn = drawnVariants(data);
  const { rows, averaged } = seriesRows(data, drawn);
  const points = new Map<string, number>();
  for (const row of rows)
    points.set(`${row.panel}\u0000${row.run}`, (points.get(`${row.panel}\u0000${row.run}`) ?? 0) + 1);
  const shortest = Math.min(...points.values());
  if (rows.length === 0) return undefined;
  const labels = data.variants.map((variant) => variant.label);
  const subtitle = [
    averaged
      ? "each variant's runs averaged second by second, a line in its colour (a line a run: too many to tell apart); IOPS of all jobs in the panel's direction, fio's log averaged over each second"
      : "each run a line in its variant's colour; IOPS of all jobs in the panel's direction, fio's log averaged over each second",
    drawn.size < data.variants.length
      ? `${drawn.size} of ${data.variants.length} variants: the baseline and those that did not settle first; report.md flags every run`
      : "",
    emulatedCpuNote(data) ?? "",
  ].filter(Boolean);
  return {
    ...chartFrame("IOPS second by second", subtitle),
    data: { values: rows },
    facet: { field: "panel", type: "nominal", title: null, sort: [...new Set(rows.map((row) => row.panel))] },
    columns: 2,
    resolve: { scale: { y: "independent" }, axis: { x: "independent" } },
    spec: {
      width: 420,
      height: 160,
      // report.html: drag to pan, wheel to zoom the seconds (a static SVG ignores it).
      params: [{ name: "zoom", select: { type: "interval", encodings: ["x"] }, bind: "scales" }],
      // A run of one or two seconds is a point or a stub: drawn with its points, not as an invisible line.
      mark: { type: "line", strokeWidth: 1.2, ...(shortest < MIN_LINE_POINTS && { point: { size: 16 } }) },
      encoding: {
        x: { field: "second", type: "quantitative", title: "Seconds", axis: secondsAxis(rows) },
        y: { field: "iops", type: "quantitative", title: "IOPS" },
        detail: { field: "run" },
        color: {
          field: "variant",
          type: "nominal",
          title: "Variant",
          sort: null,
          scale: variantColourScale(labels),
          legend: { orient: "top", columns: 3, labelLimit: 0 },
        },
      },
    },
  };
}
