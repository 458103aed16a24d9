import { execFile } from "node:child_process";
import { constants, promises as fs, type Stats } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { UserError } from "../util/errors.js";
import { formatBytes } from "../util/size.js";

export class PreflightError extends UserError {}

const FIO_INSTALL_HINT =
  "install it with: sudo apt-get install fio (Debian/Ubuntu), sudo dnf install fio (Fedora), brew install fio (macOS)";

/** The installed fio's version string ("fio-3.33"), or a PreflightError saying how to install it. */
export async function fioVersion(fioCommand = "fio"): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)(fioCommand, ["--version"]);
    return stdout.trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new PreflightError(`fio is not installed (no "${fioCommand}" on PATH): ${FIO_INSTALL_HINT}`);
    }
    throw new PreflightError(`"${fioCommand} --version" failed: ${(error as Error).message}`);
  }
}

/** Checks that a target directory exists, takes a new file, and has room for the largest workload. */
export async function checkTargetDirectory(name: string, path: string, bytesNeeded: number): Promise<void> {
  let stats: Stats;
  try {
    stats = await fs.stat(path);
  } catch {
    throw new PreflightError(`target "${name}": directory ${path} does not exist`);
  }
  if (!stats.isDirectory()) throw new PreflightError(`target "${name}": ${path} is not a directory`);
  // access(W_OK) says yes to root on a read-only mount; creating a file is the real test.
  const probe = join(path, `.layerbench-probe-${process.pid}`);
  try {
    await fs.access(path, constants.W_OK);
    await fs.writeFile(probe, "");
  } catch (error) {
    throw new PreflightError(
      `target "${name}": ${path} is not writable (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  } finally {
    await fs.rm(probe, { force: true });
  }
  const { bavail, bsize } = await fs.statfs(path);
  const free = bavail * bsize;
  if (free < bytesNeeded) {
    throw new PreflightError(
      `target "${name}": ${path} has ${formatBytes(free)} free, the largest workload needs ${formatBytes(bytesNeeded)}: free some space or pass a smaller --size`,
    );
  }
}
