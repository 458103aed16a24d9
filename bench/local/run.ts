import { promises as fs } from "node:fs";
import { hostname, totalmem } from "node:os";
import { join } from "node:path";
import { checkRbdTarget, type RbdClusterFacts, type RbdImage, removeLeftoverImage } from "../ceph/rbd-image.js";
import { fioPath, renderJobFile, TARGET_REFERENCE, TARGET_VARIABLE } from "../core/jobfile.js";
import { largestFootprint, type Profile, secondsPerRun, type Workload } from "../core/profiles.js";
import { Recorder } from "../core/recorder.js";
import {
  type DesignRecord,
  newResultsDocument,
  profileInfo,
  type ResultsDocument,
  type VariantSpec,
} from "../core/results.js";
import { writeResultsFile } from "../core/results-io.js";
import { REPORT_FILES } from "../report/chart-definitions.js";
import { scratchOnEmergencyExit } from "../util/emergency-cleanup.js";
import { fsReason, UserError } from "../util/errors.js";
import { sweepLeftovers } from "../util/leftovers.js";
import { localEnvironment } from "./environment.js";
import { lockRun } from "./locks.js";
import { measureTarget, OVERHEAD_SECONDS_PER_RUN, type PreparedTarget } from "./measure-target.js";
import { type RunOrder, type RunStep, runOrder } from "./order.js";
import {
  checkJobFileParses,
  checkOutputDirectory,
  checkOutputPath,
  checkTargetDirectory,
  fioVersion,
} from "./preflight.js";
import type { ProgressReporter } from "./progress.js";
import { prepareRbdTarget, rbdFioEnvironment, rbdImageBytes } from "./rbd-target.js";
import { isVmTarget, type LocalTarget, type VmTarget } from "./targets.js";
import { GUEST_BOOT_SECONDS, imageBytes, measureVmTargets, preflightVmTargets } from "./vm-targets.js";

export interface LocalRunOptions {
  /** The first is the baseline; the others measured in the seed's order (bench/local/order.ts). */
  targets: LocalTarget[];
  /** Shuffles the order of measurement, recorded in results.json; absent: the order given. */
  seed?: number;
  /** How VM targets from axes were chosen (run --axes): kept in results.json for the report's model. */
  designs?: DesignRecord[];
  profile: Profile;
  repeat: number;
  outDir: string;
  progress: ProgressReporter;
  fioCommand?: string;
  signal?: AbortSignal;
}

export interface LocalRunOutcome {
  document: ResultsDocument;
  resultsPath: string;
  /** Why the run stopped early; absent when every workload was measured. */
  stoppedBy?: Error;
}

// Room for the file system's own metadata beside fio's files.
const FREE_SPACE_MARGIN = 64 * 1024 ** 2;

/** What the checks before any I/O found: fio's version, and the cluster of each RBD target. */
interface PreflightFacts {
  fioVersion: string;
  rbd: Map<string, RbdClusterFacts>;
}

/** Everything that can be checked before any I/O: fio, the output directory, the targets. */
export async function preflight(options: LocalRunOptions): Promise<PreflightFacts> {
  const version = await fioVersion(options.fioCommand);
  // What it holds is checked under the run's lock (runLocal), where no other run can write it meanwhile.
  await checkOutputPath(options.outDir);
  const needed = { files: largestFootprint(options.profile), margin: FREE_SPACE_MARGIN };
  const rbd = new Map<string, RbdClusterFacts>();
  for (const target of options.targets) {
    if (target.rbd) {
      const bytes = target.vm ? imageBytes(options.profile) : rbdImageBytes(options.profile);
      rbd.set(target.name, await checkRbdTarget(target.rbd, bytes, `target "${target.name}"`));
    } else if (!target.vm) await checkTargetDirectory(target.name, target.path, needed);
  }
  await preflightVmTargets(options.targets, options.profile);
  if (options.profile.jobFileText !== undefined) {
    const first = options.targets[0];
    await checkJobFileParses(
      options.fioCommand ?? "fio",
      renderJobFile(options.profile, { kind: "directory", path: TARGET_REFERENCE }),
      fioPath(first?.path ?? "."),
    );
  }
  return { fioVersion: version, rbd };
}

