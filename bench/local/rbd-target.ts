import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  createRbdImage,
  type RbdClusterFacts,
  type RbdImage,
  rbdCache,
  rbdImageFeatures,
  rbdName,
} from "../ceph/rbd-image.js";
import {
  FIO_IMAGE_FEATURES,
  RBD_CLIENT_VARIABLE,
  RBD_FILL_SECTION,
  RBD_POOL_VARIABLE,
  RBD_TARGET,
  renderJobFile,
  renderRbdFillJob,
  TARGET_VARIABLE,
} from "../core/jobfile.js";
import { largestFootprint, type Profile } from "../core/profiles.js";
import { runDeadlineSec, runFioSection } from "./fio-process.js";

// An `rbd:` target: fio's rbd engine on an image the run makes in the user's pool, fills, measures and removes;
// and the images of a local guest's RBD disks, made and filled the same way.

/** The image holds the largest workload's regions, one per job, side by side (offset_increment). */
export function rbdImageBytes(profile: Profile): number {
  return Math.ceil(largestFootprint(profile) / 1024 ** 2) * 1024 ** 2;
}

/** fio's environment for an image: the job text names it through these variables; its rbd engine reads CEPH_CONF. */
export function rbdFioEnvironment(image: RbdImage): Record<string, string> {
  return {
    [TARGET_VARIABLE]: image.image,
    [RBD_POOL_VARIABLE]: image.pool,
    [RBD_CLIENT_VARIABLE]: image.id ?? "admin",
    ...(image.conf && { CEPH_CONF: image.conf }),
  };
}

/** The Ceph release of the client tools (librbd comes with them), as `rbd --version` says it. */
async function cephVersion(): Promise<string> {
  const { stdout } = await promisify(execFile)("rbd", ["--version"]);
  return stdout.trim().replace(/^ceph version /, "");
}

export interface RbdImageRun {
  /** Names the target in messages. */
  what: string;
  image: RbdImage;
  bytes: number;
  /** What the checks before the run found of its cluster. */
  facts: RbdClusterFacts;
  /** The runs bypass librbd's cache: fio under direct=1 (its rbd engine sets rbd_cache=false), or a guest disk whose cache mode bypasses the host's (block/rbd.c). */
  cacheBypassed: boolean;
  /** The image's features: Ceph's defaults when absent, as a VM disk's image has them. */
  features?: string[];
  /** Where the fill's job file goes. */
  jobsDir: string;
  signal?: AbortSignal;
}

export interface PreparedRbdImage {
  /** What the variant records of the image: where it ran and through which client cache. */
  options: Record<string, string | number>;
  /** Seconds the fill took: not part of any number. */
  fillSec: number;
  remove: () => Promise<void>;
}

/**
 * Makes the image, fills it once with sequential writes that bypass librbd's cache (a thin image reads zeros
 * without touching the OSDs), and says which librbd cache the runs go through: none when they bypass it, else the
 * client's configuration, which `rbd config image list` resolves as librbd does. Nothing is left on failure.
 */
export async function prepareRbdImage(run: RbdImageRun): Promise<PreparedRbdImage> {
  const { what, image, bytes, facts } = run;
  const remove = await createRbdImage(image, bytes, what, run.features);
  try {
    const fillJob = join(run.jobsDir, "rbd-fill.fio");
    await fs.writeFile(fillJob, renderRbdFillJob(bytes));
    const started = performance.now();
    await runFioSection({
      jobFile: fillJob,
      section: RBD_FILL_SECTION,
      environment: rbdFioEnvironment(image),
      signal: run.signal,
      // A pool that fills slower than 1 MiB/s is taken as not answering.
      deadlineSec: runDeadlineSec(bytes / 1024 ** 2),
    });
    const fillSec = (performance.now() - started) / 1000;
    return {
      options: {
        rbd: rbdName(image),
        rbdCache: run.cacheBypassed ? "off" : await rbdCache(image, what),
        imageFeatures: await rbdImageFeatures(image, what),
        poolSize: facts.size,
        poolMinSize: facts.minSize,
        client: `client.${image.id ?? "admin"}`,
      },
      fillSec,
      remove,
    };
  } catch (error) {
    await remove().catch(() => undefined);
    throw error;
  }
}

/** An `rbd:` target ready to measure: its image made and filled, the job file of its rbd engine written. */
export async function prepareRbdTarget(
  name: string,
  image: RbdImage,
  facts: RbdClusterFacts,
  profile: Profile,
  jobsDir: string,
  signal?: AbortSignal,
): Promise<PreparedRbdImage & { jobFile: string; cephVersion: string }> {
  const prepared = await prepareRbdImage({
    what: `RBD target "${name}"`,
    image,
    bytes: rbdImageBytes(profile),
    facts,
    cacheBypassed: profile.direct,
    // fio's jobs are one librbd client each: without exclusive-lock they do not pass the image's lock around.
    features: FIO_IMAGE_FEATURES,
    jobsDir,
    signal,
  });
  try {
    const jobFile = join(jobsDir, `${profile.id}.rbd.fio`);
    await fs.writeFile(jobFile, renderJobFile(profile, RBD_TARGET));
    return { ...prepared, options: { ...prepared.options, engine: "rbd" }, jobFile, cephVersion: await cephVersion() };
  } catch (error) {
    await prepared.remove().catch(() => undefined);
    throw error;
  }
}
