import { promises as fs } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { workloadRun } from "../core/fio-parser.js";
import { fioPath, renderJobFile, TARGET_REFERENCE, TARGET_VARIABLE } from "../core/jobfile.js";
import { largestFootprint, type Profile, type Workload } from "../core/profiles.js";
import { Recorder } from "../core/recorder.js";
import {
  DIRECTIONS,
  newResultsDocument,
  profileInfo,
  type ResultsDocument,
  type Run,
  type VariantSpec,
} from "../core/results.js";
import { writeResultsFile } from "../core/results-io.js";
import { UserError } from "../util/errors.js";
import { formatIops, formatLatency, formatRate } from "../util/format.js";
import { runFioSection } from "./fio-process.js";
import { checkTargetDirectory, fioVersion } from "./preflight.js";
import type { ProgressReporter } from "./progress.js";
import { isVmTarget, type LocalTarget } from "./targets.js";
import { GUEST_BOOT_SECONDS, measureVmTargets, preflightVmTargets } from "./vm-targets.js";

export interface LocalRunOptions {
  /** Measured in this order; the first is the baseline. */
  targets: LocalTarget[];
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

// fio start-up, file layout and end_fsync on top of the timed runtime, for the ETA only.
const OVERHEAD_SECONDS_PER_RUN = 0.5;
// Room for the file system's own metadata beside fio's files.
const FREE_SPACE_MARGIN = 64 * 1024 ** 2;

export class OutputDirectoryError extends UserError {}

/** Everything that can be checked before any I/O: fio, the targets, the output directory. */
export async function preflight(options: LocalRunOptions): Promise<string> {
  const version = await fioVersion(options.fioCommand);
  const needed = largestFootprint(options.profile) + FREE_SPACE_MARGIN;
  for (const target of options.targets.filter((candidate) => !candidate.vm))
    await checkTargetDirectory(target.name, target.path, needed);
  await preflightVmTargets(options.targets, options.profile);
  const existing = await fs.readdir(options.outDir).catch((): string[] => []);
  if (existing.includes("results.json")) {
    throw new OutputDirectoryError(
      `${options.outDir} already holds a results.json: choose another --out, results are never overwritten`,
    );
  }
  return version;
}

function variantSpec(target: LocalTarget, index: number): VariantSpec {
  return { id: target.name, layer: "local", options: { path: target.path }, baseline: index === 0 };
}

function describeRun(run: Run): string {
  const parts = DIRECTIONS.flatMap((direction) => {
    const result = run[direction];
    return result
      ? [
          `${direction} ${formatIops(result.iops)} IOPS, ${formatRate(result.bwBytes)}, mean lat ${formatLatency(result.latencyNs.mean)}`,
        ]
      : [];
  });
  return parts.join("; ");
}

async function removeWorkloadFiles(workDir: string, workload: Workload): Promise<void> {
  const names = await fs.readdir(workDir);
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
  const { targets, profile, repeat, outDir, progress, signal } = options;
  await preflight(options);
  await fs.mkdir(join(outDir, "jobs"), { recursive: true });
  const resultsPath = join(outDir, "results.json");
  const document = newResultsDocument({ kind: "local", host: hostname() }, profileInfo(profile, repeat), new Date());
  const totalRuns = targets.length * profile.workloads.length * repeat;
  const expectedSeconds = profile.runtimeSec + OVERHEAD_SECONDS_PER_RUN;
  const vmTargets = targets.filter(isVmTarget);
  // One job file for every target, the same text the remote scripts carry: the target comes from the environment.
  const jobFile = join(outDir, "jobs", `${profile.id}.fio`);
  await fs.writeFile(jobFile, renderJobFile(profile, { kind: "directory", path: TARGET_REFERENCE }));
  progress.start(totalRuns * expectedSeconds + (vmTargets.length > 0 ? GUEST_BOOT_SECONDS : 0));
  let runNumber = 0;
  const stepLabel = (target: string, workload: string, attempt: number) =>
    `[${++runNumber}/${totalRuns}] ${target} ${workload}${repeat > 1 ? ` #${attempt}` : ""}`;
  const recorder = new Recorder(document, () => writeResultsFile(resultsPath, document));
  try {
    for (const [index, target] of targets.entries()) {
      // VM targets are disks of one guest: all of them are measured when the first comes up.
      if (target.vm) {
        if (target === vmTargets[0]) {
          await measureVmTargets({
            targets: vmTargets,
            baselineName: targets[0].name,
            profile,
            repeat,
            recorder,
            progress,
            stepLabel,
            signal,
          });
        }
        continue;
      }
      const workDir = await fs.mkdtemp(join(target.path, ".layerbench-"));
      try {
        for (const workload of profile.workloads) {
          for (let attempt = 1; attempt <= repeat; attempt += 1) {
            const label = stepLabel(target.name, workload.id, attempt);
            progress.stepStarted(label, expectedSeconds);
            const startedAt = new Date().toISOString();
            const environment = { [TARGET_VARIABLE]: fioPath(workDir) };
            let run: Run;
            try {
              const stdout = await runFioSection({
                jobFile,
                section: workload.id,
                fioCommand: options.fioCommand,
                environment,
                signal,
              });
              run = workloadRun(stdout, workload.id, startedAt, `fio output of ${target.name}/${workload.id}`);
            } catch (error) {
              // Ctrl-C stops the run; anything else fails this run only, as on every other path (core/recorder.ts).
              if (signal?.aborted || !(error instanceof UserError)) throw error;
              await recorder.failure({ variant: target.name, workload: workload.id, attempt, message: error.message });
              progress.stepFinished(`${label}: FAILED: ${error.message}`);
              continue;
            }
            await recorder.run(variantSpec(target, index), workload, run);
            progress.stepFinished(`${label}: ${describeRun(run)}`);
          }
          await removeWorkloadFiles(workDir, workload);
        }
      } finally {
        await fs.rm(workDir, { recursive: true, force: true });
      }
    }
    return { document, resultsPath };
  } catch (error) {
    return { document, resultsPath, stoppedBy: error as Error };
  } finally {
    progress.stop();
  }
}
