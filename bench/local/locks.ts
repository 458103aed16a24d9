import { promises as fs, rmdirSync, unlinkSync } from "node:fs";
import { hostname } from "node:os";
import { dirname, join } from "node:path";
import { onEmergencyExit } from "../util/emergency-cleanup.js";
import { UserError } from "../util/errors.js";
import { makeDirectory } from "../util/files.js";
import { machineStateDir, processAlive } from "../util/leftovers.js";

// Two layerbench processes never write one output directory, and never measure one device at once: each takes a
// lock file (created exclusively) on its output directory and on the device under each target, for the whole run.
// A lock whose process is gone (killed, crashed) is taken over, by one run only.

export class LockError extends UserError {}

interface Holder {
  pid: number;
  host: string;
  startedAt: string;
  what: string;
}

async function readHolder(path: string): Promise<Holder | undefined> {
  try {
    return JSON.parse(await fs.readFile(path, "utf8")) as Holder;
  } catch {
    return undefined;
  }
}

const isStale = (holder: Holder | undefined): holder is Holder =>
  holder !== undefined && holder.host === hostname() && !processAlive(holder.pid);

const sameHolder = (a: Holder | undefined, b: Holder) => a?.pid === b.pid && a.startedAt === b.startedAt;

/** A takeover guard older than this was left by a process killed in the instant it held it. */
const GUARD_STALE_MS = 10_000;

/**
 * Removes a stale lock file, one process at a time: two runs that both read the same stale holder would otherwise
 * both remove "it", the second removing the lock the first had just written, and both measure. The one that takes
 * the guard (created exclusively) removes the file only if it still names the stale holder it read.
 */
async function removeStale(path: string, stale: Holder): Promise<void> {
  const guard = `${path}.takeover`;
  for (;;) {
    try {
      await fs.writeFile(guard, `${process.pid}\n`, { flag: "wx" });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const since = await fs.stat(guard).then(
        (stat) => Date.now() - stat.mtimeMs,
        () => 0,
      );
      if (since > GUARD_STALE_MS) await fs.rm(guard, { force: true });
      else await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  try {
    if (sameHolder(await readHolder(path), stale)) await fs.rm(path, { force: true });
  } finally {
    await fs.rm(guard, { force: true });
  }
}

/** Takes one lock file, or throws naming its holder. */
async function takeLock(path: string, what: string, busy: (holder: Holder) => string): Promise<() => void> {
  const holder: Holder = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), what };
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      await fs.writeFile(path, `${JSON.stringify(holder)}\n`, { flag: "wx" });
      return () => unlinkSync(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const current = await readHolder(path);
      // Still being written by its holder: treated as held. Held by a process gone from this host: stale.
      if (isStale(current)) {
        await removeStale(path, current);
        continue;
      }
      throw new LockError(busy(current ?? { pid: 0, host: "?", startedAt: "?", what: "a layerbench run starting up" }));
    }
  }
  throw new LockError(`${path}: could not take the lock`);
}

function describe(holder: Holder): string {
  return `layerbench process ${holder.pid} on ${holder.host} (since ${holder.startedAt}: ${holder.what})`;
}

/** The device a path is on, as "major:minor". */
async function deviceNumber(path: string): Promise<string> {
  const { dev } = await fs.stat(path);
  // Linux's dev_t: major in bits 8-19, minor in bits 0-7 and 20-31.
  return `${Math.floor(dev / 256) & 0xfff}:${(dev & 0xff) | (Math.floor(dev / 4096) & 0xfff00)}`;
}

export interface RunLocks {
  release: () => void;
}

/**
 * Locks the output directory (made if needed) and the device of every target path (or the Ceph cluster of an RBD
 * target, by its fsid) for one run; `what` says what
 * the run does, for whoever finds the lock held.
 */
export async function lockRun(
  outDir: string,
  targets: Array<{ name: string; path: string; cluster?: string }>,
  what: string,
): Promise<RunLocks> {
  const releases: Array<() => void> = [];
  const release = () => {
    for (const undo of releases.splice(0).reverse()) {
      try {
        undo();
      } catch {
        // Already gone, or a directory the run wrote into: nothing more to undo.
      }
    }
  };
  try {
    // A run refused before any I/O leaves no empty output directory behind.
    const made = await makeDirectory(outDir).catch((error: Error) => {
      throw new LockError(`--out ${outDir}: ${error.message}`);
    });
    if (made) {
      releases.push(() => {
        for (let dir = outDir; dir.startsWith(made); dir = dirname(dir)) rmdirSync(dir);
      });
    }
    releases.push(
      await takeLock(
        join(outDir, ".layerbench.lock"),
        what,
        (holder) => `--out ${outDir} is in use by ${describe(holder)}: choose another --out`,
      ),
    );
    await fs.mkdir(machineStateDir(), { recursive: true });
    const devices = new Map<string, string>();
    for (const target of targets) {
      const device = target.cluster ? `ceph-${target.cluster}` : await deviceNumber(target.path);
      if (devices.has(device)) continue;
      devices.set(device, target.name);
      releases.push(
        await takeLock(
          join(machineStateDir(), `device-${device.replace(":", "-")}.lock`),
          what,
          (holder) =>
            `target "${target.name}" (${target.path}) is on ${target.cluster ? `Ceph cluster ${target.cluster}` : `device ${device}`}, which ${describe(holder)} is measuring: measurements never overlap, wait for it to finish`,
        ),
      );
    }
  } catch (error) {
    release();
    throw error;
  }
  const forget = onEmergencyExit("layerbench lock files", release);
  return {
    release: () => {
      release();
      forget();
    },
  };
}
