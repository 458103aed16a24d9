import { z } from "zod";
import { DESIGN_KINDS } from "./design-kinds.js";
import { LAYERS } from "./layers.js";
import { SeriesSchema } from "./series.js";

// The results document's shape (docs/results-format in the README): what results.json holds, validated on read.
// results.ts re-exports it beside what works on it (summaries, reading, adding runs).

export const RESULTS_SCHEMA_ID = "layerbench/results@2";
/** Documents before runs carried their per-second series: read as they are, written as @2. */
const PREVIOUS_SCHEMA_ID = "layerbench/results@1";

/** `mixed`: fio's unified_rw_reporting, reads and writes counted together. */
export const DIRECTIONS = ["read", "write", "mixed"] as const;
export type Direction = (typeof DIRECTIONS)[number];

/** Completion latency in nanoseconds. Percentiles are absent when fio did not report them. */
export const LatencySchema = z.object({
  mean: z.number().nonnegative(),
  p50: z.number().nonnegative().optional(),
  p90: z.number().nonnegative().optional(),
  p99: z.number().nonnegative().optional(),
  p99_9: z.number().nonnegative().optional(),
  p99_99: z.number().nonnegative().optional(),
  /** Several fio processes without json+ histograms: the percentiles are IO-weighted means of theirs, an estimate. */
  percentilesEstimated: z.boolean().optional(),
  /** Total latency (submission + completion, fio's lat_ns), the mean kbench reports. */
  totalMean: z.number().nonnegative().optional(),
});
export type LatencyNs = z.infer<typeof LatencySchema>;

export const DirectionResultSchema = z.object({
  iops: z.number().nonnegative(),
  /** Bytes per second. */
  bwBytes: z.number().nonnegative(),
  /** Bytes moved. */
  ioBytes: z.number().nonnegative(),
  runtimeMs: z.number().nonnegative(),
  latencyNs: LatencySchema,
  /** The latency of the fsync or fdatasync calls after the writes (fio's sync section), for a job that syncs. */
  syncLatencyNs: LatencySchema.optional(),
});
export type DirectionResult = z.infer<typeof DirectionResultSchema>;

/** One workload as fio measured it once. A direction is absent when the workload did no I/O in it. */
export const RunSchema = z.object({
  fioVersion: z.string(),
  startedAt: z.string(),
  /** The Pulumi run id it was measured under, when runs of several `pulumi up`s are gathered in one document. */
  runId: z.string().optional(),
  read: DirectionResultSchema.optional(),
  write: DirectionResultSchema.optional(),
  mixed: DirectionResultSchema.optional(),
  /** An imported output's fio options ([global], then its job's), as fio printed them. */
  fioOptions: z.record(z.string(), z.string()).optional(),
  /** fio's usr_cpu and sys_cpu: percent of one CPU per job (100 = a job kept one CPU busy), over `jobs` jobs. */
  cpu: z
    .object({ user: z.number().nonnegative(), system: z.number().nonnegative(), jobs: z.number().int().positive() })
    .optional(),
  /** --steady: whether fio's steadystate criterion held, so that the run ended before its runtime. */
  steadyAttained: z.boolean().optional(),
  /** The run second by second, from fio's logs (core/series.ts); absent in documents before @2 and imports. */
  series: SeriesSchema.optional(),
});
export type Run = z.infer<typeof RunSchema>;

export const StatSchema = z.object({
  n: z.number().int().positive(),
  mean: z.number(),
  stdev: z.number(),
  min: z.number(),
  max: z.number(),
});
export type Stat = z.infer<typeof StatSchema>;

export const METRICS = [
  "iops",
  "bwBytes",
  "ioBytes",
  "runtimeMs",
  "latMeanNs",
  "latTotalMeanNs",
  "latP50Ns",
  "latP90Ns",
  "latP99Ns",
  "latP99_9Ns",
  "syncP99Ns",
  "cpuPct",
  "iopsPerCpuPct",
] as const;
export type Metric = (typeof METRICS)[number];

const DirectionSummarySchema = z.partialRecord(z.enum(METRICS), StatSchema);
export type DirectionSummary = z.infer<typeof DirectionSummarySchema>;

export const SummarySchema = z.object({
  read: DirectionSummarySchema.optional(),
  write: DirectionSummarySchema.optional(),
  mixed: DirectionSummarySchema.optional(),
});
export type Summary = z.infer<typeof SummarySchema>;

export const WorkloadResultSchema = z.object({
  id: z.string(),
  title: z.string().optional(),
  runs: z.array(RunSchema),
  summary: SummarySchema,
});
export type WorkloadResult = z.infer<typeof WorkloadResultSchema>;

export const OptionValueSchema = z.union([z.string(), z.number(), z.boolean()]);

export const VariantSchema = z.object({
  id: z.string().min(1),
  layer: z.enum(LAYERS),
  /** What defines the variant: the target directory, or disk options on Proxmox. */
  options: z.record(z.string(), OptionValueSchema),
  baseline: z.boolean(),
  /** The Proxmox node whose disks fio measured: the host's, the VM's, the fio pod's k3s VM's. */
  proxmoxNode: z.string().optional(),
  /** RAM of the machine that ran fio (the host's, the guest's): whether a buffered workload fits in its cache. */
  memoryBytes: z.number().positive().optional(),
  /** Seconds the fill of its device took before the first measurement (--precondition); not part of any number. */
  preconditionSec: z.number().nonnegative().optional(),
  /** What ran it, as the script found it: kernel, os, machine; pve, qemu, zfs on a node; k3s, longhorn. */
  environment: z.record(z.string(), z.string()).optional(),
  workloads: z.array(WorkloadResultSchema),
});
export type Variant = z.infer<typeof VariantSchema>;

