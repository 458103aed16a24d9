import { promises as fs } from "node:fs";
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
