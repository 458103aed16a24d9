import { z } from "zod";
import { UserError } from "../util/errors.js";
import type { DirectionResult, LatencyNs, Run } from "./results.js";

// Only the parts of fio's JSON that layerbench reads; zod drops the rest (json+ adds more).
const FioLatencySchema = z.object({
  min: z.number(),
  max: z.number(),
  mean: z.number(),
  N: z.number().optional(),
  percentile: z.record(z.string(), z.number()).optional(),
  /** json+ only: completion latency histogram, bucket value (ns) -> count. */
  bins: z.record(z.string(), z.number()).optional(),
});
type FioLatency = z.infer<typeof FioLatencySchema>;

const FioDirectionSchema = z.object({
  io_bytes: z.number(),
  /** fio >= 3 writes io_kbytes beside io_bytes (then bytes); older fio wrote io_bytes in KiB. */
  io_kbytes: z.number().optional(),
  bw_bytes: z.number().optional(),
  /** KiB/s. */
  bw: z.number(),
  iops: z.number(),
  /** Milliseconds. */
  runtime: z.number(),
  total_ios: z.number().optional(),
  clat_ns: FioLatencySchema.optional(),
  /** fio < 3: completion latency in microseconds. */
  clat: FioLatencySchema.optional(),
});
type FioDirection = z.infer<typeof FioDirectionSchema>;

const FioJobSchema = z.object({
  jobname: z.string(),
  groupid: z.number(),
  error: z.number(),
  read: FioDirectionSchema,
  write: FioDirectionSchema,
});
type FioJob = z.infer<typeof FioJobSchema>;

const FioOutputSchema = z.object({
  "fio version": z.string(),
  jobs: z.array(FioJobSchema).min(1, "fio reported no jobs"),
});

/** One job section of a fio run (all its processes together), normalised. */
export interface FioJobResult {
  name: string;
  read?: DirectionResult;
  write?: DirectionResult;
}

export interface FioRunResult {
  fioVersion: string;
  jobs: FioJobResult[];
}

export class FioOutputError extends UserError {}

const PERCENTILES: Array<[keyof LatencyNs, number]> = [
  ["p50", 50],
  ["p90", 90],
  ["p99", 99],
  ["p99_9", 99.9],
];

