import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import { onEmergencyExit } from "../util/emergency-cleanup.js";
import { UserError } from "../util/errors.js";
import { recordLeftover } from "../util/leftovers.js";
import { formatBytes } from "../util/size.js";
import { cephConnectionFailure } from "./ceph-errors.js";
import { parsePools, poolNames, quotaRoom } from "./pools.js";

// An RBD image that layerbench measures: made for the run with the `rbd` CLI (ceph-common), filled, measured with
// fio's rbd engine or a guest's disk, and removed. The user's images are never written: one that exists is refused.

export class RbdError extends UserError {}

/** POOL/IMAGE as a cephx user (client.USER, admin when unset) of the cluster a ceph.conf names. */
export interface RbdImage {
  pool: string;
  image: string;
  /** The cephx id, without "client."; Ceph's own default is admin. */
  id?: string;
  /** The cluster's ceph.conf; Ceph's own default is /etc/ceph/ceph.conf (or $CEPH_CONF). */
  conf?: string;
}

/** Ceph's naming rules for pools and images kept to what fio's and QEMU's option syntax carry whole. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function validateRbdImage(image: RbdImage, what: string): RbdImage {
  for (const [key, value] of [
    ["pool", image.pool],
    ["image", image.image],
    ["id", image.id],
  ] as const) {
    if (value !== undefined && !NAME.test(value))
      throw new RbdError(
        `${what}: ${key} "${value}" is not allowed: use letters, digits, '.', '_' and '-', starting with a letter or digit`,
      );
  }
  if (image.conf !== undefined && /[,:\n]/.test(image.conf))
    throw new RbdError(
      `${what}: conf=${image.conf}: a path with ',' ':' or a line break cannot reach fio and QEMU whole`,
    );
  return image;
}

export const rbdName = (image: RbdImage) => `${image.pool}/${image.image}`;

/** The options every Ceph CLI call takes to reach the cluster as this user. */
function connection(image: RbdImage): string[] {
  return [...(image.id ? ["--id", image.id] : []), ...(image.conf ? ["--conf", image.conf] : [])];
}

const CEPH_INSTALL_HINT =
  "install Ceph's client tools: sudo apt-get install ceph-common (Debian/Ubuntu), sudo dnf install ceph-common (Fedora)";

async function ceph(command: "rbd" | "ceph", args: string[], image: RbdImage, what: string): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)(command, [...connection(image), ...args], { timeout: 60_000 });
    return stdout;
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { stderr?: string; killed?: boolean };
    if (failure.code === "ENOENT") throw new RbdError(`${what}: no "${command}" command: ${CEPH_INSTALL_HINT}`);
    if (failure.killed)
      throw new RbdError(`${what}: "${command} ${args.join(" ")}" gave no answer in 60 s: is the cluster up?`);
    const known = cephConnectionFailure(failure.stderr ?? "", image);
    if (known) throw new RbdError(`${what}: ${known}`);
    const reason = (failure.stderr ?? "")
      .split("\n")
      .map((line) => line.replace(/^\S+T\S+ \S+ -?\d+ /, "").trim())
      .filter(Boolean)
      .slice(-2)
      .join(" | ");
    throw new RbdError(`${what}: "${command} ${args.join(" ")}" failed: ${reason || failure.message}`);
  }
}

/** The cluster an RBD target is on (its fsid, which locks it) and its pool's replicas. */
export interface RbdClusterFacts {
  fsid: string;
  size: number;
  minSize: number;
}

/**
 * Before any I/O: the CLI is there, the user's key opens the cluster, the pool exists and has room for `bytes`,
 * and the image does not exist. Returns the cluster's fsid and the pool's replicas for the results.
 */