function variantSpec(target: LocalTarget, baseline: boolean, environment: Record<string, string>): VariantSpec {
  return {
    id: target.name,
    layer: "local",
    options: { path: target.scratchIn ?? target.path },
    baseline,
    memoryBytes: totalmem(),
    environment,
  };
}

async function removeWorkloadFiles(workDir: string, workload: Workload): Promise<void> {
  // A target deleted under the run leaves nothing to remove; its runs fail on their own.
  const names = await fs.readdir(workDir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return [];
    throw new UserError(`cannot read the scratch directory ${workDir}: ${fsReason(error)}`);
  });
  await Promise.all(
    names
      .filter((name) => name.startsWith(`${workload.id}.`))
      .map((name) => fs.rm(join(workDir, name), { force: true })),
  );
}

/**
 * Runs every workload of the profile on every target, one fio process at a time, and writes
 * results.json after each run so that a failure or Ctrl-C keeps everything measured before it.
 */
export async function runLocal(options: LocalRunOptions): Promise<LocalRunOutcome> {
  await sweepKilledRuns(options.progress);
  const facts = await preflight(options);
  const locks = await lockRun(
    options.outDir,
    // One Ceph cluster is one piece of hardware: its RBD targets lock it by its fsid.
    options.targets.map((target) => ({ ...target, cluster: facts.rbd.get(target.name)?.fsid })),
    `run --out ${options.outDir} --target ${options.targets.map((target) => target.name).join(",")}`,
  );
  try {
    await checkOutputDirectory(options.outDir, REPORT_FILES);
    return await measure(options, facts.rbd);
  } finally {
    locks.release();
  }
}

/** Removes what runs killed outright left (scratch directories, guest images, RBD images), or names it. */
async function sweepKilledRuns(progress: ProgressReporter): Promise<void> {
  const { removed, left } = await sweepLeftovers((leftover) =>
    leftover.kind === "rbd" ? removeLeftoverImage(leftover) : Promise.resolve(),
  );
  for (const what of removed) progress.note(`layerbench: removed ${what}, left by a run that was killed`);
  for (const { what, why } of left)
    progress.note(
      `layerbench: ${what}, left by a run that was killed, could not be removed (${why}): remove it by hand`,
    );
}

async function prepareDirectory(target: LocalTarget, spec: VariantSpec, jobFile: string): Promise<PreparedTarget> {
  // The target may have gone or turned read-only since the checks before the run.
  const workDir = await fs.mkdtemp(join(target.path, ".layerbench-")).catch((error: unknown) => {
    throw new UserError(`cannot make a scratch directory in ${target.path}: ${fsReason(error)}`);
  });
  const forgetWorkDir = scratchOnEmergencyExit(workDir);
  return {
    jobFile,
    environment: { [TARGET_VARIABLE]: fioPath(workDir) },
    spec,
    afterWorkload: (workload) => removeWorkloadFiles(workDir, workload),
    release: async () => {
      try {
        await fs.rm(workDir, { recursive: true, force: true });
      } catch (error) {
        // Kept in the records of leftovers: the next run removes it, or names it again.
        throw new UserError(`could not remove the scratch directory ${workDir}: ${fsReason(error)}`);
      }
      forgetWorkDir();
    },
  };
}

