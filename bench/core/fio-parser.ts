import { z } from "zod";
import { combineLatency, type FioLatency, FioLatencySchema, FioOutputError } from "./fio-latency.js";
import { DIRECTIONS, type DirectionResult, type Run } from "./results.js";

// Only the parts of fio's JSON that layerbench reads; zod drops the rest (json+ adds more).
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
  /** Total latency (submission + completion): ns in fio >= 3, µs in `lat` before. */
  lat_ns: z.object({ mean: z.number() }).optional(),
  lat: z.object({ mean: z.number() }).optional(),
});
type FioDirection = z.infer<typeof FioDirectionSchema>;

const FioJobSchema = z
  .object({
    jobname: z.string(),
    groupid: z.number(),
    error: z.number(),
    /** Percent of one CPU per job, user and system; with group_reporting fio averages them over the jobs. */
    usr_cpu: z.number().optional(),
    sys_cpu: z.number().optional(),
    /** The section's own options: numjobs tells how many jobs a grouped report stands for. */
    "job options": z.record(z.string(), z.unknown()).optional(),
    read: FioDirectionSchema.optional(),
    write: FioDirectionSchema.optional(),
    /** unified_rw_reporting=1: reads and writes reported together, instead of read and write. */
    mixed: FioDirectionSchema.optional(),
    /** With steadystate=: whether the criterion held, so that the job ended before its runtime. */
    steadystate: z.object({ attained: z.number() }).optional(),
    /**
     * fsync/fdatasync calls (fsync=N, fdatasync=N, etcd's check), apart from the writes: their latency in lat_ns, N
     * the calls (fio 3.x: total_ios stays 0).
     */
    sync: z.object({ lat_ns: FioLatencySchema.optional() }).optional(),
  })
  .refine((job) => job.mixed || (job.read && job.write), "a job reports read and write, or mixed");
type FioJob = z.infer<typeof FioJobSchema>;

const FioOutputSchema = z.object({
  "fio version": z.string(),
  /** Seconds since the epoch, when fio finished. */
  timestamp: z.number().optional(),
  /** Options of the job file's [global] section, as given (strings). */
  "global options": z.record(z.string(), z.unknown()).optional(),
  jobs: z.array(FioJobSchema).min(1, "fio reported no jobs"),
});
type FioOutput = z.infer<typeof FioOutputSchema>;

/** One job section of a fio run (all its processes together), normalised. */
export interface FioJobResult {
  name: string;
  cpu?: { user: number; system: number; jobs: number };
  /** fio's steadystate criterion held (--steady): the job ended before its runtime. */
  steadyAttained?: boolean;
  read?: DirectionResult;
  write?: DirectionResult;
  mixed?: DirectionResult;
}

export interface FioRunResult {
  fioVersion: string;
  jobs: FioJobResult[];
}

/** Where the JSON value that opens at `start` ends (exclusive), or -1 when the text ends first. */
function endOfJsonValue(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let index = start; index < text.length; index += 1) {
    const char = text[index];
    if (inString) {
      if (char === "\\") index += 1;
      else if (char === '"') inString = false;
    } else if (char === '"') inString = true;
    else if (char === "{" || char === "[") depth += 1;
    else if (char === "}" || char === "]") {
      depth -= 1;
      if (depth === 0) return index + 1;
    }
  }
  return -1;
}

