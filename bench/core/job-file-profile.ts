import { promises as fs } from "node:fs";
import { basename, extname } from "node:path";
import { fsReason, UserError } from "../util/errors.js";
import { parseSize } from "../util/size.js";
import {
  PROFILE_IDS,
  type Profile,
  type ProfileOverrides,
  type ReadWrite,
  resolveProfile,
  type Workload,
} from "./profiles.js";

// A profile from the user's own fio job file: each section a workload, its [global] kept. layerbench reads from it
// only what it needs to plan, check and label (rw, bs, numjobs, iodepth, size, runtime, ramp, engine, direct); fio
// runs the text itself, with the target added where the file does not name one (jobfile.ts).

export class JobFileProfileError extends UserError {}

/**
 * fio's own defaults for what a section does not set (fio's HOWTO): read, 4k, one job, QD1, psync (os/os.h,
 * FIO_PREFERRED_ENGINE, which Linux keeps), buffered. `layerbench import` reads fio's printed options by them too.
 */
export const FIO_DEFAULTS: Record<string, string> = {
  rw: "read",
  bs: "4k",
  numjobs: "1",
  iodepth: "1",
  ioengine: "psync",
  direct: "0",
};

/** The rw values fio takes, mapped to ours; randrw and rw both read and write. */
const RW: Record<string, ReadWrite> = {
  read: "read",
  write: "write",
  randread: "randread",
  randwrite: "randwrite",
  randrw: "randrw",
  rw: "randrw",
  readwrite: "randrw",
};

/** Aliases fio accepts for the keys read here. */
const ALIASES: Record<string, string> = { readwrite: "rw", blocksize: "bs" };

/** [section] -> key -> value, in file order; keys without a value (stonewall) get "". */
function parseSections(text: string, origin: string): Array<{ name: string; options: Map<string, string> }> {
  const sections: Array<{ name: string; options: Map<string, string> }> = [];
  for (const [index, raw] of text.split("\n").entries()) {
    const line = raw.replace(/[;#].*$/, "").trim();
    if (line === "") continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      sections.push({ name: header[1].trim(), options: new Map() });
      continue;
    }
    const current = sections.at(-1);
    if (!current) throw new JobFileProfileError(`${origin}:${index + 1}: "${line}" comes before any [section]`);
    const separator = line.indexOf("=");
    const key = (separator < 0 ? line : line.slice(0, separator)).trim();
    current.options.set(ALIASES[key] ?? key, separator < 0 ? "" : line.slice(separator + 1).trim());
  }
  return sections;
}

const SECTION_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function seconds(value: string | undefined, key: string, origin: string): number {
  if (value === undefined) return 0;
  const match = /^(\d+)\s*(s|m|h)?$/.exec(value);
  if (!match)
    throw new JobFileProfileError(`${origin}: ${key}=${value}: layerbench reads whole seconds (e.g. 30 or 30s)`);
  const unit: Record<string, number> = { s: 1, m: 60, h: 3600 };
  return Number(match[1]) * unit[match[2] ?? "s"];
}

/** The profile of a job file's text; `path` names it (its base name is the profile id). */
export function jobFileProfile(text: string, path: string): Profile {
  const origin = path;
  const sections = parseSections(text, origin);
  const global = sections.find((section) => section.name === "global")?.options ?? new Map<string, string>();
  const jobs = sections.filter((section) => section.name !== "global");
  if (jobs.length === 0) throw new JobFileProfileError(`${origin}: no job section: each [section] is a workload`);
  const setting = (options: Map<string, string>, key: string) =>
    options.get(key) ?? global.get(key) ?? FIO_DEFAULTS[key];
  const workloads: Workload[] = jobs.map(({ name, options }) => {
    if (!SECTION_NAME.test(name))
      throw new JobFileProfileError(
        `${origin}: section [${name}]: use letters, digits, '.', '_' and '-' in section names (they name the workloads)`,
      );
    const rwValue = setting(options, "rw").split(":")[0];
    const rw = RW[rwValue];
    if (!rw)
      throw new JobFileProfileError(
        `${origin}: [${name}] rw=${rwValue}: layerbench reads ${Object.keys(RW).join(", ")}`,
      );
    const size = setting(options, "size");
    if (size === undefined)
      throw new JobFileProfileError(
        `${origin}: [${name}] sets no size: give size= (per job) in the section or [global]`,
      );
    const number = (key: string) => {
      const value = Number(setting(options, key));
      if (!Number.isInteger(value) || value < 1)
        throw new JobFileProfileError(`${origin}: [${name}] ${key}=${setting(options, key)}: a whole number is needed`);
      return value;
    };
    return {
      id: name,
      title: name,
      rw,
      // "4k,64k" sets reads and writes apart: the first is the read size, the one fio names first.
      bs: parseSize(setting(options, "bs").split(",")[0]),
      numjobs: number("numjobs"),
      iodepth: number("iodepth"),
      size: parseSize(size),
    };
  });
  return {
    id: basename(path, extname(path)),
    description: `your job file ${path}`,
    ioengine: global.get("ioengine") ?? FIO_DEFAULTS.ioengine,
    direct: (global.get("direct") ?? FIO_DEFAULTS.direct) === "1",
    endFsync: false,
    rampSec: seconds(global.get("ramp_time"), "ramp_time", origin),
    runtimeSec: seconds(global.get("runtime"), "runtime", origin),
    fioOptions: [],
    workloads,
    jobFileText: text,
  };
}

/** What a job file sets itself: the CLI's options that would change it are refused with it. */
const SET_IN_THE_FILE: Array<[keyof ProfileOverrides, string]> = [
  ["runtimeSec", "--runtime (runtime=)"],
  ["rampSec", "--ramp (ramp_time=)"],
  ["size", "--size (size=)"],
  ["ioengine", "--ioengine (ioengine=)"],
  ["direct", "--direct/--no-direct (direct=)"],
];

/** `--profile NAME|FILE`: a built-in profile with overrides, or your job file as it is (repeats may still be auto). */
export async function selectProfile(nameOrPath: string, overrides: ProfileOverrides): Promise<Profile> {
  if (PROFILE_IDS.includes(nameOrPath)) return resolveProfile(nameOrPath, overrides);
  let text: string;
  try {
    text = await fs.readFile(nameOrPath, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new JobFileProfileError(
      code === "ENOENT"
        ? `unknown profile "${nameOrPath}": choose one of ${PROFILE_IDS.join(", ")}, or give a fio job file`
        : `cannot read the job file ${nameOrPath}: ${fsReason(error)}`,
    );
  }
  const conflicting = SET_IN_THE_FILE.filter(([key]) => overrides[key] !== undefined).map(([, option]) => option);
  if (conflicting.length > 0)
    throw new JobFileProfileError(
      `${conflicting.join(", ")} cannot change your job file ${nameOrPath}: set it in the file`,
    );
  return {
    ...jobFileProfile(text, nameOrPath),
    ...(overrides.stopWhenStable && { stopWhenStable: overrides.stopWhenStable }),
    ...(overrides.precondition && { precondition: true }),
    ...(overrides.steady && { steady: true }),
  };
}
