import type * as vl from "vega-lite";
import type { Run } from "../core/results.js";
import { chartFrame } from "./chart-definitions.js";
import { variantColourScale } from "./colours.js";
import { emulatedCpuNote, panelName, type ReportData } from "./rows.js";

// Tail latency as storage engineers compare it: per workload, each variant's completion-latency percentiles from
// the median to the 99.99th (fio's clat_ns.percentile), both axes logarithmic, one line per variant.

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

/** A variant's mean of a percentile over its runs that reported it. */
function meanOf(
  runs: Run[],
  direction: "read" | "write" | "mixed",
  key: (typeof PERCENTILES)[number]["key"],
  which: Which,
) {
  const values = runs.flatMap((run) => {
    const value = run[direction]?.[which]?.[key];
    return value !== undefined && value > 0 ? [value] : [];
  });
  return values.length > 0 ? values.reduce((sum, value) => sum + value, 0) / values.length : undefined;
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

export function percentileSpec(data: ReportData): vl.TopLevelSpec | undefined {
  // A workload that syncs (etcd's check) gets a second panel: its fdatasync calls' percentiles.
  const measured = data.panels.flatMap((panel) =>
    (["latencyNs", "syncLatencyNs"] as const).flatMap((which) =>
      panel.cells.flatMap(({ variant }) => {
        const runs = variant.variant.workloads.find((workload) => workload.id === panel.workloadId)?.runs ?? [];
        const points = PERCENTILES.flatMap(({ key, percent }) => {
          const ns = meanOf(runs, panel.direction, key, which);
          return ns === undefined ? [] : [{ percent, nines: nines(percent), ns }];
        });
        // A curve needs the tail: at least the median, the 99th and one more.
        return points.length >= 3
          ? points.map((point) => ({
              ...point,
              panel: `${panelName(panel, data.panels)} · ${panel.direction}${which === "syncLatencyNs" ? " · fdatasync" : ""}`,
              variant: variant.label,
            }))
          : [];
      }),
    ),
  );
  if (measured.length === 0) return undefined;
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
