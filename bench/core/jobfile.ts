import { UserError } from "../util/errors.js";
import { formatFioSize } from "../util/size.js";
import type { Profile, Workload } from "./profiles.js";

/** Where fio does its I/O: files in a directory, or one file or block device shared by the jobs. */
export type FioTarget = { kind: "directory"; path: string } | { kind: "device"; path: string };

export class JobFileError extends UserError {}

/** Job files name their target through this environment variable, which fio expands: one text for every target. */
export const TARGET_VARIABLE = "LAYERBENCH_TARGET";
export const TARGET_REFERENCE = `\${${TARGET_VARIABLE}}`;

// fio splits directory and filename values on ':' (several paths); a literal colon is written '\:'.
export function fioPath(path: string): string {
  if (/[\n\r]/.test(path)) throw new JobFileError(`bad target path ${JSON.stringify(path)}: it contains a line break`);
  return path.replaceAll(":", "\\:");
}

function targetLines(target: FioTarget, workload: Workload): string[] {
  if (target.kind === "directory") return [`directory=${fioPath(target.path)}`];
  // On a shared device every job would hit the same region; give each job its own.
  const lines = [`filename=${fioPath(target.path)}`];
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
    "time_based=1",
    ...(profile.rampSec > 0 ? [`ramp_time=${profile.rampSec}`] : []),
    `runtime=${profile.runtimeSec}`,
    ...(profile.endFsync ? ["end_fsync=1"] : []),
    ...profile.fioOptions,
    "group_reporting=1",
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

/** Keys by which a job file names its own target. */
const TARGET_KEYS = /^\s*(filename|directory)\s*=/;

/**
 * Your job file as fio will run it: your text, plus what layerbench relies on. group_reporting in [global] (each
 * section reports as one job) and the target in each section that does not name one, as for the built-in profiles.
 */
function renderYourJobFile(profile: Profile, text: string, target: FioTarget): string {
  const lines = text.replace(/\n$/, "").split("\n");
  const sectionOf = (index: number) => {
    for (let at = index; at >= 0; at -= 1) {
      const header = /^\s*\[(.+)\]\s*$/.exec(lines[at]);
      if (header) return header[1].trim();
    }
    return undefined;
  };
  const namesTarget = (section: string) =>
    lines.some((line, index) => TARGET_KEYS.test(line) && sectionOf(index) === section);
  const globalTarget = namesTarget("global");
  const hasGlobal = lines.some((line) => /^\s*\[global\]\s*$/.test(line));
  const groupReporting = lines.some(
    (line) => /^\s*group_reporting\b/.test(line) && sectionOf(lines.indexOf(line)) === "global",
  );
  const out: string[] = [`; layerbench: your job file (${profile.description}), with the target added`];
  if (!hasGlobal) out.push("[global]", "group_reporting=1", "");
  for (const line of lines) {
    out.push(line);
    const header = /^\s*\[(.+)\]\s*$/.exec(line);
    if (!header) continue;
    const name = header[1].trim();
    if (name === "global") {
      if (!groupReporting) out.push("group_reporting=1");
      continue;
    }
    const workload = profile.workloads.find((candidate) => candidate.id === name);
    if (workload && !globalTarget && !namesTarget(name)) out.push(...targetLines(target, workload));
  }
  return `${out.join("\n")}\n`;
}
