import { UserError } from "../util/errors.js";
import { formatFioSize } from "../util/size.js";
import type { Profile, Workload } from "./profiles.js";
import { LOG_OPTIONS } from "./series.js";
import { fioSteadyOptions } from "./steady-state.js";

/**
 * Where fio does its I/O: files in a directory, one file or block device shared by the jobs, or an RBD image through
 * fio's rbd engine (librbd, as a QEMU guest's disk on Ceph without krbd) as a cephx client.
 */
export type FioTarget =
  | { kind: "directory"; path: string }
  | { kind: "device"; path: string }
  | { kind: "rbd"; pool: string; image: string; client: string };

export class JobFileError extends UserError {}

/** Job files name their target through this environment variable, which fio expands: one text for every target. */
export const TARGET_VARIABLE = "LAYERBENCH_TARGET";
export const TARGET_REFERENCE = `\${${TARGET_VARIABLE}}`;

/** An RBD target's pool and cephx id, beside its image in TARGET_VARIABLE: one text for every RBD image too. */
export const RBD_POOL_VARIABLE = "LAYERBENCH_RBD_POOL";
export const RBD_CLIENT_VARIABLE = "LAYERBENCH_RBD_CLIENT";
export const RBD_TARGET = {
  kind: "rbd" as const,
  pool: `\${${RBD_POOL_VARIABLE}}`,
  image: TARGET_REFERENCE,
  client: `\${${RBD_CLIENT_VARIABLE}}`,
};

// fio splits directory and filename values on ':' (several paths); a literal colon is written '\:'.
export function fioPath(path: string): string {
  if (/[\n\r]/.test(path)) throw new JobFileError(`bad target path ${JSON.stringify(path)}: it contains a line break`);
  return path.replaceAll(":", "\\:");
}

function targetLines(target: FioTarget, workload: Workload): string[] {
  if (target.kind === "directory") return [`directory=${fioPath(target.path)}`];
  // The engine's own options count only after ioengine=rbd (fio's engines/rbd.c options).
  const lines =
    target.kind === "rbd"
      ? ["ioengine=rbd", `clientname=${target.client}`, `pool=${target.pool}`, `rbdname=${target.image}`]
      : [`filename=${fioPath(target.path)}`];
  // On a shared device or image every job would hit the same region; give each job its own.
  if (workload.numjobs > 1) lines.push(`offset_increment=${formatFioSize(workload.size)}`);
  return lines;
}

/**
 * The fio job file of a profile on a target. Each workload is its own section and stonewall group with
 * group_reporting, so workloads never overlap and each reports as one job named by the workload id;
 * `fio --section=ID` runs one of them.
 */
export function renderJobFile(profile: Profile, target: FioTarget): string {
  if (profile.jobFileText !== undefined) return renderYourJobFile(profile, profile.jobFileText, target);
  const global = [
    `; layerbench profile "${profile.id}": ${profile.description}`,
    "[global]",
    `ioengine=${profile.ioengine}`,
    `direct=${profile.direct ? 1 : 0}`,
    // A size-bound profile ends at its size; runtime is then its cap.
    ...(profile.sizeBound ? [] : ["time_based=1"]),
    ...(profile.rampSec > 0 ? [`ramp_time=${profile.rampSec}`] : []),
    `runtime=${profile.runtimeSec}`,
    ...(profile.endFsync ? ["end_fsync=1"] : []),
    ...(target.kind === "rbd" ? profile.fioOptions.map(rbdSyncOption) : profile.fioOptions),
    "group_reporting=1",
    // Every run second by second (core/series.ts), into the directory the runner gives fio.
    ...LOG_OPTIONS,
    ...(profile.steady ? fioSteadyOptions(profile.runtimeSec) : []),
  ];
  const sections = profile.workloads.map((workload) =>
    [
      "",
      `; ${workload.title}`,
      `[${workload.id}]`,
      "stonewall",
      ...targetLines(target, workload),
      `rw=${workload.rw}`,
      `bs=${formatFioSize(workload.bs)}`,
      `numjobs=${workload.numjobs}`,
      `iodepth=${workload.iodepth}`,
      `size=${formatFioSize(workload.size)}`,
    ].join("\n"),
  );
  return `${global.join("\n")}\n${sections.join("\n")}\n`;
}

