import { formatIops, formatLatency, formatRate } from "../util/format.js";
import { formatBytes } from "../util/size.js";
import type { Metric } from "./results.js";

/** A metric as reports show it: in tables, in comparisons, and which way is better. */
export interface ShownMetric {
  metric: Metric;
  /** Table column heading. */
  heading: string;
  /** In a sentence or a comparison row. */
  name: string;
  higherIsBetter: boolean;
  format: (value: number) => string;
  /** Whether it is set against the baseline (a ratio) and compared before/after; bytes moved depend on the runtime. */
  relative: boolean;
}

/** The metrics every report and comparison shows, in this order. */
export const SHOWN_METRICS: ShownMetric[] = [
  { metric: "iops", heading: "IOPS", name: "IOPS", higherIsBetter: true, format: formatIops, relative: true },
  {
    metric: "bwBytes",
    heading: "Bandwidth",
    name: "bandwidth",
    higherIsBetter: true,
    format: formatRate,
    relative: true,
  },
  {
    metric: "ioBytes",
    heading: "Moved",
    name: "bytes moved",
    higherIsBetter: true,
    format: formatBytes,
    relative: false,
  },
  {
    metric: "latMeanNs",
    heading: "Mean latency",
    name: "mean latency",
    higherIsBetter: false,
    format: formatLatency,
    relative: true,
  },
  {
    metric: "latP99Ns",
    heading: "p99 latency",
    name: "p99 latency",
    higherIsBetter: false,
    format: formatLatency,
    relative: true,
  },
];

/** A before/after change smaller than this (in percent) is not flagged by `layerbench compare`. */
export const DEFAULT_THRESHOLD_PCT = 5;