// fio can print notes before the JSON document (which starts at the first line opening with '{') and, with
// --output-format=json,normal or stderr in the same file, text after it: the first complete document is taken.
function extractJson(text: string, origin: string): unknown {
  const start = text.search(/^\{/m);
  if (start < 0) {
    throw new FioOutputError(
      text.trim() === ""
        ? `${origin}: fio output is empty`
        : `${origin}: no JSON document in fio output (was fio run with --output-format=json?)`,
    );
  }
  const end = endOfJsonValue(text, start);
  try {
    if (end < 0) throw new Error("the document ends before its last closing brace");
    return JSON.parse(text.slice(start, end));
  } catch (error) {
    throw new FioOutputError(`${origin}: fio output is truncated or not valid JSON (${(error as Error).message})`);
  }
}

function completionLatency(direction: FioDirection): { latency: FioLatency; scale: number } | undefined {
  if (direction.clat_ns) return { latency: direction.clat_ns, scale: 1 };
  if (direction.clat) return { latency: direction.clat, scale: 1000 };
  return undefined;
}

function ioBytes(direction: FioDirection): number {
  return direction.io_kbytes !== undefined ? direction.io_bytes : direction.io_bytes * 1024;
}

function combineDirection(sides: Array<FioDirection | undefined>, origin: string): DirectionResult | undefined {
  const directions = sides.filter((side) => side !== undefined);
  const active = directions.filter((direction) => ioBytes(direction) > 0 || (direction.total_ios ?? 0) > 0);
  if (active.length === 0) return undefined;
  const latencyParts = active.flatMap((direction) => {
    const found = completionLatency(direction);
    return found ? [{ ...found, ios: found.latency.N ?? direction.total_ios ?? 0 }] : [];
  });
  const totals = active.flatMap((direction) =>
    direction.lat_ns ? [direction.lat_ns.mean] : direction.lat ? [direction.lat.mean * 1000] : [],
  );
  const totalIos = latencyParts.reduce((sum, part) => sum + part.ios, 0);
  // IO-weighted over the processes, as the completion latency's mean is.
  const totalMean =
    totals.length === active.length && totalIos > 0 && latencyParts.length === active.length
      ? totals.reduce((sum, value, index) => sum + (value * latencyParts[index].ios) / totalIos, 0)
      : totals.length === 1
        ? totals[0]
        : undefined;
  return {
    iops: active.reduce((sum, direction) => sum + direction.iops, 0),
    bwBytes: active.reduce((sum, direction) => sum + (direction.bw_bytes ?? direction.bw * 1024), 0),
    ioBytes: active.reduce((sum, direction) => sum + ioBytes(direction), 0),
    runtimeMs: Math.max(...active.map((direction) => direction.runtime)),
    latencyNs: {
      ...(latencyParts.length > 0 ? combineLatency(latencyParts, origin) : { mean: 0 }),
      ...(totalMean !== undefined && { totalMean }),
    },
  };
}

/**
 * fio --client's output: every client's jobs under client_stats, each with its hostname, and with several clients
 * fio's own sum of them as a job named "All clients". The clients' jobs are read as a section's processes are
 * (added up); the sum is left out, not counted twice.
 */
function clientJobsAsJobs(value: unknown): unknown {
  if (typeof value !== "object" || value === null || "jobs" in value || !("client_stats" in value)) return value;
  const { client_stats: clients, ...rest } = value as { client_stats: unknown };
  const jobs = Array.isArray(clients)
    ? clients.filter((job: { jobname?: unknown }) => job?.jobname !== "All clients")
    : clients;
  return { ...rest, jobs };
}

function validOutput(text: string, origin: string): FioOutput {
  const parsed = FioOutputSchema.safeParse(clientJobsAsJobs(extractJson(text, origin)));
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
  return parsed.data;
}

/** Jobs that share a key, in the order fio reported them. */
function groupBy(jobs: FioJob[], key: (job: FioJob) => string): FioJob[][] {
  const groups = new Map<string, FioJob[]>();
  for (const job of jobs) groups.set(key(job), [...(groups.get(key(job)) ?? []), job]);
  return [...groups.values()];
}

/** Processes reported apart, as one result: IOPS, bandwidth and bytes add up; latency is merged, CPU averaged. */
function combineProcesses(processes: FioJob[], origin: string): FioJobResult {
  const result: FioJobResult = { name: processes[0].jobname };
  if (processes.some((job) => job.steadystate))
    result.steadyAttained = processes.every((job) => job.steadystate?.attained === 1);
  if (processes.every((job) => job.usr_cpu !== undefined && job.sys_cpu !== undefined)) {
    // Per job, as fio's grouped report gives it: processes reported apart are averaged the same way.
    const mean = (pick: (job: FioJob) => number) =>
      processes.reduce((sum, job) => sum + pick(job), 0) / processes.length;
    const grouped = processes.length === 1 ? Number(processes[0]["job options"]?.numjobs ?? 1) : processes.length;
    result.cpu = {
      user: mean((job) => job.usr_cpu ?? 0),
      system: mean((job) => job.sys_cpu ?? 0),
      jobs: Number.isInteger(grouped) && grouped > 0 ? grouped : 1,
    };
  }
  for (const direction of DIRECTIONS) {
    const combined = combineDirection(
      processes.map((job) => job[direction]),
      origin,
    );
    if (combined) result[direction] = combined;
  }
  // The syncs follow the writes they make durable: their latency is the written side's.
  const syncs = processes.flatMap((job) =>
    job.sync?.lat_ns && (job.sync.lat_ns.N ?? 0) > 0
      ? [{ latency: job.sync.lat_ns, scale: 1, ios: job.sync.lat_ns.N ?? 0 }]
      : [],
  );
  const written = result.write ?? result.mixed;
  if (syncs.length > 0 && written) written.syncLatencyNs = combineLatency(syncs, origin);
  return result;
}

/**
 * Parses the stdout of `fio --output-format=json` (or json+) into one result per job section.
 * Processes of one section reported separately (no group_reporting) are added up.
 */
export function parseFioOutput(text: string, origin = "fio output"): FioRunResult {
  const output = validOutput(text, origin);
  const sections = groupBy(output.jobs, (job) => `${job.groupid}\u0000${job.jobname}`);
  return { fioVersion: output["fio version"], jobs: sections.map((processes) => combineProcesses(processes, origin)) };
}

/** One fio group (the jobs that ran together) of someone else's output: what `layerbench import` reads. */
export interface FioGroupResult extends FioJobResult {
  groupid: number;
  /** The [global] options, then the first job's own, as fio printed them. */
  options: Record<string, string>;
}

/**
 * Parses a fio output into one result per group (fio's groupid): every job of a group, whatever its name and
 * whether fio reported it alone (no group_reporting) or not, is added up, as group_reporting would.
 */
export function parseFioGroups(
  text: string,
  origin: string,
): { fioVersion: string; finishedAt?: Date; groups: FioGroupResult[] } {
  const output = validOutput(text, origin);
  const strings = (options: Record<string, unknown> | undefined) =>
    Object.fromEntries(Object.entries(options ?? {}).map(([key, value]) => [key, String(value)]));
  const groups = groupBy(output.jobs, (job) => String(job.groupid)).map(
    (processes): FioGroupResult => ({
      ...combineProcesses(processes, origin),
      groupid: processes[0].groupid,
      options: { ...strings(output["global options"]), ...strings(processes[0]["job options"]) },
    }),
  );
  return {
    fioVersion: output["fio version"],
    ...(output.timestamp !== undefined && { finishedAt: new Date(output.timestamp * 1000) }),
    groups,
  };
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
    ...(job.mixed && { mixed: job.mixed }),
    ...(job.cpu && { cpu: job.cpu }),
    ...(job.steadyAttained !== undefined && { steadyAttained: job.steadyAttained }),
  };
}
