import { UserError } from "../util/errors.js";
import { formatFioSize, parseSize } from "../util/size.js";
import type { StopWhenStable } from "./repeat.js";

export const IO_ENGINES = ["posixaio", "libaio", "io_uring", "psync", "sync", "pvsync2"] as const;
export type IoEngine = (typeof IO_ENGINES)[number];

export type ReadWrite = "randwrite" | "randread" | "write" | "read" | "randrw";

/** One fio job section: what it does, not where. */
export interface Workload {
  id: string;
  title: string;
  rw: ReadWrite;
  /** Block size in bytes. */
  bs: number;
  numjobs: number;
  iodepth: number;
  /** Bytes per job (the file each job works in, or the region of a device). */
  size: number;
}

export interface Profile {
  id: string;
  description: string;
  /** One of IO_ENGINES for the built-in profiles; a job file of yours may name any engine fio has. */
  ioengine: string;
  direct: boolean;
  endFsync: boolean;
  /** Seconds fio runs before it starts measuring (fio's ramp_time): not part of the numbers. */
  rampSec: number;
  runtimeSec: number;
  /** Further [global] lines of the job file, as the profile's source writes them. */
  fioOptions: string[];
  /** Set for `--repeat auto`: the repeat count is then the most runs, and fewer suffice once they agree. */
  stopWhenStable?: StopWhenStable;
  /** Fill each device target once, sequentially, before its first measurement (remote/fio-script.ts). */
  precondition?: boolean;
  /** End each run once fio's steadystate criterion holds (core/steady-state.ts), at most runtimeSec. */
  steady?: boolean;
  /** A run ends when each job has written its size (etcd's check), at runtimeSec at the latest; else time-based. */
  sizeBound?: boolean;
  workloads: Workload[];
  /** A profile from your own job file (job-file-profile.ts): fio runs this text, the target added. */
  jobFileText?: string;
}

export interface ProfileOverrides {
  runtimeSec?: number;
  rampSec?: number;
  stopWhenStable?: StopWhenStable;
  precondition?: boolean;
  steady?: boolean;
  /** Replaces every workload's per-job size. */
  size?: string | number;
  ioengine?: string;
  direct?: boolean;
}

const KiB = 1024;

const PROFILES: Record<string, Profile> = {
  ars: {
    id: "ars",
    description: "Ars Technica's fio guide (2020): three random-write workloads through the page cache",
    ioengine: "posixaio",
    direct: false,
    endFsync: true,
    rampSec: 0,
    runtimeSec: 60,
    fioOptions: [],
    workloads: [
      {
        id: "randwrite-4k-qd1",
        title: "4 KiB random write, 1 job, QD1",
        rw: "randwrite",
        bs: 4 * KiB,
        numjobs: 1,
        iodepth: 1,
        size: parseSize("4g"),
      },
      {
        id: "randwrite-64k-16x16",
        title: "64 KiB random write, 16 jobs, QD16",
        rw: "randwrite",
        bs: 64 * KiB,
        numjobs: 16,
        iodepth: 16,
        size: parseSize("256m"),
      },
      {
        id: "randwrite-1m-qd1",
        title: "1 MiB random write, 1 job, QD1",
        rw: "randwrite",
        bs: 1024 * KiB,
        numjobs: 1,
        iodepth: 1,
        size: parseSize("16g"),
      },
    ],
  },
  kbench: kbenchProfile(),
  etcd: {
    id: "etcd",
    description:
      "etcd's disk check (etcd.io, Hardware recommendations; etcd-io/etcd's fio job): 2300-byte writes, each followed by fdatasync, 22 MiB; etcd wants the fdatasync 99th percentile under 10 ms",
    // The job as etcd's maintainers give it: fio --rw=write --ioengine=sync --fdatasync=1 --size=22m --bs=2300.
    ioengine: "sync",
    direct: false,
    endFsync: false,
    rampSec: 0,
    // A cap: the check ends when its 22 MiB are written (10,030 fdatasyncs: 100 s at etcd's 10 ms).
    runtimeSec: 120,
    sizeBound: true,
    fioOptions: ["fdatasync=1"],
    workloads: [
      {
        id: "etcd-fdatasync",
        title: "etcd's check: 2300-byte sequential writes, fdatasync after each",
        rw: "write",
        bs: 2300,
        numjobs: 1,
        iodepth: 1,
        size: parseSize("22m"),
      },
    ],
  },
};

/** etcd's limit for the fdatasync 99th percentile (etcd.io, Hardware recommendations: "less than 10ms"). */
export const ETCD_FDATASYNC_P99_NS = 10e6;

/**
 * Longhorn's kbench, as its job files write it (github.com/longhorn/kbench, fio/common-include.fio and the
 * iops, bw and lat includes): libaio, direct, 5 s ramp, 20 s measured, one job; IOPS 4k at QD64, bandwidth 128k at
 * QD64, latency 4k at QD1; each a random and a sequential read and write, each its own stonewalled section, named
 * as kbench names them. Size 10g, kbench's run.sh default.
 */