/**
 * fio's rbd engine queues a sync as rbd_aio_flush but fails a datasync with EINVAL (engines/rbd.c, fio 3.33 to
 * fio-3.42-135): on an RBD image, fdatasync=N is fsync=N, which librbd answers with the same flush.
 */
function rbdSyncOption(line: string): string {
  return line.replace(/^(\s*)fdatasync(\s*=)/, "$1fsync$2");
}

/** Keys by which a job file names its own target. */
const TARGET_KEYS = /^\s*(filename|directory)\s*=/;
const GROUP_REPORTING = /^\s*group_reporting\b/;
const LOG_KEYS = /^\s*(write_(iops|bw|lat|hist)_log|log_avg_msec)\s*=/;
const SECTION_HEADER = /^\s*\[(.+)\]\s*$/;

/**
 * Your job file as fio will run it: your text, plus what layerbench relies on. group_reporting in [global] (each
 * section reports as one job) and the target in each section that does not name one, as for the built-in profiles.
 */
function renderYourJobFile(profile: Profile, text: string, target: FioTarget): string {
  const lines = text.replace(/\n$/, "").split("\n");
  const headerOf = (line: string) => SECTION_HEADER.exec(line)?.[1].trim();
  // The section each line belongs to, in one pass.
  let current: string | undefined;
  const sections = lines.map((line) => {
    current = headerOf(line) ?? current;
    return current;
  });
  const setIn = (section: string, key: RegExp) =>
    lines.some((line, index) => key.test(line) && sections[index] === section);
  const globalTarget = setIn("global", TARGET_KEYS);
  const out: string[] = [`; layerbench: your job file (${profile.description}), with the target added`];
  // Your own logs stay yours: layerbench logs a run only where the job file logs nothing.
  const logs = lines.some((line) => LOG_KEYS.test(line)) ? [] : LOG_OPTIONS;
  const steady = profile.steady ? fioSteadyOptions(profile.runtimeSec) : [];
  if (!sections.includes("global")) out.push("[global]", "group_reporting=1", ...logs, ...steady, "");
  for (const line of lines) {
    out.push(line);
    const name = headerOf(line);
    if (name === undefined) continue;
    if (name === "global") {
      if (!setIn("global", GROUP_REPORTING)) out.push("group_reporting=1");
      out.push(...logs, ...steady);
      continue;
    }
    const workload = profile.workloads.find((candidate) => candidate.id === name);
    if (workload && !globalTarget && !setIn(name, TARGET_KEYS)) out.push(...targetLines(target, workload));
  }
  return `${out.join("\n")}\n`;
}

/** The section that fills an RBD image once before it is measured: a thin image reads zeros without the OSDs. */
export const RBD_FILL_SECTION = "layerbench-fill";

/** A job file that writes the whole of RBD_TARGET's image sequentially, bypassing librbd's cache. */
export function renderRbdFillJob(bytes: number): string {
  const target = RBD_TARGET;
  return [
    "; layerbench: fills the RBD image once before it is measured (not a measurement)",
    `[${RBD_FILL_SECTION}]`,
    "ioengine=rbd",
    `clientname=${target.client}`,
    `pool=${target.pool}`,
    `rbdname=${target.image}`,
    "rw=write",
    // Ceph's 4 MiB objects whole; an image smaller than one (etcd's 22 MiB check cut down) in one write.
    `bs=${formatFioSize(Math.min(4 * 1024 ** 2, bytes))}`,
    "iodepth=16",
    "direct=1",
    `size=${formatFioSize(bytes)}`,
    "",
  ].join("\n");
}

/**
 * The features of an image fio's rbd engine measures: layering alone. fio opens one librbd client per job, and on
 * an image with Ceph's default features (exclusive-lock, object-map, fast-diff) the jobs pass its lock between them:
 * on the tests' single-OSD Ceph, 16 jobs of 64 KiB random writes at QD16 moved 23.6 MB/s with it, 194-225 without.
 * A VM's disk has one client, QEMU, and keeps the defaults pve-storage gives it (RBDPlugin.pm alloc_image).
 */
export const FIO_IMAGE_FEATURES = ["layering"];
