import { LOG_INTERVAL_MS, LOG_PREFIX, LOGS_VARIABLE } from "../core/series.js";
import { MARKER_SHELL } from "./markers.js";

// The per-second series in the scripts that run fio on a node, in a guest or in a pod: core/series.ts's sum of
// fio's logs in awk, sent back as one marker line after the run's JSON (remote/markers.ts). Numbers are printed
// whole ("%.0f"): awk's default format keeps 6 digits, and bandwidths in bytes have more.

/**
 * Per second: the jobs' IOPS and bandwidth (KiB/s in the logs) added, their completion latency averaged, and a mixed
 * workload's IOPS of each direction (field 3: 0 read, 1 write). The seconds are core/series.ts's: up to the last
 * any job's IOPS log has, less that one when not every job that logged at all has it.
 */
const SERIES_AWK = [
  "FNR == 1 { if (kind == 1) ends(); kind = FILENAME ~ /_iops\\./ ? 1 : (FILENAME ~ /_bw\\./ ? 2 : (FILENAME ~ /_clat\\./ ? 3 : 0)); last = -1 }",
  "function ends() { if (last >= 0) { files++; lasts[files] = last; if (last > maxl) maxl = last } }",
  `kind > 0 && NF >= 2 { s = int(($1 + 0) / ${LOG_INTERVAL_MS} + 0.5) - 1; if (s < 0) s = 0; v = $2 + 0; d = $3 + 0`,
  "  if (kind == 1) { io[s] += v; if (s > last) last = s; if (d == 0) { rd[s] += v; reads = 1 } else if (d == 1) { wr[s] += v; writes = 1 } }",
  "  else if (kind == 2) bw[s] += v * 1024",
  "  else { lat[s] += v; count[s]++ } }",
  "BEGIN { maxl = -1 }",
  "END {",
  "  if (kind == 1) ends()",
  "  n = maxl + 1",
  "  for (f = 1; f <= files; f++) if (lasts[f] < maxl) { n = maxl; break }",
  '  a = ""; b = ""; c = ""; r = ""; w = ""',
  '  for (i = 0; i < n; i++) { sep = i ? "," : ""; a = a sep sprintf("%.0f", io[i]); b = b sep sprintf("%.0f", bw[i]); c = c sep sprintf("%.0f", count[i] ? lat[i] / count[i] : 0); r = r sep sprintf("%.0f", rd[i]); w = w sep sprintf("%.0f", wr[i]) }',
  `  if (n > 0 && reads && writes) print ${LOG_INTERVAL_MS / 1000}, a, b, c, r, w`,
  `  else if (n > 0) print ${LOG_INTERVAL_MS / 1000}, a, b, c`,
  "}",
].join("\n");

/** Before the loop: the log directory the job file names, inside the script's work directory. */
export const SERIES_SETUP = [
  `${LOGS_VARIABLE}="$work/logs"`,
  `export ${LOGS_VARIABLE}`,
  `mkdir -p "$${LOGS_VARIABLE}"`,
];

/** Before each attempt: no file of the run before. */
export const SERIES_CLEAR = [`    rm -f "$${LOGS_VARIABLE}"/*`];

/** After a run that worked: its series as a marker line, when fio logged any second. */
export const SERIES_SEND = [
  `      series=$(awk '${SERIES_AWK}' "$${LOGS_VARIABLE}"/${LOG_PREFIX}_*.log 2>/dev/null)`,
  `      [ -n "$series" ] && ${MARKER_SHELL.series}`,
];
