import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  cephEnvironment,
  checkRbdTarget,
  createRbdImage,
  type RbdImage,
  rbdCache,
  rbdName,
} from "../ceph/rbd-image.js";
import {
  RBD_CLIENT_VARIABLE,
  RBD_FILL_SECTION,
  RBD_POOL_VARIABLE,
  RBD_TARGET,
  renderJobFile,
  renderRbdFillJob,
  TARGET_VARIABLE,
} from "../core/jobfile.js";
import { largestFootprint, type Profile } from "../core/profiles.js";
import { runFioSection } from "./fio-process.js";

// An `rbd:` target: fio's rbd engine on an image the run makes in the user's pool, fills, measures and removes.

/** What `plan`-like checks found before any I/O, kept for the lock and the results. */
export interface RbdTargetFacts {
  fsid: string;
  size: number;
  minSize: number;
}

/** The image holds the largest workload's regions, one per job, side by side (offset_increment). */
export function rbdImageBytes(profile: Profile): number {
  return Math.ceil(largestFootprint(profile) / 1024 ** 2) * 1024 ** 2;
}

/** Before any I/O: the cluster answers the user's key, the pool has room for `bytes`, the image is not there yet. */
export async function preflightRbdTarget(name: string, image: RbdImage, bytes: number): Promise<RbdTargetFacts> {
  const { fsid, size, minSize } = await checkRbdTarget(image, bytes, `target "${name}"`);
  return { fsid, size, minSize };
}

/** fio's environment for an image: the job text names it through these variables. */
export function rbdFioEnvironment(image: RbdImage): Record<string, string> {
  return {
    [TARGET_VARIABLE]: image.image,
    [RBD_POOL_VARIABLE]: image.pool,
    [RBD_CLIENT_VARIABLE]: image.id ?? "admin",
    ...cephEnvironment(image),
  };
}

/** The Ceph release of the client tools (librbd comes with them), as `rbd --version` says it. */
export async function cephVersion(): Promise<string> {
  const { stdout } = await promisify(execFile)("rbd", ["--version"]);
  return stdout.trim().replace(/^ceph version /, "");
}

/** Writes the whole image once, sequentially, with fio's rbd engine; returns the seconds it took. */
export async function fillRbdImage(
  image: RbdImage,
  bytes: number,
  jobsDir: string,
  signal?: AbortSignal,
): Promise<number> {
  const fillJob = join(jobsDir, "rbd-fill.fio");
  await fs.writeFile(fillJob, renderRbdFillJob(bytes));
  const started = performance.now();
  await runFioSection({ jobFile: fillJob, section: RBD_FILL_SECTION, environment: rbdFioEnvironment(image), signal });
  return (performance.now() - started) / 1000;
}

export interface PreparedRbdTarget {
  jobFile: string;
  environment: Record<string, string>;
  /** The variant's options: where it ran and through which client cache. */
  options: Record<string, string | number>;
  /** Seconds the fill took: not part of any number. */
  fillSec: number;
  cephVersion: string;
  remove: () => Promise<void>;
}

/**
 * Makes the image, fills it once (a thin image reads zeros without touching the OSDs) and says which librbd
 * cache the runs go through: none under direct=1 (fio's rbd engine then sets rbd_cache=false), else the client's
 * configuration, which `rbd config image list` resolves as librbd does.
 */
export async function prepareRbdTarget(
  name: string,
  image: RbdImage,
  facts: RbdTargetFacts,
  profile: Profile,
  jobsDir: string,
  signal?: AbortSignal,
): Promise<PreparedRbdTarget> {
  const what = `RBD target "${name}"`;
  const bytes = rbdImageBytes(profile);
  const remove = await createRbdImage(image, bytes, what);
  try {
    const environment = rbdFioEnvironment(image);
    const fillSec = await fillRbdImage(image, bytes, jobsDir, signal);
    const jobFile = join(jobsDir, `${profile.id}.rbd.fio`);
    await fs.writeFile(jobFile, renderJobFile(profile, RBD_TARGET));
    const cache = profile.direct ? "off" : await rbdCache(image, what);
    return {
      jobFile,
      environment,
      options: {
        rbd: rbdName(image),
        engine: "rbd",
        rbdCache: cache,
        poolSize: facts.size,
        poolMinSize: facts.minSize,
        client: `client.${image.id ?? "admin"}`,
      },
      fillSec,
      cephVersion: await cephVersion(),
      remove,
    };
  } catch (error) {
    await remove().catch(() => undefined);
    throw error;
  }
}
