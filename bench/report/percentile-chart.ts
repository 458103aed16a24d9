import type * as vl from "vega-lite";
import type { Run } from "../core/results.js";
import { chartFrame, MAX_LABELLED_VARIANTS } from "./chart-definitions.js";
import { variantColourScale } from "./colours.js";
import { matrixChartSpec } from "./matrix-chart.js";
import { emulatedCpuNote, panelName, type ReportData } from "./rows.js";

// Tail latency as storage engineers compare it: per workload, each variant's completion-latency percentiles from
// the median to the 99.99th (fio's clat_ns.percentile), both axes logarithmic, one line per variant; beyond the
// variants a legend tells apart, a matrix of each variant's tail.

const PERCENTILES = [
  { key: "p50", percent: 50 },
  { key: "p90", percent: 90 },
  { key: "p99", percent: 99 },
  { key: "p99_9", percent: 99.9 },
  { key: "p99_99", percent: 99.99 },
] as const;

/** A percentile's place on the x axis: its nines, 1 for the median's 50 %, 4 for 99.99 %. */
const nines = (percent: number) => -Math.log10(1 - percent / 100);

/** Which latency a panel draws: the I/O's completion latency, or the fsync/fdatasync calls' after it. */
type Which = "latencyNs" | "syncLatencyNs";

/** A variant's curve: each percentile's mean over its runs that reported it (a big matrix has 10^5 of these). */
function curveOf(runs: Run[], direction: "read" | "write" | "mixed", which: Which) {
  const curve: Array<{ percent: number; nines: number; ns: number }> = [];
  if (!runs.some((run) => run[direction]?.[which])) return curve;
  for (const { key, percent } of PERCENTILES) {
    let [sum, count] = [0, 0];
    for (const run of runs) {
      const value = run[direction]?.[which]?.[key];
      if (value !== undefined && value > 0) [sum, count] = [sum + value, count + 1];
    }
    if (count > 0) curve.push({ percent, nines: nines(percent), ns: sum / count });
  }
  return curve;
}

/** The chart's unit: the largest in which the median of its medians is at least 1 (ms for a disk, µs for RAM). */
const UNITS = [
  { label: "µs", ns: 1e3 },
  { label: "ms", ns: 1e6 },
  { label: "s", ns: 1e9 },
] as const;

function latencyUnit(mediansNs: number[]): (typeof UNITS)[number] {
  const sorted = [...mediansNs].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
  return [...UNITS].reverse().find((unit) => median >= unit.ns) ?? UNITS[0];
}

/**
 * The log axis's ticks: 1, 2 and 5 of each decade from below the smallest value to above the largest, or the
 * powers of ten alone beyond three decades. Vega's own put every multiple of a decade, labels touching.
 */
export function logTicks(min: number, max: number): number[] {
  const [from, to] = [Math.floor(Math.log10(min)), Math.ceil(Math.log10(max))];
  const steps = to - from > 3 ? [1] : [1, 2, 5];
  const all = Array.from({ length: to - from + 1 }, (_, index) => from + index).flatMap((power) =>
    steps.map((step) => Number((step * 10 ** power).toPrecision(12))),
  );
  const first = all.filter((tick) => tick <= min).length - 1;
  const last = all.findIndex((tick) => tick >= max);
  return all.slice(Math.max(0, first), last < 0 ? all.length : last + 1);
}

/** A variant's curve in one panel: its percentiles, from the median up, each the mean over its runs. */
interface Curve {
  panel: string;
  variant: string;
  points: Array<{ percent: number; nines: number; ns: number }>;
}

const curvesOf = new WeakMap<ReportData, Curve[]>();

/**
 * Every variant's curve in every panel (a workload that syncs, etcd's check, gets a second: its fdatasync calls).
 * Worked out once per report: its chart and report.md's section both ask.
 */
export function percentileCurves(data: ReportData): Curve[] {
  const known = curvesOf.get(data);
  if (known) return known;
  const curves = data.panels.flatMap((panel) =>
    (["latencyNs", "syncLatencyNs"] as const).flatMap((which) => {
      const name = `${panelName(panel, data.panels)} · ${panel.direction}${which === "syncLatencyNs" ? " · fdatasync" : ""}`;
      return panel.cells.flatMap(({ variant }) => {
        const runs = variant.variant.workloads.find((workload) => workload.id === panel.workloadId)?.runs ?? [];
        const points = curveOf(runs, panel.direction, which);
        // A curve needs the tail: at least the median, the 99th and one more.
        return points.length >= 3 ? [{ panel: name, variant: variant.label, points }] : [];
      });
    }),
  );
  curvesOf.set(data, curves);
  return curves;
}

