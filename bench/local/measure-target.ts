import { promises as fs } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { workloadRun } from "../core/fio-parser.js";
import { fioPath } from "../core/jobfile.js";
import { type Profile, secondsPerRun, type Workload } from "../core/profiles.js";
import type { Recorder } from "../core/recorder.js";
import { AUTO_MAX_ATTEMPTS, failuresAllow, runAgain, unstable } from "../core/repeat.js";
import { DIRECTIONS, type Run, relativeStdevPct, runIops, stat, type VariantSpec } from "../core/results.js";
import { LOGS_VARIABLE } from "../core/series.js";
import { scratchOnEmergencyExit } from "../util/emergency-cleanup.js";
import { UserError } from "../util/errors.js";
import { formatIops, formatLatency, formatRate } from "../util/format.js";
import { runDeadlineSec, runFioSection } from "./fio-process.js";
import type { ProgressReporter } from "./progress.js";
import { clearLogs, readSeries } from "./series-logs.js";
import type { LocalTarget } from "./targets.js";

// One target's workloads, one fio run at a time, each recorded as it ends: what `run` does for every directory and
// RBD target, in the order bench/local/order.ts gives.

// fio start-up, file layout and end_fsync on top of the timed runtime, for the ETA only.
export const OVERHEAD_SECONDS_PER_RUN = 0.5;

/** What measuring a target needs of the run's options. */
export interface TargetRunOptions {
  profile: Profile;
  repeat: number;
  progress: ProgressReporter;
  fioCommand?: string;
  signal?: AbortSignal;
}

/** Where a target's runs write, what fio's environment says of it, and what undoes it once its workloads are done. */
export interface PreparedTarget {
  jobFile: string;
  environment: Record<string, string>;
  spec: VariantSpec;
  afterWorkload: (workload: Workload) => Promise<void>;
  release: () => Promise<void>;
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

/** Every workload of the profile on one target, one fio run at a time; each run recorded as it ends. */
export async function measureTarget(
  target: LocalTarget,
  place: PreparedTarget,
  options: TargetRunOptions,
  recorder: Recorder,
  stepLabel: (target: string, workload: string, attempt: number) => string,
): Promise<void> {
  const { profile, repeat, progress, signal } = options;
  const expectedSeconds = secondsPerRun(profile) + OVERHEAD_SECONDS_PER_RUN;
  // fio's per-second logs go beside, not onto the target measured.
  const logDir = await fs.mkdtemp(join(tmpdir(), "layerbench-logs-"));
  const forgetLogDir = scratchOnEmergencyExit(logDir);
  try {
    for (const workload of profile.workloads) {
      const rule = profile.stopWhenStable;
      const measuredIops: number[] = [];
      const runSeconds: number[] = [];
      // A fixed repeat makes its attempts; `auto` runs while the rule asks for more (core/repeat.ts), a failed
      // run not counting as one, as the Phoronix Test Suite does.
      for (let attempt = 1; attempt <= (rule ? AUTO_MAX_ATTEMPTS : repeat); attempt += 1) {
        const label = stepLabel(target.name, workload.id, attempt);
        progress.stepStarted(label, expectedSeconds);
        const startedAt = new Date().toISOString();
        const started = performance.now();
        const environment = { ...place.environment, [LOGS_VARIABLE]: fioPath(logDir) };
        await clearLogs(logDir);
        let run: Run;
        try {
          const stdout = await runFioSection({
            jobFile: place.jobFile,
            section: workload.id,
            fioCommand: options.fioCommand,
            environment,
            signal,
            // fio ends a run at its runtime; without one (a job file's), it takes what its sizes take.
            ...(profile.runtimeSec > 0 && { deadlineSec: runDeadlineSec(secondsPerRun(profile)) }),
          });
          run = workloadRun(stdout, workload.id, startedAt, `fio output of ${target.name}/${workload.id}`);
          const series = await readSeries(logDir);
          if (series) run.series = series;
        } catch (error) {
          // Ctrl-C stops the run; anything else fails this run only, as on every other path (core/recorder.ts).
          if (signal?.aborted || !(error instanceof UserError)) throw error;
          await recorder.failure({ variant: target.name, workload: workload.id, attempt, message: error.message });
          progress.stepFinished(`${label}: FAILED: ${error.message}`);
          if (rule && !failuresAllow(measuredIops.length, attempt)) break;
          continue;
        }
        // Said before it is saved: a run whose results.json cannot be written (a full --out) is not lost to the user.
        progress.stepFinished(`${label}: ${describeRun(run)}`);
        await recorder.run(place.spec, workload, run);
        measuredIops.push(runIops(run));
        runSeconds.push((performance.now() - started) / 1000);
        const meanSeconds = runSeconds.reduce((sum, value) => sum + value, 0) / runSeconds.length;
        if (rule && !runAgain(rule, measuredIops, meanSeconds)) {
          const spread = relativeStdevPct(stat(measuredIops)).toFixed(1);
          progress.note(
            unstable(measuredIops, rule.maxRsdPct)
              ? `  ${target.name} ${workload.id}: stopped after ${measuredIops.length} runs, the IOPS spread still ${spread} % (>= ${rule.maxRsdPct} %): the most the Phoronix Test Suite's rule allows`
              : `  ${target.name} ${workload.id}: stable after ${measuredIops.length} runs (IOPS spread ${spread} % < ${rule.maxRsdPct} %)`,
          );
          break;
        }
      }
      await place.afterWorkload(workload);
    }
  } finally {
    await fs.rm(logDir, { recursive: true, force: true });
    forgetLogDir();
  }
}
