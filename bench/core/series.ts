import { z } from "zod";

// What happened during a run, second by second: fio's own logs (write_iops_log, write_bw_log, write_lat_log with
// log_avg_msec=1000), one file per job, summed over the jobs and directions of each second. The same sum runs in
// awk in the remote script (remote/series-script.ts); steady state is judged on it (steady-state.ts).

/** One value per second from the run's start, in fio's order of seconds. */
export const SeriesSchema = z.object({
  /** Seconds per value. */
  intervalSec: z.number().positive(),
  /** IOPS of all jobs and directions. */
  iops: z.array(z.number().nonnegative()),
  /** Bytes per second of all jobs and directions. */
  bwBytes: z.array(z.number().nonnegative()),
  /** Mean completion latency over the jobs, in ns; absent when fio logged none. */
  clatNs: z.array(z.number().nonnegative()).optional(),
});
export type Series = z.infer<typeof SeriesSchema>;

/** The milliseconds fio averages a log line over: one value per second. */
export const LOG_INTERVAL_MS = 1000;

/** The log files' prefix under the directory LOGS_VARIABLE names: fio writes PREFIX_iops.N.log per job N. */
export const LOG_PREFIX = "run";
/** The environment variable job files take their log directory from, as they take their target. */
export const LOGS_VARIABLE = "LAYERBENCH_LOGS";

/** The job file's lines that have fio log a run second by second. */
export const LOG_OPTIONS = [
  `write_iops_log=\${${LOGS_VARIABLE}}/${LOG_PREFIX}`,
  `write_bw_log=\${${LOGS_VARIABLE}}/${LOG_PREFIX}`,
  `write_lat_log=\${${LOGS_VARIABLE}}/${LOG_PREFIX}`,
  `log_avg_msec=${LOG_INTERVAL_MS}`,
];

/** A log file's lines ("msec, value, direction, block size, offset[, priority]"): per second, the values added. */
function perSecond(text: string): Map<number, { sum: number; count: number }> {
  const seconds = new Map<number, { sum: number; count: number }>();
  for (const line of text.split("\n")) {
    const [time, value] = line.split(",").map((field) => Number(field.trim()));
    if (!Number.isFinite(time) || !Number.isFinite(value) || line.trim() === "") continue;
    // A line at 1000 ms holds the first second's average.
    const second = Math.max(0, Math.round(time / LOG_INTERVAL_MS) - 1);
    const entry = seconds.get(second) ?? { sum: 0, count: 0 };
    entry.sum += value;
    entry.count += 1;
    seconds.set(second, entry);
  }
  return seconds;
}

/**
 * Files' per-second values, added over the files (jobs): IOPS and bandwidth. The seconds end where the first job's
 * log ends: the jobs stop a few milliseconds apart, and a second after one of them stopped is not the sum of all.
 * Before that, a second a job did not log is a second it completed nothing in (fio writes an averaged line only
 * when I/O completes: 16 jobs writing back through the page cache stall for whole seconds), so it adds 0.
 */
function added(files: string[]): number[] {
  const total = new Map<number, number>();
  let end = Number.POSITIVE_INFINITY;
  for (const file of files) {
    const seconds = perSecond(file);
    // An empty log (a job that completed nothing) does not end the seconds; the script's awk never sees its lines.
    if (seconds.size === 0) continue;
    end = Math.min(end, Math.max(...seconds.keys()) + 1);
    for (const [second, { sum }] of seconds) total.set(second, (total.get(second) ?? 0) + sum);
  }
  if (!Number.isFinite(end)) return [];
  return Array.from({ length: end }, (_, second) => total.get(second) ?? 0);
}

/** Files' per-second values, averaged over the jobs and directions that logged that second: latency. */
function averaged(files: string[]): number[] {
  const total = new Map<number, { sum: number; count: number }>();
  for (const file of files) {
    for (const [second, entry] of perSecond(file)) {
      const known = total.get(second) ?? { sum: 0, count: 0 };
      total.set(second, { sum: known.sum + entry.sum, count: known.count + entry.count });
    }
  }
  const last = Math.max(-1, ...total.keys());
  return Array.from({ length: last + 1 }, (_, second) => {
    const entry = total.get(second);
    return entry ? entry.sum / entry.count : 0;
  });
}

/** The run's series from the text of its log files; undefined when fio logged no second. */
export function seriesFromLogs(logs: { iops: string[]; bw: string[]; clat: string[] }): Series | undefined {
  const iops = added(logs.iops);
  if (iops.length === 0) return undefined;
  // fio's bandwidth logs are in KiB/s.
  const bwBytes = added(logs.bw).map((value) => value * 1024);
  const clatNs = averaged(logs.clat);
  const length = iops.length;
  const padded = (values: number[]) => Array.from({ length }, (_, second) => values[second] ?? 0);
  return {
    intervalSec: LOG_INTERVAL_MS / 1000,
    iops: padded(iops),
    bwBytes: padded(bwBytes),
    ...(clatNs.length > 0 && { clatNs: padded(clatNs) }),
  };
}

/** Which of a directory's files are a run's logs, by kind ("run_clat.2.log" is job 2's completion latency). */
export function logKind(name: string, prefix = LOG_PREFIX): "iops" | "bw" | "clat" | undefined {
  if (!name.startsWith(`${prefix}_`)) return undefined;
  const match = /^_(iops|bw|clat)\.\d+\.log$/.exec(name.slice(prefix.length));
  return match ? (match[1] as "iops" | "bw" | "clat") : undefined;
}