export const SourceSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("local"), host: z.string() }),
  z.object({ kind: z.literal("pulumi"), project: z.string(), stack: z.string(), runId: z.string() }),
  /** `layerbench import`: fio outputs measured elsewhere; `from` names the inputs. */
  z.object({ kind: z.literal("import"), from: z.string() }),
]);
export type Source = z.infer<typeof SourceSchema>;

/** What fio did in one workload; the target is not part of it. */
export const WorkloadSettingsSchema = z.object({
  id: z.string(),
  rw: z.string(),
  /** Bytes. */
  bs: z.number(),
  numjobs: z.number(),
  iodepth: z.number(),
  /** Bytes per job. */
  size: z.number(),
});
export type WorkloadSettings = z.infer<typeof WorkloadSettingsSchema>;

export const ProfileInfoSchema = z.object({
  id: z.string(),
  runtimeSec: z.number(),
  repeat: z.number().int().positive(),
  ioengine: z.string(),
  direct: z.boolean(),
  /** Documents written before layerbench 0.2 lack the two below: compare and report say "not recorded". */
  rampSec: z.number().optional(),
  workloads: z.array(WorkloadSettingsSchema).optional(),
  /** `repeat: auto`: `repeat` is then the most runs; fewer (at least minRuns) once the IOPS spread is within maxRsdPct. */
  stopWhenStable: z.object({ minRuns: z.number().int().positive(), maxRsdPct: z.number().positive() }).optional(),
  /** Device targets were filled once before their first measurement. */
  precondition: z.boolean().optional(),
  /** --steady: each run ended once fio's steadystate criterion (core/steady-state.ts) held, at most runtimeSec. */
  steady: z.boolean().optional(),
  /** Each write was followed by fdatasync or fsync (fdatasync=1, fsync=1: etcd's check): none waited in a cache. */
  syncEveryWrite: z.boolean().optional(),
});
export type ProfileInfo = z.infer<typeof ProfileInfoSchema>;

/**
 * Whether the page cache of the machine that ran fio can hold a run's writes: buffered I/O whose writes are not
 * each made durable before the next (etcd's check syncs every write: the cache holds nothing it can answer with).
 */
export const throughPageCache = (profile: ProfileInfo) => !profile.direct && !profile.syncEveryWrite;

/** A workload run that failed; the runs that worked are kept beside it. */
export const FailureSchema = z.object({
  variant: z.string(),
  workload: z.string(),
  attempt: z.number().int(),
  message: z.string(),
  runId: z.string().optional(),
});
export type Failure = z.infer<typeof FailureSchema>;

export const NOT_RUN_REASONS = ["interrupted", "error"] as const;

/** Runs a stopped measurement never reached: an interruption (Ctrl-C) or an unexpected error stopped it first. */
export const NotRunSchema = z.object({
  variant: z.string(),
  workload: z.string(),
  /** The attempts that never ran, first to last. */
  attempts: z.array(z.number().int()),
  reason: z.enum(NOT_RUN_REASONS),
  message: z.string(),
});
export type NotRun = z.infer<typeof NotRunSchema>;

/** How a layer's variants were chosen: what the results document keeps so that a report can fit and predict. */
export const DesignRecordSchema = z.object({
  layer: z.enum(["vm", "k8s"]),
  kind: z.enum(DESIGN_KINDS),
  /** The axes and their values; the first value is the reference (the defaults' value). */
  factors: z.array(z.object({ name: z.string(), levels: z.array(z.string()) })),
  interactions: z.array(z.tuple([z.string(), z.string()])),
  /** Every valid variant of the full product, measured or not. */
  candidates: z.array(z.object({ id: z.string(), point: z.record(z.string(), z.string()) })),
  /** The variants the design chose. */
  chosen: z.array(z.string()),
  /** Variants measured to check the model's predictions; left out of its fit. */
  confirm: z.array(z.string()),
});
export type DesignRecord = z.infer<typeof DesignRecordSchema>;

export const ResultsDocumentSchema = z.object({
  schema: z.union([z.literal(RESULTS_SCHEMA_ID), z.literal(PREVIOUS_SCHEMA_ID)]).transform(() => RESULTS_SCHEMA_ID),
  createdAt: z.string(),
  source: SourceSchema,
  profile: ProfileInfoSchema,
  variants: z.array(VariantSchema),
  failures: z.array(FailureSchema).optional(),
  notRun: z.array(NotRunSchema).optional(),
  /** How the variants of a layer with axes were chosen (bench/variants/design.ts): what the report fits and predicts. */
  designs: z.array(DesignRecordSchema).optional(),
  /**
   * The order the variants were measured in (core/measurement-order.ts): the baseline's passes among them, and the
   * seed that shuffled them (absent: the order given).
   */
  order: z.object({ seed: z.number().int().optional(), sequence: z.array(z.string()) }).optional(),
  /** Numbers that may measure something else than the storage (core/warnings.ts); reports derive them again. */
  warnings: z
    .array(z.object({ variant: z.string(), workload: z.string(), code: z.string(), message: z.string() }))
    .optional(),
});
export type ResultsDocument = z.infer<typeof ResultsDocumentSchema>;
