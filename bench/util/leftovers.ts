import { randomBytes } from "node:crypto";
import { promises as fs, mkdirSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";

// What a run makes that must not outlive it (scratch directories, guest images, RBD images) is written down here
// while it exists. A run killed outright (kill -9, a crash, power) cannot remove it; the next run finds the record
// of a process that is gone and removes what it names, or names it when it cannot.

/** Where layerbench keeps this machine's state between runs: device locks and records of what runs made. */
export function machineStateDir(): string {
  return process.env.LAYERBENCH_LOCK_DIR ?? join(tmpdir(), "layerbench-locks");
}

const leftoversDir = () => join(machineStateDir(), "leftovers");

/** Something a run made: a path (a scratch directory) or an RBD image, with how to reach its cluster. */
export type Leftover =
  | { kind: "path"; path: string }
  | { kind: "rbd"; pool: string; image: string; id?: string; conf?: string };

interface LeftoverRecord {
  pid: number;
  host: string;
  leftover: Leftover;
}

export const describeLeftover = (leftover: Leftover) =>
  leftover.kind === "path" ? leftover.path : `RBD image ${leftover.pool}/${leftover.image}`;

/** Writes down what this run has made; the returned function crosses it out, once the run has removed it. */
export function recordLeftover(leftover: Leftover): () => void {
  mkdirSync(leftoversDir(), { recursive: true });
  const file = join(leftoversDir(), `${process.pid}-${randomBytes(6).toString("hex")}.json`);
  const record: LeftoverRecord = { pid: process.pid, host: hostname(), leftover };
  writeFileSync(file, JSON.stringify(record));
  return () => rmSync(file, { force: true });
}

/** Whether a process of this host lives (EPERM: it does, as another user's). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes what runs that are gone left, with `remove` for what is not a path (an RBD image: the caller has the
 * Ceph CLI); a record whose removal fails stays, to be named again. Returns what was removed and what stays.
 */
export async function sweepLeftovers(
  remove: (leftover: Leftover) => Promise<void>,
): Promise<{ removed: string[]; left: Array<{ what: string; why: string }> }> {
  const names = await fs.readdir(leftoversDir()).catch(() => [] as string[]);
  const removed: string[] = [];
  const left: Array<{ what: string; why: string }> = [];
  for (const name of names) {
    const file = join(leftoversDir(), name);
    let record: LeftoverRecord;
    try {
      record = JSON.parse(await fs.readFile(file, "utf8")) as LeftoverRecord;
    } catch {
      continue;
    }
    if (record.host !== hostname() || processAlive(record.pid)) continue;
    const what = describeLeftover(record.leftover);
    try {
      if (record.leftover.kind === "path") await fs.rm(record.leftover.path, { recursive: true, force: true });
      else await remove(record.leftover);
      unlinkSync(file);
      removed.push(what);
    } catch (error) {
      left.push({ what, why: (error as Error).message });
    }
  }
  return { removed, left };
}
