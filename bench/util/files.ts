import { promises as fs } from "node:fs";
import { dirname } from "node:path";
import { fsReason, UserError } from "./errors.js";

// Files a user names or gets: read and written with one error each, naming the file and why in plain words.

/** A text file's content; a failure reads "cannot read PATH: no such file or directory". */
export async function readTextFile(path: string): Promise<string> {
  try {
    return await fs.readFile(path, "utf8");
  } catch (error) {
    throw new UserError(`cannot read ${path}: ${fsReason(error)}`);
  }
}

/**
 * Writes a file through a temporary file and a rename: a reader never sees half a file, and a full disk leaves
 * the old file (or none), not a truncated one. A failure names the file and why, in words.
 */
export async function writeFileAtomic(path: string, content: string | Uint8Array): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    await fs.writeFile(temporary, content);
    await fs.rename(temporary, path);
  } catch (error) {
    await fs.rm(temporary, { force: true });
    throw new UserError(`cannot write ${path}: ${fsReason(error)}`);
  }
}

/**
 * Makes a directory and those missing above it, as `mkdir -p`; returns the first one it made, or undefined. Node's
 * own recursive mkdir retries for ever where a file system refuses a new directory under one that exists (/proc,
 * /sys answer ENOENT): here that is one error, naming the directory and why.
 */
export async function makeDirectory(path: string): Promise<string | undefined> {
  const missing: string[] = [];
  for (let dir = path; ; dir = dirname(dir)) {
    const exists = await fs.stat(dir).then(
      () => true,
      () => false,
    );
    if (exists || dir === dirname(dir)) break;
    missing.unshift(dir);
  }
  for (const dir of missing) {
    try {
      await fs.mkdir(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") continue;
      const reason =
        (error as NodeJS.ErrnoException).code === "ENOENT" ? "its file system makes no directories" : fsReason(error);
      throw new UserError(`cannot make ${dir}: ${reason}`);
    }
  }
  return missing[0];
}