function kbenchProfile(): Profile {
  const groups = [
    { group: "iops", title: "IOPS", bs: 4 * KiB, iodepth: 64 },
    { group: "bw", title: "Bandwidth", bs: 128 * KiB, iodepth: 64 },
    { group: "lat", title: "Latency", bs: 4 * KiB, iodepth: 1 },
  ];
  const patterns: Array<{ prefix: string; rw: ReadWrite; what: string }> = [
    { prefix: "rand-read", rw: "randread", what: "random read" },
    { prefix: "rand-write", rw: "randwrite", what: "random write" },
    { prefix: "seq-read", rw: "read", what: "sequential read" },
    { prefix: "seq-write", rw: "write", what: "sequential write" },
  ];
  return {
    id: "kbench",
    description: "Longhorn's kbench: IOPS, bandwidth and latency, random and sequential, read and write, direct I/O",
    ioengine: "libaio",
    direct: true,
    endFsync: false,
    rampSec: 5,
    runtimeSec: 20,
    fioOptions: ["randrepeat=0", "verify=0"],
    workloads: groups.flatMap(({ group, title, bs, iodepth }) =>
      patterns.map(({ prefix, rw, what }) => ({
        id: `${prefix}-${group}`,
        title: `${title}: ${formatFioSize(bs).toUpperCase()} ${what}, QD${iodepth}`,
        rw,
        bs,
        numjobs: 1,
        iodepth,
        size: parseSize("10g"),
      })),
    ),
  };
}

export const PROFILE_IDS = Object.keys(PROFILES);
export const DEFAULT_PROFILE_ID = "ars";

export class ProfileError extends UserError {}

/** The profile with overrides applied; every bad value is rejected with what is allowed. */
export function resolveProfile(id: string, overrides: ProfileOverrides = {}): Profile {
  const base = PROFILES[id];
  if (!base) {
    throw new ProfileError(`unknown profile "${id}": choose one of ${PROFILE_IDS.join(", ")}`);
  }
  const { runtimeSec, rampSec, size, ioengine, direct, stopWhenStable, precondition, steady } = overrides;
  if (runtimeSec !== undefined && !(Number.isInteger(runtimeSec) && runtimeSec >= 1)) {
    throw new ProfileError(`bad runtime "${runtimeSec}": use a whole number of seconds, at least 1`);
  }
  if (rampSec !== undefined && !(Number.isInteger(rampSec) && rampSec >= 0)) {
    throw new ProfileError(`bad ramp "${rampSec}": use a whole number of seconds, 0 or more`);
  }
  if (ioengine !== undefined && !(IO_ENGINES as readonly string[]).includes(ioengine)) {
    throw new ProfileError(`unknown ioengine "${ioengine}": choose one of ${IO_ENGINES.join(", ")}`);
  }
  // O_DIRECT needs blocks aligned to the device's sector: etcd's 2300-byte writes cannot be direct.
  const unaligned = direct ? base.workloads.find((workload) => workload.bs % 512 !== 0) : undefined;
  if (unaligned)
    throw new ProfileError(
      `--direct is not allowed with profile ${id}: its workload ${unaligned.id} writes ${unaligned.bs}-byte blocks, and O_DIRECT needs multiples of 512 bytes`,
    );
  if (steady && base.sizeBound)
    throw new ProfileError(
      `--steady is not allowed with profile ${id}: its runs end when their size is written, not at a steady state`,
    );
  const sizeBytes = size === undefined ? undefined : typeof size === "number" ? size : parseSize(size);
  const tooSmall = base.workloads.find((workload) => sizeBytes !== undefined && sizeBytes < workload.bs);
  if (tooSmall) {
    // fio refuses a job smaller than one block ("size too small, must not be less than minimum block size").
    const largestBlock = Math.max(...base.workloads.map((workload) => workload.bs));
    throw new ProfileError(
      `size ${formatFioSize(sizeBytes as number)} per job is smaller than the ${formatFioSize(tooSmall.bs)} blocks of workload ${tooSmall.id}: fio needs at least one block per job; use ${formatFioSize(largestBlock)} or more for profile ${id}`,
    );
  }
  return {
    ...base,
    runtimeSec: runtimeSec ?? base.runtimeSec,
    rampSec: rampSec ?? base.rampSec,
    ...(stopWhenStable && { stopWhenStable }),
    ...(precondition && { precondition }),
    ...(steady && { steady }),
    ioengine: ioengine ?? base.ioengine,
    direct: direct ?? base.direct,
    workloads: base.workloads.map((workload) => ({ ...workload, size: sizeBytes ?? workload.size })),
  };
}

/** Seconds one run of a workload takes on fio's clock: the ramp, then the measured runtime. */
export function secondsPerRun(profile: Pick<Profile, "rampSec" | "runtimeSec">): number {
  return profile.rampSec + profile.runtimeSec;
}

/** Bytes a workload's files take on the target while it runs. */
function workloadFootprint(workload: Workload): number {
  return workload.size * workload.numjobs;
}

/** Bytes all the profile's workloads write, one after the other: what a target keeps when no file is removed. */
export function totalFootprint(profile: Profile): number {
  return profile.workloads.reduce((sum, workload) => sum + workloadFootprint(workload), 0);
}

/** Bytes the profile's largest workload writes: what a target, an image or a volume must hold. */
export function largestFootprint(profile: Profile): number {
  return Math.max(...profile.workloads.map(workloadFootprint));
}
