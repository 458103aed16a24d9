import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

export const execFileAsync = promisify(execFile);

/** A fresh directory for one test, removed by the returned cleanup. */
export async function scratchDir(prefix = "layerbench-test-"): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await fs.mkdtemp(join(tmpdir(), prefix));
  return { path, cleanup: () => fs.rm(path, { recursive: true, force: true }) };
}

/**
 * Three size-bound writes of 1 to 4 MiB, as a job file: for the tests of what surrounds fio (the CLI, the guest,
 * the matrix), where a timed run would spend its runtime measuring nothing under test. fio's start is most of
 * their cost: a few ms each on a disk, about a second under TCG.
 */
export const QUICK_WRITES = [
  "[global]",
  "ioengine=psync",
  "[randwrite-4k]",
  "rw=randwrite",
  "bs=4k",
  "size=1m",
  "[randwrite-64k]",
  "rw=randwrite",
  "bs=64k",
  "size=2m",
  "[write-1m]",
  "rw=write",
  "bs=1m",
  "size=4m",
  "",
].join("\n");

/** QUICK_WRITES as a job file in `dir`, for `--profile`; its profile is named "quick-writes". */
export async function quickJobFile(dir: string): Promise<string> {
  const path = join(dir, "quick-writes.fio");
  await fs.writeFile(path, QUICK_WRITES);
  return path;
}

/** Runs fio for real on a job file text and returns its stdout. */
export async function runFio(jobText: string, outputFormat: "json" | "json+" = "json"): Promise<string> {
  const dir = await scratchDir("layerbench-fio-");
  try {
    const jobFile = join(dir.path, "job.fio");
    await fs.writeFile(jobFile, jobText.replaceAll("@DIR@", dir.path));
    const { stdout } = await execFileAsync("fio", [`--output-format=${outputFormat}`, jobFile], {
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  } finally {
    await dir.cleanup();
  }
}

/** A directory this process cannot create files in, even as root. */
export async function unwritableDir(): Promise<string> {
  if (process.getuid?.() === 0) return "/sys";
  const dir = await scratchDir("layerbench-readonly-");
  await fs.chmod(dir.path, 0o555);
  return dir.path;
}

// fio's raw JSON, read independently of the parser under test, to compare against.
export interface RawDirection {
  iops: number;
  bw_bytes: number;
  io_bytes: number;
  runtime: number;
  clat_ns: { mean: number; N: number; percentile?: Record<string, number>; bins?: Record<string, number> };
}
export interface RawJob {
  jobname: string;
  read: RawDirection;
  write: RawDirection;
}
export function rawJobs(stdout: string): RawJob[] {
  return (JSON.parse(stdout.slice(stdout.indexOf("{"))) as { jobs: RawJob[] }).jobs;
}