/**
 * Beyond the variants a legend can tell apart, one cell per variant and panel: the highest percentile every curve
 * has (fio reports one list for all), against the baseline's. A hundred curves a panel are a tangle, and took a
 * second to draw where this takes a tenth.
 */
function tailMatrixSpec(data: ReportData, curves: Curve[]): vl.TopLevelSpec {
  const has = (curve: Curve, percent: number) => curve.points.some((point) => point.percent === percent);
  // The percentile most curves have (all of them, as fio reports one list), the highest of those.
  const { percent } = PERCENTILES.map(({ percent }) => ({
    percent,
    count: curves.filter((curve) => has(curve, percent)).length,
  })).reduce((best, next) => (next.count >= best.count ? next : best));
  const cells = curves.flatMap((curve) => {
    const point = curve.points.find((candidate) => candidate.percent === percent);
    return point ? [{ panel: curve.panel, variant: curve.variant, ns: point.ns }] : [];
  });
  const unit = latencyUnit(cells.map((cell) => cell.ns));
  const rows = cells.map((cell) => ({
    panel: cell.panel,
    variant: cell.variant,
    value: cell.ns / unit.ns,
    low: 0,
    high: 0,
    repeats: 1,
    flags: "",
  }));
  const panelCount = new Set(curves.map((curve) => curve.panel)).size;
  return matrixChartSpec(
    data,
    {
      title: `Tail latency: completion latency at the ${percent}th percentile`,
      axis: "Latency",
      lowerIsBetter: true,
      elsewhere: `the mean over the runs; ${data.variants.length} variants in ${panelCount} panels are too many curves to tell apart: each whole curve is in results.json`,
    },
    rows,
    { label: unit.label, divisor: unit.ns },
  );
}

export function percentileSpec(data: ReportData): vl.TopLevelSpec | undefined {
  const curves = percentileCurves(data);
  if (curves.length === 0) return undefined;
  if (data.variants.length > MAX_LABELLED_VARIANTS) return tailMatrixSpec(data, curves);
  const measured = curves.flatMap(({ panel, variant, points }) =>
    points.map((point) => ({ panel, variant, percent: point.percent, nines: point.nines, ns: point.ns })),
  );
  const unit = latencyUnit(measured.filter((row) => row.percent === 50).map((row) => row.ns));
  const rows = measured.map(({ ns, ...row }) => ({ ...row, latency: ns / unit.ns }));
  const values = rows.map((row) => row.latency);
  const ticks = logTicks(Math.min(...values), Math.max(...values));
  const subtitle = [
    "completion latency at each percentile, the mean over the runs; both axes logarithmic",
    emulatedCpuNote(data) ?? "",
  ].filter(Boolean);
  return {
    ...chartFrame("Tail latency: completion latency by percentile", subtitle),
    data: { values: rows },
    facet: { field: "panel", type: "nominal", title: null, sort: [...new Set(rows.map((row) => row.panel))] },
    columns: 3,
    resolve: { axis: { x: "independent" } },
    spec: {
      width: 280,
      height: 180,
      mark: { type: "line", point: true },
      encoding: {
        x: {
          field: "nines",
          type: "quantitative",
          title: "Percentile",
          scale: { domain: [nines(50), nines(99.99)] },
          axis: {
            values: PERCENTILES.map(({ percent }) => nines(percent)),
            labelExpr: `{${PERCENTILES.map(({ percent }) => `'${nines(percent)}': '${percent}'`).join(", ")}}[datum.value + '']`,
          },
        },
        y: {
          field: "latency",
          type: "quantitative",
          title: `Latency (${unit.label})`,
          // One domain for every panel: the ticks are the same, and none falls outside a panel.
          scale: { type: "log", domain: [ticks[0], ticks.at(-1) ?? ticks[0]], nice: false },
          axis: { values: ticks, format: ",~r", labelOverlap: "greedy" },
        },
        color: {
          field: "variant",
          type: "nominal",
          title: "Variant",
          sort: null,
          scale: variantColourScale(data.variants.map((variant) => variant.label)),
          legend: { orient: "top", columns: 3, labelLimit: 0 },
        },
      },
    },
  };
}
