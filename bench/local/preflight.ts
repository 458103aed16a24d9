import { execFile } from "node:child_process";
import { constants, promises as fs, type Stats } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { TARGET_VARIABLE } from "../core/jobfile.js";
import { fsReason, UserError } from "../util/errors.js";
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

/** Room a target needs: the largest workload's files, plus a margin for the file system's own metadata. */
export interface SpaceNeeded {
  files: number;
  margin: number;
}

/** Checks that a target directory exists, takes a new file, and has room for the largest workload. */
export async function checkTargetDirectory(name: string, path: string, needed: SpaceNeeded): Promise<void> {
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
    throw new PreflightError(`target "${name}": ${path} is not writable: ${fsReason(error)}`);
  } finally {
    await fs.rm(probe, { force: true });
  }
  const { bavail, bsize } = await fs.statfs(path);
  const free = bavail * bsize;
  if (free < needed.files + needed.margin) {
    throw new PreflightError(
      `target "${name}": ${path} has ${formatBytes(free)} free, needs ${formatBytes(needed.files + needed.margin)} (the largest workload's files, ${formatBytes(needed.files)}, and ${formatBytes(needed.margin)} for the file system): free some space or pass a smaller --size`,
    );
  }
}

/**
 * Whether files in `dir` can be opened with O_DIRECT, asked of the kernel rather than assumed: tmpfs refused it
 * before Linux 6.6 and accepts it since. Why, in words, when refused; else undefined.
 */
export async function directIoRefusal(dir: string): Promise<string | undefined> {
  const probe = join(dir, `.layerbench-direct-${process.pid}`);
  try {
    const handle = await fs.open(probe, constants.O_CREAT | constants.O_WRONLY | constants.O_DIRECT);
    await handle.close();
    return undefined;
  } catch (error) {
    return fsReason(error);
  } finally {
    await fs.rm(probe, { force: true });
  }
}

export class OutputDirectoryError extends UserError {}

/**
 * The output directory can be made (no file in its way) and holds no results or report to overwrite; `reportFiles`
 * are the names a report writes.
 */
export async function checkOutputDirectory(outDir: string, reportFiles: string[]): Promise<void> {
  await checkOutputPath(outDir);
  const existing = await fs.readdir(outDir).catch((): string[] => []);
  const kept = ["results.json", ...reportFiles].filter((name) => existing.includes(name));
  if (kept.length > 0) {
    throw new OutputDirectoryError(
      `${outDir} already holds ${kept.join(", ")}: choose another --out, results and reports are never overwritten`,
    );
  }
}

/** No file stands where the output directory, or a directory above it, is to be. */
export async function checkOutputPath(outDir: string): Promise<void> {
  for (let dir = outDir; ; dir = dirname(dir)) {
    const stats = await fs.stat(dir).catch(() => undefined);
    if (stats?.isDirectory()) break;
    if (stats) {
      throw new OutputDirectoryError(
        dir === outDir
          ? `--out ${outDir} is a file, not a directory: give a directory for results.json and the report`
          : `--out ${outDir} cannot be made: ${dir} is a file, not a directory`,
      );
    }
    if (dir === dirname(dir)) break;
  }
}

/** Your job file, as fio will run it, read by fio itself (`--parse-only`) before any I/O. */
export async function checkJobFileParses(fioCommand: string, jobText: string, target: string): Promise<void> {
  const dir = await fs.mkdtemp(join(tmpdir(), "layerbench-job-"));
  try {
    const file = join(dir, "job.fio");
    await fs.writeFile(file, jobText);
    await promisify(execFile)(fioCommand, ["--parse-only", file], {
      env: { ...process.env, [TARGET_VARIABLE]: target },
    });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim().split("\n").slice(-4).join(" | ");
    throw new PreflightError(`fio does not accept your job file: ${stderr || (error as Error).message}`);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