async function prepareRbd(
  target: LocalTarget & { rbd: RbdImage },
  facts: RbdClusterFacts | undefined,
  spec: VariantSpec,
  options: LocalRunOptions,
): Promise<PreparedTarget> {
  if (!facts) throw new Error(`RBD target "${target.name}" was not checked before the run`);
  options.progress.note(
    `  ${target.name}: filling ${target.rbd.pool}/${target.rbd.image} before its first run (not measured)`,
  );
  const prepared = await prepareRbdTarget(
    target.name,
    target.rbd,
    facts,
    options.profile,
    join(options.outDir, "jobs"),
    options.signal,
  );
  options.progress.note(
    `  ${target.name}: filled in ${prepared.fillSec.toFixed(1)} s; librbd cache ${prepared.options.rbdCache}`,
  );
  return {
    jobFile: prepared.jobFile,
    environment: rbdFioEnvironment(target.rbd),
    // No page cache between fio's rbd engine and the cluster: the client's memory (memoryBytes) says nothing here.
    spec: {
      id: spec.id,
      layer: spec.layer,
      options: prepared.options,
      baseline: spec.baseline,
      preconditionSec: prepared.fillSec,
      environment: { ...spec.environment, ceph: prepared.cephVersion },
    },
    afterWorkload: async () => undefined,
    release: prepared.remove,
  };
}

/** What every step of a run shares: the run's options, its recorder and labels, the places held between passes. */
interface StepContext {
  options: LocalRunOptions;
  rbdFacts: Map<string, RbdClusterFacts>;
  recorder: Recorder;
  stepLabel: (target: string, workload: string, attempt: number) => string;
  jobFile: string;
  ranOn: Record<string, string>;
  /** The baseline's place, kept from its first pass to its last; `failed` when it could not be made. */
  held: Map<LocalTarget, PreparedTarget | "failed">;
}

async function measure(options: LocalRunOptions, rbdFacts: Map<string, RbdClusterFacts>): Promise<LocalRunOutcome> {
  const { targets, profile, repeat, outDir, progress, signal } = options;
  await fs.mkdir(join(outDir, "jobs"), { recursive: true });
  const resultsPath = join(outDir, "results.json");
  const document = newResultsDocument({ kind: "local", host: hostname() }, profileInfo(profile, repeat), new Date());
  const ranOn = await localEnvironment();
  if (options.designs && options.designs.length > 0) document.designs = options.designs;
  const order = runOrder(targets, options.seed);
  document.order = { ...(options.seed !== undefined && { seed: options.seed }), sequence: order.sequence };
  const totalRuns = order.sequence.length * profile.workloads.length * repeat;
  const expectedSeconds = secondsPerRun(profile) + OVERHEAD_SECONDS_PER_RUN;
  // One job file for every target, the same text the remote scripts carry: the target comes from the environment.
  const jobFile = join(outDir, "jobs", `${profile.id}.fio`);
  await fs.writeFile(jobFile, renderJobFile(profile, { kind: "directory", path: TARGET_REFERENCE }));
  sayOrder(order, options);
  progress.start(totalRuns * expectedSeconds + (targets.some(isVmTarget) ? GUEST_BOOT_SECONDS : 0));
  let runNumber = 0;
  const stepLabel = (target: string, workload: string, attempt: number) =>
    `[${++runNumber}/${totalRuns}] ${target} ${workload}${repeat > 1 ? ` #${attempt}` : ""}`;
  const given = new Map(targets.map((target, index) => [target.name, index]));
  const recorder = new Recorder(
    document,
    () => writeResultsFile(resultsPath, document),
    (id) => given.get(id) ?? targets.length,
  );
  const context: StepContext = { options, rbdFacts, recorder, stepLabel, jobFile, ranOn, held: new Map() };
  try {
    for (const step of order.steps) {
      if (step.kind === "guest") await measureGuestStep(step.targets, context);
      else await measureTargetStep(step, context);
    }
    return { document, resultsPath };
  } catch (error) {
    const stoppedBy = error as Error;
    // What never ran is recorded too: a stopped run must not read as a complete one. Under `repeat auto` a
    // workload owes its minimum of runs; more were never promised. The baseline owes them at each of its passes.
    const owed = profile.stopWhenStable?.minRuns ?? repeat;
    const planned = targets.flatMap((target) => {
      const runs = owed * order.sequence.filter((name) => name === target.name).length;
      return profile.workloads.map((workload) => ({ variant: target.name, workload: workload.id, runs }));
    });
    // A results.json that cannot be written (what stopped the run, maybe) keeps its last whole version; the report
    // finds the runs it lacks against the profile (core/completeness.ts).
    await recorder.notRun(planned, signal?.aborted ? "interrupted" : "error", stoppedBy.message).catch(() => undefined);
    return { document, resultsPath, stoppedBy };
  } finally {
    // A run stopped between the baseline's passes gives its place back here.
    for (const [target, place] of context.held) if (place !== "failed") await releasePlace(target, place, progress);
    progress.stop();
  }
}

