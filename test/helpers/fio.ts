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
