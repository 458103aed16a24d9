import {
  bytesUnit,
  cpuUnit,
  formatIn,
  formatWithSpread,
  iopsUnit,
  latencyUnit,
  rateUnit,
  type UnitPicker,
} from "../util/format.js";
import type { Metric, Stat } from "./results.js";

/** A metric as reports show it: in tables, in comparisons, and which way is better. */
export interface ShownMetric {
  metric: Metric;
  /** Table column heading. */
  heading: string;
  /** In a sentence or a comparison row. */
  name: string;
  higherIsBetter: boolean;
  /** The unit a value reads best in; a spread is written in its mean's unit. */
  unit: UnitPicker;
  format: (value: number) => string;
  /** Whether it is set against the baseline (a ratio) and compared before/after; bytes moved depend on the runtime. */
  relative: boolean;
  /** Shown only where some run measured it (the sync latency of a profile that syncs), not as a column of dashes. */
  whereMeasured?: boolean;
}

const shown = (metric: Omit<ShownMetric, "format">): ShownMetric => ({
  ...metric,
  format: (value) => formatIn(metric.unit(value), value),
});

/** The metrics every report and comparison shows, in this order. */
export const SHOWN_METRICS: ShownMetric[] = [
  shown({ metric: "iops", heading: "IOPS", name: "IOPS", higherIsBetter: true, unit: iopsUnit, relative: true }),
  shown({
    metric: "bwBytes",
    heading: "Bandwidth",
    name: "bandwidth",
    higherIsBetter: true,
    unit: rateUnit,
    relative: true,
  }),
  shown({
    metric: "ioBytes",
    heading: "Moved",
    name: "bytes moved",
    higherIsBetter: true,
    unit: bytesUnit,
    relative: false,
  }),
  shown({
    metric: "latMeanNs",
    heading: "Mean latency",
    name: "mean latency",
    higherIsBetter: false,
    unit: latencyUnit,
    relative: true,
  }),
  shown({
    metric: "latP99Ns",
    heading: "p99 latency",
    name: "p99 latency",
    higherIsBetter: false,
    unit: latencyUnit,
    relative: true,
  }),
  // etcd's question: how long the fdatasync after each write takes, at the 99th percentile.
  shown({
    metric: "syncP99Ns",
    heading: "fdatasync p99",
    name: "fsync/fdatasync p99 latency",
    higherIsBetter: false,
    unit: latencyUnit,
    relative: true,
    whereMeasured: true,
  }),
  // CPU of all the workload's jobs together, and what it buys: the same IOPS at twice the CPU shows here.
  shown({ metric: "cpuPct", heading: "CPU", name: "CPU", higherIsBetter: false, unit: cpuUnit, relative: true }),
  shown({
    metric: "iopsPerCpuPct",
    heading: "IOPS/CPU%",
    name: "IOPS per CPU percent",
    higherIsBetter: true,
    unit: iopsUnit,
    relative: true,
  }),
];

/** A metric's mean over runs as tables write it: "86.0k ± 3.3k" when repeated (both in the mean's unit), else the mean. */
export function formatStat(stat: Stat, metric: ShownMetric): string {
  return stat.n > 1 ? formatWithSpread(metric.unit, stat.mean, stat.stdev) : metric.format(stat.mean);
}

/** A before/after change smaller than this (in percent) is not flagged by `layerbench compare`. */
export const DEFAULT_THRESHOLD_PCT = 5;
