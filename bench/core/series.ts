import { z } from "zod";

// What happened during a run, second by second: fio's own logs (write_iops_log, write_bw_log, write_lat_log with
// log_avg_msec=1000), one file per job, summed over the jobs and directions of each second (and over each direction
// of a mixed workload). The same sum runs in awk in the remote script (remote/series-script.ts); steady state is
// judged on it (steady-state.ts).

/** A value each second, each a number of at least 0. */
const isPerSecond = (value: unknown): value is number[] =>
  Array.isArray(value) && value.every((entry) => typeof entry === "number" && Number.isFinite(entry) && entry >= 0);
// Checked as one array, not number by number: z.array(z.number()) took half the time of reading a big matrix's
// results (10,000 runs of 60 s, five series each).
const perSecond = z.custom<number[]>(isPerSecond, { message: "expected an array of numbers of at least 0" });

/** One value per second from the run's start, in fio's order of seconds. */
export const SeriesSchema = z.object({
  /** Seconds per value. */
  intervalSec: z.number().positive(),
  /** IOPS of all jobs and directions. */
  iops: perSecond,
  /** Bytes per second of all jobs and directions. */
  bwBytes: perSecond,
  /** Mean completion latency over the jobs, in ns; absent when fio logged none. */
  clatNs: perSecond.optional(),
  /** A mixed workload's IOPS of each direction, of all jobs; absent when the jobs logged one direction. */
  readIops: perSecond.optional(),
  writeIops: perSecond.optional(),
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

/** fio's direction field in a log line: 0 read, 1 write, 2 trim. */
const DIRECTION_FIELD = { read: 0, write: 1 } as const;

/** One line of a log: the second it averages, its value, its direction. */
interface LogLine {
  second: number;
  value: number;
  direction: number;
}

/** A log file's lines ("msec, value, direction, block size, offset[, priority]"), read once. */
function logLines(text: string): LogLine[] {
  return text.split("\n").flatMap((line) => {
    const [time, value, direction] = line.split(",").map((field) => Number(field.trim()));
    if (!Number.isFinite(time) || !Number.isFinite(value) || line.trim() === "") return [];
    // A line at 1000 ms holds the first second's average.
    return [{ second: Math.max(0, Math.round(time / LOG_INTERVAL_MS) - 1), value, direction }];
  });
}

/**
 * The run's seconds, from its jobs' IOPS logs: up to the last second any job logged, less that last second when
 * not every job that logged at all logged it. fio writes a job's last line only when its last window is (nearly)
 * whole, and jobs end milliseconds apart: of 16 jobs of a 6-s run here, 7 logged the sixth second, so a sum over
 * all of them for it would count half. A job that logged nothing for seconds before the end completed nothing in
 * them (16 jobs writing back through the page cache stall for whole seconds): those seconds stay, adding 0 for it.
 */
function secondsOfRun(files: LogLine[][]): number {
  const lasts = files
    // An empty log (a job that completed nothing) ends nothing; the script's awk never sees its lines either.
    .filter((lines) => lines.length > 0)
    .map((lines) => Math.max(...lines.map((line) => line.second)));
  if (lasts.length === 0) return 0;
  const last = Math.max(...lasts);
  return lasts.every((value) => value === last) ? last + 1 : last;
}

/** Files' per-second values of the run's `length` seconds, added over the files (jobs): IOPS and bandwidth. */
function added(files: LogLine[][], length: number, direction?: number): number[] {
  const total = new Array<number>(length).fill(0);
  for (const lines of files)
    for (const line of lines)
      if (line.second < length && (direction === undefined || line.direction === direction))
        total[line.second] += line.value;
  return total;
}

/** Files' per-second values, averaged over the jobs and directions that logged that second: latency. */
function averaged(files: LogLine[][], length: number): number[] {
  const sums = new Array<number>(length).fill(0);
  const counts = new Array<number>(length).fill(0);
  for (const lines of files)
    for (const line of lines)
      if (line.second < length) {
        sums[line.second] += line.value;
        counts[line.second] += 1;
      }
  return sums.map((sum, second) => (counts[second] > 0 ? sum / counts[second] : 0));
}

/** Whether the jobs logged reads and writes both: a mixed workload, whose panels each show their own direction. */
function mixed(files: LogLine[][]): boolean {
  const logged = (direction: number) => files.some((lines) => lines.some((line) => line.direction === direction));
  return logged(DIRECTION_FIELD.read) && logged(DIRECTION_FIELD.write);
}

/** The run's series from the text of its log files; undefined when fio logged no second. */
export function seriesFromLogs(logs: { iops: string[]; bw: string[]; clat: string[] }): Series | undefined {
  const [iops, bw, clat] = [logs.iops, logs.bw, logs.clat].map((files) => files.map(logLines));
  const length = secondsOfRun(iops);
  if (length === 0) return undefined;
  return {
    intervalSec: LOG_INTERVAL_MS / 1000,
    iops: added(iops, length),
    // fio's bandwidth logs are in KiB/s.
    bwBytes: added(bw, length).map((value) => value * 1024),
    ...(clat.some((lines) => lines.length > 0) && { clatNs: averaged(clat, length) }),
    ...(mixed(iops) && {
      readIops: added(iops, length, DIRECTION_FIELD.read),
      writeIops: added(iops, length, DIRECTION_FIELD.write),
    }),
  };
}

/** Which of a directory's files are a run's logs, by kind ("run_clat.2.log" is job 2's completion latency). */
export function logKind(name: string, prefix = LOG_PREFIX): "iops" | "bw" | "clat" | undefined {
  if (!name.startsWith(`${prefix}_`)) return undefined;
  const match = /^_(iops|bw|clat)\.\d+\.log$/.exec(name.slice(prefix.length));
  return match ? (match[1] as "iops" | "bw" | "clat") : undefined;
}
