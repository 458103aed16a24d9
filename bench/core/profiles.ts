import { UserError } from "../util/errors.js";
import { formatFioSize, parseSize } from "../util/size.js";

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
  ioengine: IoEngine;
  direct: boolean;
  endFsync: boolean;
  runtimeSec: number;
  workloads: Workload[];
}

export interface ProfileOverrides {
  runtimeSec?: number;
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
    runtimeSec: 60,
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
  kbench: {
    id: "kbench",
    description: "The shape of Longhorn's kbench: IOPS, bandwidth and latency, direct I/O",
    ioengine: "libaio",
    direct: true,
    endFsync: false,
    runtimeSec: 30,
    workloads: [
      {
        id: "iops-randread-4k",
        title: "IOPS: 4 KiB random read, QD128",
        rw: "randread",
        bs: 4 * KiB,
        numjobs: 1,
        iodepth: 128,
        size: parseSize("2g"),
      },
      {
        id: "iops-randwrite-4k",
        title: "IOPS: 4 KiB random write, QD128",
        rw: "randwrite",
        bs: 4 * KiB,
        numjobs: 1,
        iodepth: 128,
        size: parseSize("2g"),
      },
      {
        id: "bw-read-128k",
        title: "Bandwidth: 128 KiB sequential read, QD64",
        rw: "read",
        bs: 128 * KiB,
        numjobs: 1,
        iodepth: 64,
        size: parseSize("2g"),
      },
      {
        id: "bw-write-128k",
        title: "Bandwidth: 128 KiB sequential write, QD64",
        rw: "write",
        bs: 128 * KiB,
        numjobs: 1,
        iodepth: 64,
        size: parseSize("2g"),
      },
      {
        id: "lat-randread-4k",
        title: "Latency: 4 KiB random read, QD1",
        rw: "randread",
        bs: 4 * KiB,
        numjobs: 1,
        iodepth: 1,
        size: parseSize("2g"),
      },
      {
        id: "lat-randwrite-4k",
        title: "Latency: 4 KiB random write, QD1",
        rw: "randwrite",
        bs: 4 * KiB,
        numjobs: 1,
        iodepth: 1,
        size: parseSize("2g"),
      },
    ],
  },
};

export const PROFILE_IDS = Object.keys(PROFILES);
export const DEFAULT_PROFILE_ID = "ars";

export class ProfileError extends UserError {}

/** The profile with overrides applied; every bad value is rejected with what is allowed. */
export function resolveProfile(id: string, overrides: ProfileOverrides = {}): Profile {
  const base = PROFILES[id];
  if (!base) {
    throw new ProfileError(`unknown profile "${id}": choose one of ${PROFILE_IDS.join(", ")}`);
  }
  const { runtimeSec, size, ioengine, direct } = overrides;
  if (runtimeSec !== undefined && !(Number.isInteger(runtimeSec) && runtimeSec >= 1)) {
    throw new ProfileError(`bad runtime "${runtimeSec}": use a whole number of seconds, at least 1`);
  }
  if (ioengine !== undefined && !(IO_ENGINES as readonly string[]).includes(ioengine)) {
    throw new ProfileError(`unknown ioengine "${ioengine}": choose one of ${IO_ENGINES.join(", ")}`);
  }
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
    ioengine: (ioengine as IoEngine | undefined) ?? base.ioengine,
    direct: direct ?? base.direct,
    workloads: base.workloads.map((workload) => ({ ...workload, size: sizeBytes ?? workload.size })),
  };
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