/** The order, where there is one to tell: the seed that repeats it, and the baseline's passes. */
function sayOrder(order: RunOrder, options: LocalRunOptions): void {
  const baseline = options.targets[0].name;
  const passes = order.sequence.filter((name) => name === baseline).length;
  const others = options.targets.length - 1;
  if (others < 2) return;
  const how =
    options.seed === undefined
      ? "in the order given"
      : `in a random order, seed ${options.seed} (--seed ${options.seed} measures in it again)`;
  options.progress.note(
    `layerbench: ${others} targets ${how}; the baseline ${baseline} ${passes > 1 ? `${passes} times among them, to see drift` : "first"}`,
  );
}

/** A guest's disks, measured in one boot. */
async function measureGuestStep(targets: VmTarget[], context: StepContext): Promise<void> {
  const { options } = context;
  await measureVmTargets({
    targets,
    baselineName: options.targets[0].name,
    profile: options.profile,
    repeat: options.repeat,
    recorder: context.recorder,
    progress: options.progress,
    stepLabel: context.stepLabel,
    signal: options.signal,
    rbdFacts: context.rbdFacts,
    jobsDir: join(options.outDir, "jobs"),
  });
}

/**
 * A directory or RBD target's workloads; the baseline's place is made at its first pass and given back after its
 * last, so that its passes measure the same scratch directory or filled image.
 */
async function measureTargetStep(step: RunStep & { kind: "target" }, context: StepContext): Promise<void> {
  const { target, pass, passes } = step;
  const { options, held } = context;
  const kept = held.get(target);
  if (kept === "failed") return;
  if (pass > 1)
    options.progress.note(
      `  ${target.name}: the baseline again (pass ${pass} of ${passes}): how much the machine moved since`,
    );
  let place = kept;
  if (!place) {
    place = await preparePlace(target, context);
    if (!place) {
      held.set(target, "failed");
      return;
    }
    if (passes > 1) held.set(target, place);
  }
  try {
    await measureTarget(target, place, options, context.recorder, context.stepLabel);
  } finally {
    if (pass === passes) {
      held.delete(target);
      await releasePlace(target, place, options.progress);
    }
  }
}

/** A target's scratch directory or filled image; undefined, recorded and said, when it cannot be made. */
async function preparePlace(target: LocalTarget, context: StepContext): Promise<PreparedTarget | undefined> {
  const { options } = context;
  const spec = variantSpec(target, target === options.targets[0], context.ranOn);
  try {
    return target.rbd
      ? await prepareRbd({ ...target, rbd: target.rbd }, context.rbdFacts.get(target.name), spec, options)
      : await prepareDirectory(target, spec, context.jobFile);
  } catch (error) {
    // An image that cannot be made or filled fails its target only; the next target still runs.
    if (options.signal?.aborted || !(error instanceof UserError)) throw error;
    await context.recorder.failure({
      variant: target.name,
      workload: "precondition",
      attempt: 1,
      message: error.message,
    });
    options.progress.note(`  ${target.name}: FAILED before its first run: ${error.message}`);
    return undefined;
  }
}

/** What cannot be given back is said, and the next target still runs. */
async function releasePlace(target: LocalTarget, place: PreparedTarget, progress: ProgressReporter): Promise<void> {
  await place.release().catch((error: Error) => {
    if (!(error instanceof UserError)) throw error;
    progress.note(`layerbench: ${target.name}: ${error.message}`);
  });
}
