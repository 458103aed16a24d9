import { promises as fs } from "node:fs";
import { join } from "node:path";
import { logKind, type Series, seriesFromLogs } from "../core/series.js";

// A local run's fio logs (core/series.ts) read back from the directory fio wrote them to.

/** The run's series from the log files in `dir`; undefined when fio wrote none there. */
export async function readSeries(dir: string): Promise<Series | undefined> {
  const logs: Record<"iops" | "bw" | "clat", string[]> = { iops: [], bw: [], clat: [] };
  for (const name of await fs.readdir(dir)) {
    const kind = logKind(name);
    if (kind) logs[kind].push(await fs.readFile(join(dir, name), "utf8"));
  }
  return seriesFromLogs(logs);
}

/** Empties the log directory before a run: fio's files of the run before must not add to this one. */
export async function clearLogs(dir: string): Promise<void> {
  for (const name of await fs.readdir(dir)) await fs.rm(join(dir, name), { force: true });
}
