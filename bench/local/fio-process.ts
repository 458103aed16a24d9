import { spawn } from "node:child_process";
import { onEmergencyExit } from "../util/emergency-cleanup.js";
import { UserError } from "../util/errors.js";
import { stopTethered, tethered } from "../util/tethered.js";

export class FioRunError extends UserError {}

export interface FioInvocation {
  jobFile: string;
  /** The job section to run; the others in the file are skipped. */
  section: string;
  fioCommand?: string;
  /** Extra environment for fio, such as the target the job file refers to. */
  environment?: Record<string, string>;
  /** Aborting stops fio and its jobs (SIGINT, then after a grace period their PID namespace's end) and rejects. */
  signal?: AbortSignal;
  /**
   * Seconds after which fio is stopped the same way and the run failed: a storage that stops answering (an OSD
   * stopped, a pool at its quota) leaves fio waiting for its I/O for ever. None: fio takes what it takes.
   */
  deadlineSec?: number;
}

/** The deadline of a run that should take `seconds`: twice that and a minute, for what is slow but answering. */
export const runDeadlineSec = (seconds: number) => 2 * seconds + 60;

/** Runs one fio job section and resolves with fio's JSON output. */
export function runFioSection({
  jobFile,
  section,
  fioCommand = "fio",
  environment = {},
  signal,
  deadlineSec,
}: FioInvocation): Promise<string> {
  // A stop that came before this run starts it not: it would run to its end first.
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const fio = tethered(fioCommand, ["--output-format=json", `--section=${section}`, jobFile], { workers: true });
    const child = spawn(fio.command, fio.args, {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...environment },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    let cancelKill: () => void = () => undefined;
    const onAbort = () => {
      cancelKill = stopTethered(child, fio);
    };
    const forget = onEmergencyExit(`fio process ${child.pid}`, () => child.kill("SIGKILL"));
    signal?.addEventListener("abort", onAbort, { once: true });
    let overdue = false;
    const deadline =
      deadlineSec === undefined
        ? undefined
        : setTimeout(() => {
            overdue = true;
            onAbort();
          }, deadlineSec * 1000);
    child.on("error", (error) => reject(new FioRunError(`could not start fio: ${error.message}`)));
    child.on("close", (code, killedBy) => {
      clearTimeout(deadline);
      cancelKill();
      signal?.removeEventListener("abort", onAbort);
      forget();
      const killedJob = KILLED_JOB.exec(stderr);
      if (signal?.aborted) {
        reject(signal.reason);
      } else if (overdue) {
        reject(
          new FioRunError(
            `fio failed on ${section}: no end within ${deadlineSec} s: the target stopped answering (for an RBD image: the Ceph cluster, an OSD down or the pool full), fio stopped`,
          ),
        );
      } else if (code === 0 && killedJob) {
        // fio exits 0 when a job's process is killed; its numbers are of a cut run (0 IOPS in 0 ms), not a measurement.
        reject(new FioRunError(`fio failed on ${section}: a job of it was killed by signal ${killedJob[1]}`));
      } else if (code === 0) {
        resolve(stdout);
      } else {
        const detail = fioFailureCause(stderr) || `exit ${code ?? killedBy}`;
        reject(new FioRunError(`fio failed on ${section}: ${detail}`));
      }
    });
  });
}

/** What fio's main process says when a job's process is killed (backend.c: "fio: pid=N, got signal=S"). */
export const KILLED_JOB = /got signal=(\d+)/;

/**
 * The cause of a failed fio run from its stderr: fio's error lines first (a full disk's "No space left on device"
 * comes well before fio's last words, "file hash not empty on exit"), else its last 3 lines. The fio script's rule
 * too (remote/fio-script.ts, FIO_FAILURE_CAUSE).
 */
export function fioFailureCause(stderr: string): string {
  const lines = stderr
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
  const errors = lines.filter((line) => /error/i.test(line));
  return (errors.length > 0 ? errors.slice(0, 2) : lines.slice(-3)).join(" | ");
}