// fio can print notes on stdout before the JSON document; the document starts at the first line opening with '{'.
function extractJson(text: string, origin: string): unknown {
  const start = text.search(/^\{/m);
  if (start < 0) {
    throw new FioOutputError(
      text.trim() === ""
        ? `${origin}: fio output is empty`
        : `${origin}: no JSON document in fio output (was fio run with --output-format=json?)`,
    );
  }
  try {
    return JSON.parse(text.slice(start));
  } catch (error) {
    throw new FioOutputError(`${origin}: fio output is truncated or not valid JSON (${(error as Error).message})`);
  }
}

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

function completionLatency(direction: FioDirection): { latency: FioLatency; scale: number } | undefined {
  if (direction.clat_ns) return { latency: direction.clat_ns, scale: 1 };
  if (direction.clat) return { latency: direction.clat, scale: 1000 };
  return undefined;
}

type LatencyPart = { latency: FioLatency; scale: number; ios: number };

// Preference: fio's own percentile for a single process; exact from the merged histograms (json+) for
// several; else the IO-weighted mean of their percentiles, the best estimate without histograms.
function percentile(parts: LatencyPart[], percent: number, weight: (part: LatencyPart) => number): number | undefined {
  const scale = parts[0].scale;
  const reported = parts.map((part) => reportedPercentile(part.latency, percent));
  if (parts.length === 1 && reported[0] !== undefined) return reported[0] * scale;
  if (parts.every((part) => part.latency.bins)) {
    const value = percentileFromBins(binMap(parts.map((part) => part.latency)), percent);
    return value === undefined ? undefined : value * scale;
  }
  if (reported.some((value) => value === undefined)) return undefined;
  return parts.reduce((sum, part, index) => sum + (reported[index] as number) * scale * weight(part), 0);
}

function combineLatency(parts: LatencyPart[]): LatencyNs {
  const totalIos = parts.reduce((sum, part) => sum + part.ios, 0);
  const weight = (part: LatencyPart) => (totalIos > 0 ? part.ios / totalIos : 1 / parts.length);
  const result: LatencyNs = {
    mean: parts.reduce((sum, part) => sum + part.latency.mean * part.scale * weight(part), 0),
  };
  for (const [key, percent] of PERCENTILES) {
    const value = percentile(parts, percent, weight);
    if (value !== undefined) result[key] = value;
  }
  return result;
}

function binMap(latencies: FioLatency[]): Map<number, number> {
  const merged = new Map<number, number>();
  for (const latency of latencies) {
    for (const [value, count] of Object.entries(latency.bins ?? {})) {
      merged.set(Number(value), (merged.get(Number(value)) ?? 0) + count);
    }
  }
  return merged;
}

function ioBytes(direction: FioDirection): number {
  return direction.io_kbytes !== undefined ? direction.io_bytes : direction.io_bytes * 1024;
}

function combineDirection(directions: FioDirection[]): DirectionResult | undefined {
  const active = directions.filter((direction) => ioBytes(direction) > 0 || (direction.total_ios ?? 0) > 0);
  if (active.length === 0) return undefined;
  const latencyParts = active.flatMap((direction) => {
    const found = completionLatency(direction);
    return found ? [{ ...found, ios: found.latency.N ?? direction.total_ios ?? 0 }] : [];
  });
  return {
    iops: active.reduce((sum, direction) => sum + direction.iops, 0),
    bwBytes: active.reduce((sum, direction) => sum + (direction.bw_bytes ?? direction.bw * 1024), 0),
    ioBytes: active.reduce((sum, direction) => sum + ioBytes(direction), 0),
    runtimeMs: Math.max(...active.map((direction) => direction.runtime)),
    latencyNs: latencyParts.length > 0 ? combineLatency(latencyParts) : { mean: 0 },
  };
}

/**
 * Parses the stdout of `fio --output-format=json` (or json+) into one result per job section.
 * Processes of one section reported separately (no group_reporting) are added up.
 */
export function parseFioOutput(text: string, origin = "fio output"): FioRunResult {
  const parsed = FioOutputSchema.safeParse(extractJson(text, origin));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new FioOutputError(
      `${origin}: not a fio JSON result: ${issue.path.join(".") || "(top level)"}: ${issue.message}`,
    );
  }
  const failed = parsed.data.jobs.find((job) => job.error !== 0);
  if (failed) {
    throw new FioOutputError(`${origin}: fio job "${failed.jobname}" failed with error ${failed.error}`);
  }
  const sections = new Map<string, FioJob[]>();
  for (const job of parsed.data.jobs) {
    const key = `${job.groupid}\u0000${job.jobname}`;
    sections.set(key, [...(sections.get(key) ?? []), job]);
  }
  const jobs = [...sections.values()].map((processes) => {
    const result: FioJobResult = { name: processes[0].jobname };
    const read = combineDirection(processes.map((job) => job.read));
    const write = combineDirection(processes.map((job) => job.write));
    if (read) result.read = read;
    if (write) result.write = write;
    return result;
  });
  return { fioVersion: parsed.data["fio version"], jobs };
}

/** One workload's run from fio's output of its section. */
export function workloadRun(text: string, workload: string, startedAt: string, origin: string): Run {
  const parsed = parseFioOutput(text, origin);
  const job = parsed.jobs.find((candidate) => candidate.name === workload);
  if (!job) throw new FioOutputError(`${origin}: fio output has no job named ${workload}`);
  return {
    fioVersion: parsed.fioVersion,
    startedAt,
    ...(job.read && { read: job.read }),
    ...(job.write && { write: job.write }),
  };
}
