import { z } from "zod";
import { UserError } from "../util/errors.js";
import { LAYERS, type Layer } from "./layers.js";
import {
  DIRECTIONS,
  type Direction,
  type DirectionResult,
  type DirectionSummary,
  METRICS,
  type Metric,
  type ProfileInfo,
  RESULTS_SCHEMA_ID,
  type ResultsDocument,
  ResultsDocumentSchema,
  type Run,
  type Source,
  type Summary,
  type Variant,
  VariantSchema,
  WorkloadResultSchema,
  type WorkloadSettings,
} from "./results-schema.js";
import { stat } from "./stats.js";

export { pooledStdev, relativeStdevPct, stat } from "./stats.js";

/** The label of a local VM target measured under TCG, in results and reports alike. */
export const EMULATED_CPU_WARNING = "emulated CPU: not representative of VirtIO overhead";

export * from "./results-schema.js";
export { LAYERS, type Layer };

/** A run's IOPS in every direction: the number `repeat: auto` watches. */
export function runIops(run: Run): number {
  return DIRECTIONS.reduce((sum, direction) => sum + (run[direction]?.iops ?? 0), 0);
}

/** Percent of one CPU that all of a run's jobs used together (user + system). */
export function cpuOfAllJobs(cpu: NonNullable<Run["cpu"]>): number {
  return (cpu.user + cpu.system) * cpu.jobs;
}

export function metricValue(run: Run, result: DirectionResult, metric: Metric): number | undefined {
  switch (metric) {
    case "cpuPct":
      return run.cpu ? cpuOfAllJobs(run.cpu) : undefined;
    case "iopsPerCpuPct": {
      // The run's IOPS in all directions over the CPU of all its jobs: what an I/O costs, whatever its direction.
      const cpu = run.cpu ? cpuOfAllJobs(run.cpu) : 0;
      return cpu > 0 ? runIops(run) / cpu : undefined;
    }
    case "iops":
    case "bwBytes":
    case "ioBytes":
    case "runtimeMs":
      return result[metric];
    case "latMeanNs":
      return result.latencyNs.mean;
    case "latTotalMeanNs":
      return result.latencyNs.totalMean;
    case "latP50Ns":
      return result.latencyNs.p50;
    case "latP90Ns":
      return result.latencyNs.p90;
    case "latP99Ns":
      return result.latencyNs.p99;
    case "latP99_9Ns":
      return result.latencyNs.p99_9;
    case "syncP99Ns":
      return result.syncLatencyNs?.p99;
  }
}

/** A metric's value in each run that measured it, in one direction: what compare tests. */
export function runValues(runs: Run[], direction: Direction, metric: Metric): number[] {
  // A plain loop: compare asks this of every cell, direction and metric of both sides.
  const values: number[] = [];
  for (const run of runs) {
    const result = run[direction];
    const value = result ? metricValue(run, result, metric) : undefined;
    if (value !== undefined) values.push(value);
  }
  return values;
}

export function summarize(runs: Run[]): Summary {
  const summary: Summary = {};
  // Plain loops: every read of a document summarizes each of its workloads again (a thousand in a big matrix).
  for (const direction of DIRECTIONS) {
    const measured: Run[] = [];
    for (const run of runs) if (run[direction]) measured.push(run);
    if (measured.length === 0) continue;
    const directionSummary: DirectionSummary = {};
    for (const metric of METRICS) {
      const values: number[] = [];
      for (const run of measured) {
        const value = metricValue(run, run[direction] as DirectionResult, metric);
        if (value !== undefined) values.push(value);
      }
      if (values.length > 0) directionSummary[metric] = stat(values);
    }
    summary[direction] = directionSummary;
  }
  return summary;
}

export class ResultsFormatError extends UserError {}

// What a document is read as: its summaries are replaced, so they are not validated (half of a big document).
const ReadSchema = ResultsDocumentSchema.extend({
  variants: z.array(
    VariantSchema.extend({
      workloads: z.array(
        WorkloadResultSchema.extend({
          summary: z
            .unknown()
            .optional()
            .transform((): Summary => ({})),
        }),
      ),
    }),
  ),
});

