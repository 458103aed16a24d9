import { z } from "zod";
import { UserError } from "../util/errors.js";
import type { LatencyNs } from "./results.js";

// A run's latency from fio's JSON: its mean and percentiles over one process or several (numjobs without
// group_reporting, client jobs), from fio's own percentiles or, with json+, from the merged histograms.

export class FioOutputError extends UserError {}

/** fio's latency object (clat_ns, lat_ns, sync's): only the parts layerbench reads. */
export const FioLatencySchema = z.object({
  min: z.number(),
  max: z.number(),
  mean: z.number(),
  N: z.number().optional(),
  percentile: z.record(z.string(), z.number()).optional(),
  /**
   * json+ only: the completion latency histogram. fio >= 2.20 keys it by the bucket's latency; 2.x before it
   * by bucket index, beside the FIO_IO_U_PLAT_* constants that convert an index to a latency.
   */
  bins: z.record(z.string(), z.number()).optional(),
});
export type FioLatency = z.infer<typeof FioLatencySchema>;

const PERCENTILES: Array<["p50" | "p90" | "p99" | "p99_9" | "p99_99", number]> = [
  ["p50", 50],
  ["p90", 90],
  ["p99", 99],
  ["p99_9", 99.9],
  ["p99_99", 99.99],
];

function percentileFromBins(bins: Map<number, number>, percent: number): number | undefined {
  const total = [...bins.values()].reduce((sum, count) => sum + count, 0);
  if (total === 0) return undefined;
  // fio's own rule: the first bucket at which the running count reaches percent of all samples.
  const threshold = (percent / 100) * total;
  let running = 0;
  for (const [value, count] of [...bins.entries()].sort((a, b) => a[0] - b[0])) {
    running += count;
    if (running >= threshold) return value;
  }
  return undefined;
}

function reportedPercentile(latency: FioLatency, percent: number): number | undefined {
  const entry = Object.entries(latency.percentile ?? {}).find(([key]) => Number(key) === percent);
  return entry?.[1];
}

type LatencyPart = { latency: FioLatency; scale: number; ios: number };

interface PercentileValue {
  value: number;
  /** Not fio's number nor one from the merged histograms: an IO-weighted mean of the processes' percentiles. */
  estimated: boolean;
}

// Preference: fio's own percentile for a single process; exact from the merged histograms (json+) for
// several; else the IO-weighted mean of their percentiles, the best estimate without histograms, marked so.
function percentile(
  parts: LatencyPart[],
  percent: number,
  weight: (part: LatencyPart) => number,
  origin: string,
): PercentileValue | undefined {
  const scale = parts[0].scale;
  const reported = parts.map((part) => reportedPercentile(part.latency, percent));
  if (parts.length === 1 && reported[0] !== undefined) return { value: reported[0] * scale, estimated: false };
  if (parts.every((part) => part.latency.bins)) {
    const value = percentileFromBins(
      binMap(
        parts.map((part) => part.latency),
        origin,
      ),
      percent,
    );
    return value === undefined ? undefined : { value: value * scale, estimated: false };
  }
  if (reported.some((value) => value === undefined)) return undefined;
  const value = parts.reduce((sum, part, index) => sum + (reported[index] as number) * scale * weight(part), 0);
  return { value, estimated: true };
}

export function combineLatency(parts: LatencyPart[], origin: string): LatencyNs {
  const totalIos = parts.reduce((sum, part) => sum + part.ios, 0);
  const weight = (part: LatencyPart) => (totalIos > 0 ? part.ios / totalIos : 1 / parts.length);
  const result: LatencyNs = {
    mean: parts.reduce((sum, part) => sum + part.latency.mean * part.scale * weight(part), 0),
  };
  for (const [key, percent] of PERCENTILES) {
    const found = percentile(parts, percent, weight, origin);
    if (!found) continue;
    result[key] = found.value;
    if (found.estimated) result.percentilesEstimated = true;
  }
  return result;
}

const INDEXED_BINS_CONSTANTS = ["FIO_IO_U_PLAT_BITS", "FIO_IO_U_PLAT_VAL", "FIO_IO_U_PLAT_NR"];

/**
 * fio 2.x's `plat_idx_to_val` (stat.c, fio-2.15..2.19): the latency a histogram bucket index stands for, the
 * middle of the bucket, truncated to an integer as fio's unsigned int return value is.
 */
function indexToLatency(index: number, bits: number, valuesPerGroup: number): number {
  if (index < valuesPerGroup << 1) return index;
  const errorBits = (index >> bits) - 1;
  const base = 2 ** (errorBits + bits);
  return Math.floor(base + ((index % valuesPerGroup) + 0.5) * 2 ** errorBits);
}

/** One histogram as latency -> count, from either json+ layout; anything else in it is an error, never a guess. */
function latencyBins(bins: Record<string, number>, origin: string): Map<number, number> {
  const indexed = "FIO_IO_U_PLAT_BITS" in bins;
  const bits = bins.FIO_IO_U_PLAT_BITS;
  const valuesPerGroup = bins.FIO_IO_U_PLAT_VAL;
  const result = new Map<number, number>();
  for (const [key, count] of Object.entries(bins)) {
    if (indexed && INDEXED_BINS_CONSTANTS.includes(key)) continue;
    if (!/^\d+$/.test(key))
      throw new FioOutputError(`${origin}: json+ histogram has a bucket "${key}" that is no number`);
    const latency = indexed ? indexToLatency(Number(key), bits, valuesPerGroup) : Number(key);
    result.set(latency, (result.get(latency) ?? 0) + count);
  }
  return result;
}

function binMap(latencies: FioLatency[], origin: string): Map<number, number> {
  const merged = new Map<number, number>();
  for (const latency of latencies) {
    for (const [value, count] of latencyBins(latency.bins ?? {}, origin)) {
      merged.set(value, (merged.get(value) ?? 0) + count);
    }
  }
  return merged;
}
