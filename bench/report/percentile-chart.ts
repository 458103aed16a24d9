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

/** A variant's mean of a percentile over its runs that reported it. */
function meanOf(runs: Run[], direction: "read" | "write" | "mixed", key: (typeof PERCENTILES)[number]["key"]) {
  const values = runs.flatMap((run) => {
    const value = run[direction]?.latencyNs[key];
    return value !== undefined && value > 0 ? [value] : [];
  });
  return values.length > 0 ? values.reduce((sum, value) => sum + value, 0) / values.length : undefined;
}

export function percentileSpec(data: ReportData): vl.TopLevelSpec | undefined {
  const rows = data.panels.flatMap((panel) =>
    panel.cells.flatMap(({ variant }) => {
      const runs = variant.variant.workloads.find((workload) => workload.id === panel.workloadId)?.runs ?? [];
      const points = PERCENTILES.flatMap(({ key, percent }) => {
        const ns = meanOf(runs, panel.direction, key);
        return ns === undefined ? [] : [{ percent, nines: nines(percent), micros: ns / 1000 }];
      });
      // A curve needs the tail: at least the median, the 99th and one more.
      return points.length >= 3
        ? points.map((point) => ({
            ...point,
            panel: `${panelName(panel, data.panels)} · ${panel.direction}`,
            variant: variant.label,
          }))
        : [];
    }),
  );
  if (rows.length === 0) return undefined;
  const subtitle = [
    "completion latency at each percentile, the mean over the runs; both axes logarithmic",
    emulatedCpuNote(data) ?? "",
  ].filter(Boolean);
  return {
    ...chartFrame("Tail latency: completion latency by percentile", subtitle),
    data: { values: rows },
    facet: { field: "panel", type: "nominal", title: null, sort: [...new Set(rows.map((row) => row.panel))] },
    columns: 3,
    resolve: { scale: { y: "independent" }, axis: { x: "independent" } },
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
        y: { field: "micros", type: "quantitative", title: "Latency (µs)", scale: { type: "log" } },
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
