// What a user chooses about the charts: a leaf module, so that `layerbench --help` lists the choices without
// loading the report (chart-definitions.ts reaches the results schema, and zod with it).

export const LATENCY_SCALES = ["linear", "log"] as const;
export type LatencyScale = (typeof LATENCY_SCALES)[number];

export interface ChartOptions {
  /** The y scale of the latency chart: log shows a 400 ns bar beside a 50 ms one. */
  latencyScale: LatencyScale;
}
