import { type Series, SeriesSchema } from "../core/series.js";

// The protocol between the fio script (wherever it runs: a node, a guest, a pod) and whoever reads its output:
// fio's JSON between marker lines on stdout, a failure as one marker line, and a progress line on stderr
// before each workload. The script writes these lines; every reader parses them with the functions here.

const MARKER = "@@layerbench";

/** The shell that prints each line, for the script; `$section`, `$attempt`, `$started` are the script's variables. */
export const MARKER_SHELL = {
  begin: `echo "${MARKER} begin $section $attempt $started"`,
  end: `echo "${MARKER} end"`,
  failed: (reason: string) => `echo "${MARKER} failed $section $attempt $started ${reason}"`,
  running: `echo "layerbench: running $section #$attempt" >&2`,
  /** After the fill of a device target; `$seconds` is the script's variable, `reason` a failure's. */
  precondition: (outcome: "ok" | "failed", reason = "") =>
    `echo "${MARKER} precondition $seconds ${outcome}${reason ? ` ${reason}` : ""}"`,
  /** A run's per-second series (remote/series-script.ts): `$series` is "INTERVAL IOPS,... BYTES,... NS,...", and
   * " READS,... WRITES,..." after them for a mixed workload. */
  series: `echo "${MARKER} series $section $attempt $series"`,
  /** What ran the measurement: one KEY VALUE line, printed only when the value is not empty. */
  environment: (key: string, valueShell: string) =>
    `value=${valueShell}; [ -n "$value" ] && echo "${MARKER} environment ${key} $value"`,
} as const;

export const END_LINE = `${MARKER} end`;

export type MarkerLine =
  | { kind: "begin"; workload: string; attempt: number; startedAt: string }
  | { kind: "end" }
  | { kind: "failed"; workload: string; attempt: number; startedAt: string; message: string }
  | { kind: "precondition"; seconds: number; ok: boolean; message: string }
  | { kind: "environment"; key: string; value: string }
  | { kind: "series"; workload: string; attempt: number; series: Series };

/** A marker line of stdout, or undefined for any other line. */
export function parseMarkerLine(line: string): MarkerLine | undefined {
  const [marker, kind, workload, attempt, startedAt, ...rest] = line.split(" ");
  if (marker !== MARKER) return undefined;
  if (kind === "end") return { kind: "end" };
  if (kind === "begin") return { kind, workload, attempt: Number(attempt), startedAt };
  if (kind === "failed")
    return { kind, workload, attempt: Number(attempt), startedAt, message: rest.join(" ").trim() || "fio failed" };
  // "series WORKLOAD ATTEMPT INTERVAL IOPS,... BYTES,... NS,...[ READS,... WRITES,...]": after the run's end marker.
  if (kind === "series") {
    const [interval, iops, bw, clat, reads, writes] = [startedAt, ...rest];
    const numbers = (text: string | undefined) => (text ? text.split(",").map(Number) : []);
    const series = {
      intervalSec: Number(interval),
      iops: numbers(iops),
      bwBytes: numbers(bw),
      ...(clat && numbers(clat).some((value) => value > 0) && { clatNs: numbers(clat) }),
      ...(reads && writes && { readIops: numbers(reads), writeIops: numbers(writes) }),
    };
    const parsed = SeriesSchema.safeParse(series);
    return parsed.success ? { kind, workload, attempt: Number(attempt), series: parsed.data } : undefined;
  }
  // "environment KEY VALUE...": the fields after the kind are not a workload's either.
  if (kind === "environment") return { kind, key: workload, value: [attempt, startedAt, ...rest].join(" ").trim() };
  // "precondition SECONDS ok|failed [REASON...]": the fields after the kind are not a workload's.
  if (kind === "precondition")
    return {
      kind,
      seconds: Number(workload),
      ok: attempt === "ok",
      message: [startedAt, ...rest].filter(Boolean).join(" ").trim(),
    };
  return undefined;
}

const RUNNING = /layerbench: running (\S+) #(\d+)/g;

/** Every "running WORKLOAD #N" progress line in a text (stderr, or an engine log line carrying it). */
export function runningWorkloads(text: string): Array<{ workload: string; attempt: number }> {
  return [...text.matchAll(RUNNING)].map((match) => ({ workload: match[1], attempt: Number(match[2]) }));
}

/** The environment markers of a script's stdout: what ran it, or what its target is. */
export function environmentMarkers(stdout: string): Record<string, string> {
  return Object.fromEntries(
    stdout.split("\n").flatMap((line) => {
      const marker = parseMarkerLine(line);
      return marker?.kind === "environment" ? [[marker.key, marker.value]] : [];
    }),
  );
}