/**
 * Validates a parsed JSON value as a results document, naming the first thing that is wrong. The summaries are
 * computed again from the runs: a summary edited by hand (or by an older layerbench) never reaches a report.
 */
export function toResultsDocument(value: unknown, origin: string): ResultsDocument {
  const parsed = ReadSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.length > 0 ? issue.path.join(".") : "(top level)";
    throw new ResultsFormatError(`${origin} is not a ${RESULTS_SCHEMA_ID} document: ${where}: ${issue.message}`);
  }
  // A document names each variant once and has one baseline: every ratio is to it, every row one variant's.
  const ids = parsed.data.variants.map((variant) => variant.id);
  const repeated = ids.find((id, index) => ids.indexOf(id) !== index);
  if (repeated !== undefined)
    throw new ResultsFormatError(`${origin}: variant ${JSON.stringify(repeated)} is there twice: each variant once`);
  const baselines = parsed.data.variants.filter((variant) => variant.baseline).map((variant) => variant.id);
  if (baselines.length > 1)
    throw new ResultsFormatError(
      `${origin}: ${baselines.length} baselines (${baselines.map((id) => JSON.stringify(id)).join(", ")}): a document has one`,
    );
  for (const variant of parsed.data.variants) {
    for (const workload of variant.workloads) workload.summary = summarize(workload.runs);
  }
  return parsed.data;
}

/** What identifies a variant before it has results. */
export type VariantSpec = Omit<Variant, "workloads">;

/** What a results document records of the profile that ran: the settings that shape its numbers. */
export function profileInfo(
  profile: Pick<
    ProfileInfo,
    "id" | "runtimeSec" | "ioengine" | "direct" | "stopWhenStable" | "precondition" | "steady"
  > & {
    rampSec: number;
    workloads: WorkloadSettings[];
    /** The profile's further [global] lines: fdatasync=1 or fsync=1 syncs every write. */
    fioOptions?: string[];
  },
  repeat: number,
): ProfileInfo {
  return {
    id: profile.id,
    runtimeSec: profile.runtimeSec,
    repeat,
    ioengine: profile.ioengine,
    direct: profile.direct,
    rampSec: profile.rampSec,
    ...(profile.stopWhenStable && { stopWhenStable: profile.stopWhenStable }),
    ...(profile.precondition && { precondition: true }),
    ...(profile.steady && { steady: true }),
    ...(profile.fioOptions?.some((line) => /^\s*(fdatasync|fsync)\s*=\s*1\s*$/.test(line)) && { syncEveryWrite: true }),
    workloads: profile.workloads.map(({ id, rw, bs, numjobs, iodepth, size }) => ({
      id,
      rw,
      bs,
      numjobs,
      iodepth,
      size,
    })),
  };
}

export function newResultsDocument(source: Source, profile: ProfileInfo, createdAt: Date): ResultsDocument {
  return { schema: RESULTS_SCHEMA_ID, createdAt: createdAt.toISOString(), source, profile, variants: [] };
}

/** Adds one measured run to a document, creating the variant and workload entries on first use. */
export function addRun(
  document: ResultsDocument,
  spec: VariantSpec,
  workload: { id: string; title?: string },
  run: Run,
  rank?: (id: string) => number,
): void {
  let variant = document.variants.find((candidate) => candidate.id === spec.id);
  if (!variant) {
    variant = { ...spec, workloads: [] };
    // Measured in a random order, listed in the order given: a new variant goes before the first ranked after it.
    const after = rank ? document.variants.findIndex((candidate) => rank(candidate.id) > rank(spec.id)) : -1;
    document.variants.splice(after === -1 ? document.variants.length : after, 0, variant);
  }
  let entry = variant.workloads.find((candidate) => candidate.id === workload.id);
  if (!entry) {
    entry = { id: workload.id, ...(workload.title ? { title: workload.title } : {}), runs: [], summary: {} };
    variant.workloads.push(entry);
  }
  entry.runs.push(run);
  entry.summary = summarize(entry.runs);
}