export async function checkRbdTarget(image: RbdImage, bytes: number, what: string): Promise<RbdClusterFacts> {
  const fsid = (await ceph("ceph", ["fsid"], image, what)).trim();
  const pools = parsePools(
    await ceph("ceph", ["osd", "pool", "ls", "detail", "--format", "json"], image, what),
    await ceph("ceph", ["df", "--format", "json"], image, what),
  );
  const pool = pools?.get(image.pool);
  if (!pools || !pool)
    throw new RbdError(
      `${what}: the cluster ${fsid} has no pool "${image.pool}": its pools are ${pools ? poolNames(pools) : "none"}`,
    );
  if (pool.maxAvail !== undefined && pool.maxAvail < bytes)
    throw new RbdError(
      `${what}: pool "${image.pool}" can take ${formatBytes(pool.maxAvail)} more, the image needs ${formatBytes(bytes)}: free some space or pass a smaller --size`,
    );
  const room = quotaRoom(await ceph("ceph", ["osd", "pool", "get-quota", image.pool, "--format", "json"], image, what));
  if (room !== undefined && room < bytes)
    throw new RbdError(
      `${what}: pool "${image.pool}"'s quota lets ${formatBytes(room)} more be written, the image needs ${formatBytes(bytes)}: a pool at its quota blocks every write, so fio would hang: raise it (ceph osd pool set-quota ${image.pool} max_bytes BYTES) or pass a smaller --size`,
    );
  const images = JSON.parse(await ceph("rbd", ["ls", image.pool, "--format", "json"], image, what)) as string[];
  if (images.includes(image.image))
    throw new RbdError(
      `${what}: image ${rbdName(image)} exists: layerbench writes over the image it measures, so it makes its own and removes it after; name one that does not exist`,
    );
  return { fsid, size: pool.size, minSize: pool.minSize };
}

/** librbd's cache as a client of this image sees it: "off", or its policy (writearound, writeback, writethrough). */
export async function rbdCache(image: RbdImage, what: string): Promise<string> {
  const settings = JSON.parse(
    await ceph("rbd", ["config", "image", "list", rbdName(image), "--format", "json"], image, what),
  ) as Array<{ name: string; value: string }>;
  const value = (name: string) => settings.find((setting) => setting.name === name)?.value;
  return value("rbd_cache") === "true" ? (value("rbd_cache_policy") ?? "writeback") : "off";
}

/** The features the cluster gave the image, as `rbd info` lists them (e.g. layering,exclusive-lock,...). */
export async function rbdImageFeatures(image: RbdImage, what: string): Promise<string> {
  const info = JSON.parse(await ceph("rbd", ["info", rbdName(image), "--format", "json"], image, what)) as {
    features?: string[];
  };
  return (info.features ?? []).join(",");
}

/**
 * Makes the image, with `features` or Ceph's defaults; it is removed when the returned function runs, or on an
 * emergency exit.
 */
export async function createRbdImage(
  image: RbdImage,
  bytes: number,
  what: string,
  features?: string[],
): Promise<() => Promise<void>> {
  const featureArgs = (features ?? []).flatMap((feature) => ["--image-feature", feature]);
  await ceph(
    "rbd",
    ["create", "--size", `${Math.ceil(bytes / 1024 ** 2)}M`, ...featureArgs, rbdName(image)],
    image,
    what,
  );
  // Recorded until removed: a run killed outright leaves it to the next (util/leftovers.ts).
  const conf = image.conf ?? process.env.CEPH_CONF;
  const crossOut = recordLeftover({ kind: "rbd", ...image, ...(conf && { conf }) });
  const forget = onEmergencyExit(`rbd image ${rbdName(image)}`, () => {
    execFileSync("rbd", [...connection(image), "rm", "--no-progress", rbdName(image)], {
      stdio: "ignore",
      timeout: 30_000,
    });
    crossOut();
  });
  return async () => {
    // fio stopped by Ctrl-C under load may leave its watch a moment: the image is removed once it is let go.
    await removeOnceFree(image, what);
    forget();
    crossOut();
  };
}

/**
 * Attempts, 2 s apart, at removing an image whose client's watch lingers (a killed client's, about 30 s): a minute,
 * as the remote scripts ask (bench/remote/fio-script.ts).
 */
const REMOVE_TRIES = 30;
const REMOVE_INTERVAL_MS = 2_000;

/** Removes an image a killed run left, once Ceph has let its killed client go; one already gone is fine. */
export async function removeLeftoverImage(image: RbdImage): Promise<void> {
  await removeOnceFree(image, `RBD image ${rbdName(image)}`);
}

/** Removes an image, again while a client's watch on it lingers; one already gone is fine. */
async function removeOnceFree(image: RbdImage, what: string): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await ceph("rbd", ["rm", "--no-progress", rbdName(image)], image, what);
      return;
    } catch (error) {
      const gone = await ceph("rbd", ["info", rbdName(image)], image, what).then(
        () => false,
        (missing: Error) => /No such file or directory/.test(missing.message),
      );
      if (gone) return;
      if (!/still has watchers/.test((error as Error).message) || attempt >= REMOVE_TRIES) throw error;
      await new Promise((resolve) => setTimeout(resolve, REMOVE_INTERVAL_MS));
    }
  }
}
