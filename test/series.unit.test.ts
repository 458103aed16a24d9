import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import test, { type ExecutionContext } from "ava";
import { workloadRun } from "../bench/core/fio-parser.js";
import { renderJobFile } from "../bench/core/jobfile.js";
import { resolveProfile } from "../bench/core/profiles.js";
import { seriesFromLogs } from "../bench/core/series.js";
import { fioSteadyOptions, steadyState } from "../bench/core/steady-state.js";
import { readSeries } from "../bench/local/series-logs.js";
import { parseMarkerLine } from "../bench/remote/markers.js";
import { SERIES_SEND } from "../bench/remote/series-script.js";
import { seededUniforms } from "../bench/util/random.js";
import { normalsFrom } from "./helpers/normals.js";

// A run second by second: fio 3.33's own logs of four jobs (write_iops_log, write_bw_log, write_lat_log with
// log_avg_msec=1000, recorded on this machine: test/fixtures/fio-3.33-logs-4jobs/job.fio), summed the same way by
// the local runner (TypeScript) and the remote script (awk, busybox's too); and SNIA's steady-state rule on them.

const FIXTURE = fileURLToPath(new URL("fixtures/fio-3.33-logs-4jobs", import.meta.url));

/** The fixture's log lines of one kind, per job file. */
async function logs(kind: "iops" | "bw" | "clat"): Promise<string[]> {
  const names = (await fs.readdir(FIXTURE)).filter((name) => name.startsWith(`run_${kind}.`)).sort();
  return Promise.all(names.map((name) => fs.readFile(join(FIXTURE, name), "utf8")));
}

/** The fixture's value of each job file in one second, by reading its lines. */
const valueAt = (text: string, second: number) => Number(text.split("\n")[second].split(",")[1]);

test("fio's logs of four jobs: each second the jobs' IOPS and bandwidth added, their latency averaged", async (t) => {
  const [iops, bw, clat] = await Promise.all([logs("iops"), logs("bw"), logs("clat")]);
  const series = seriesFromLogs({ iops, bw, clat });
  if (!series) throw new Error("no series");
  t.is(series.intervalSec, 1);
  t.is(series.iops.length, 4, "four seconds logged by every job");
  for (let second = 0; second < 4; second += 1) {
    t.is(
      series.iops[second],
      iops.reduce((sum, file) => sum + valueAt(file, second), 0),
    );
    t.is(series.bwBytes[second], bw.reduce((sum, file) => sum + valueAt(file, second), 0) * 1024, "KiB/s in the log");
    t.is(series.clatNs?.[second], clat.reduce((sum, file) => sum + valueAt(file, second), 0) / clat.length);
  }
  // The jobs' mean IOPS over the run is about fio's own figure for it.
  const output = JSON.parse(await fs.readFile(join(FIXTURE, "output.json"), "utf8")) as {
    jobs: Array<{ write: { iops: number } }>;
  };
  const mean = series.iops.reduce((sum, value) => sum + value, 0) / series.iops.length;
  t.true(Math.abs(mean / output.jobs[0].write.iops - 1) < 0.25, `${mean} against fio's ${output.jobs[0].write.iops}`);
  t.deepEqual(await readSeries(FIXTURE), series, "the local runner reads the same from the directory");
});

test("a second only some jobs logged (they stop milliseconds apart) is left out", (t) => {
  const full = "1000, 100, 1, 0, 0\n2000, 100, 1, 0, 0\n3000, 40, 1, 0, 0\n";
  const short = "1001, 100, 1, 0, 0\n2001, 100, 1, 0, 0\n";
  t.deepEqual(seriesFromLogs({ iops: [full, short], bw: [], clat: [] })?.iops, [200, 200]);
  t.is(seriesFromLogs({ iops: [], bw: [], clat: [] }), undefined);
});

test("the remote script's awk sums the same series, with the system's awk and busybox's", async (t) => {
  const [iops, bw, clat] = await Promise.all([logs("iops"), logs("bw"), logs("clat")]);
  const expected = seriesFromLogs({ iops, bw, clat });
  const dir = await fs.mkdtemp(join(FIXTURE, "..", "..", ".series-"));
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  await fs.writeFile(join(dir, "awk"), '#!/bin/sh\nexec busybox awk "$@"\n', { mode: 0o755 });
  const script = ["section=w", "attempt=1", `LAYERBENCH_LOGS='${FIXTURE}'`, ...SERIES_SEND].join("\n");
  for (const path of [process.env.PATH, `${dir}:${process.env.PATH}`]) {
    const { stdout } = await promisify(execFile)("sh", ["-c", script], { env: { ...process.env, PATH: path } });
    const marker = parseMarkerLine(stdout.trim());
    if (marker?.kind !== "series") throw new Error(`no series marker: ${stdout}`);
    t.deepEqual(marker.series.iops, expected?.iops.map(Math.round));
    t.deepEqual(marker.series.bwBytes, expected?.bwBytes.map(Math.round));
    // Printed whole: printf's "%.0f" rounds a half to even, Math.round up.
    t.true(
      (marker.series.clatNs ?? []).every((value, second) => Math.abs(value - (expected?.clatNs?.[second] ?? 0)) <= 0.5),
      JSON.stringify(marker.series.clatNs),
    );
  }
});

test("steady state by SNIA PTS 2.0.2: five rounds within 20 % of their average, the fitted slope within 10 %", (t) => {
  const flat = Array.from({ length: 60 }, (_, second) => 1000 + (second % 3) * 10);
  t.like(steadyState(flat), { steady: true, steadyFrom: 0 });
  // A thin volume filling: IOPS climb 40 % over the run, never settling.
  const climbing = Array.from({ length: 60 }, (_, second) => 1000 + (400 * second) / 59);
  const climb = steadyState(climbing);
  t.false(climb?.steady);
  t.true((climb?.slopeExcursion ?? 0) > 0.1);
  // A writeback cache that fills halfway: steady once it has, its steady part's mean well below the whole run's.
  const cliff = steadyState(Array.from({ length: 60 }, (_, second) => (second < 30 ? 1500 : 1000)));
  t.true(cliff?.steady);
  t.true((cliff?.steadyFrom ?? 0) >= 20 && (cliff?.steadyFrom ?? 0) <= 30, String(cliff?.steadyFrom));
  t.true((cliff?.steadyMean ?? 0) < 1100 && cliff?.wholeMean === 1250);
  // ZFS's transaction groups: a dip every 5 seconds, in every round alike: steady.
  const txg = Array.from({ length: 60 }, (_, second) => (second % 5 === 4 ? 600 : 1000));
  t.true(steadyState(txg)?.steady);
  t.is(steadyState([1, 2, 3, 4]), undefined, "fewer seconds than rounds");
});

/** 400 seeded runs of `seconds` at 1000 IOPS with `noise` a second, the first `transient` seconds at 1500. */
function simulatedRuns(seed: number, seconds: number, noise: number, transient: number) {
  const draw = seededUniforms(seed);
  const normal = normalsFrom(draw);
  return Array.from({ length: 400 }, () =>
    steadyState(
      Array.from({ length: seconds }, (_, second) => 1000 * (second < transient ? 1.5 : 1) * (1 + noise * normal())),
    ),
  );
}

test("steady state by simulation: noise alone rarely flags a run; a start transient is where the run became steady", (t) => {
  // 10-s runs at 20 % per-second noise were flagged 92 % of the time: rounds that short cannot tell; not judged.
  const short = simulatedRuns(1, 10, 0.2, 0);
  t.true(short.filter((judged) => judged?.steady === false).length <= 20, "at most 5 % flagged");
  for (const [seed, seconds, noise] of [
    [2, 60, 0.05],
    [3, 300, 0.1],
  ] as const) {
    const runs = simulatedRuns(seed, seconds, noise, 0);
    const flagged = runs.filter((judged) => judged?.steady === false).length;
    t.true(flagged <= 20, `${seconds}-s runs at ${noise * 100} %: ${flagged} of 400 flagged`);
  }
  // A 20-s start at +50 % (a cache filling) on 60-s runs: flagged 100 % before; now steady after it, the steady
  // part's mean near the truth where the whole run's is 17 % high.
  const transient = simulatedRuns(4, 60, 0.05, 20);
  t.true(transient.every((judged) => judged?.steady));
  const after = transient.map((judged) => judged?.steadyFrom ?? 0).sort((a, b) => a - b);
  t.true(after[200] >= 10 && after[200] <= 20, `steady after ${after[200]} s, the median`);
  const bias = transient.reduce((sum, judged) => sum + (judged?.steadyMean ?? 0) / 1000 - 1, 0) / transient.length;
  t.true(bias < 0.07, `the steady means ${(bias * 100).toFixed(1)} % high, the whole runs' 16.7 %`);
});

test("--steady: fio's steadystate lines in the job file, and whether it held, read from fio's output", async (t) => {
  const profile = resolveProfile("ars", { runtimeSec: 60, steady: true });
  const jobFile = renderJobFile(profile, { kind: "directory", path: "/t" });
  t.regex(jobFile, /^steadystate=iops_slope:0\.67%$/m, "10 % across a 15-s window");
  t.regex(jobFile, /^steadystate_duration=15s$/m, "a quarter of the runtime");
  t.notRegex(
    renderJobFile(resolveProfile("ars", { runtimeSec: 60 }), { kind: "directory", path: "/t" }),
    /steadystate/,
  );
  t.deepEqual(
    fioSteadyOptions(8),
    ["steadystate=iops_slope:2.00%", "steadystate_duration=5s", "steadystate_ramp_time=5s"],
    "at least 5 seconds, checked after a first window",
  );
  // fio 3.33 on this machine: a rate-limited job of runtime=30 with steadystate=iops:10% over 5 s ended after 4.9 s.
  const text = await fs.readFile(fileURLToPath(new URL("fixtures/fio-3.33-steadystate.json", import.meta.url)), "utf8");
  const run = workloadRun(text, "w", new Date(0).toISOString(), "fixture");
  t.true(run.steadyAttained);
  t.true((run.write?.runtimeMs ?? 0) < 6000);
});

test("a second a job did not log before its end is a second it completed nothing in: it adds 0", async (t) => {
  // 16 jobs writing back through the page cache stall for whole seconds; fio then writes no line for them.
  const stalled = "1000, 100, 1, 0, 0\n3000, 100, 1, 0, 0\n4000, 100, 1, 0, 0\n";
  const busy = "1000, 50, 1, 0, 0\n2000, 50, 1, 0, 0\n3000, 50, 1, 0, 0\n4000, 50, 1, 0, 0\n5000, 50, 1, 0, 0\n";
  t.deepEqual(seriesFromLogs({ iops: [stalled, busy], bw: [], clat: [] })?.iops, [150, 50, 150, 150]);
  // The script's awk agrees.
  const dir = await fs.mkdtemp(join(FIXTURE, "..", "..", ".series-"));
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  await fs.writeFile(join(dir, "run_iops.1.log"), stalled);
  await fs.writeFile(join(dir, "run_iops.2.log"), busy);
  await fs.writeFile(join(dir, "run_bw.1.log"), stalled);
  const script = ["section=w", "attempt=1", `LAYERBENCH_LOGS='${dir}'`, ...SERIES_SEND].join("\n");
  const { stdout } = await promisify(execFile)("sh", ["-c", script]);
  const marker = parseMarkerLine(stdout.trim());
  t.deepEqual(marker?.kind === "series" ? marker.series.iops : undefined, [150, 50, 150, 150]);
});

/** The series the remote script's awk sends for the log files in `files` (name to text). */
async function awkSeries(t: ExecutionContext, files: Record<string, string>) {
  const dir = await fs.mkdtemp(join(FIXTURE, "..", "..", ".series-"));
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) await fs.writeFile(join(dir, name), text);
  const script = ["section=w", "attempt=1", `LAYERBENCH_LOGS='${dir}'`, ...SERIES_SEND].join("\n");
  const { stdout } = await promisify(execFile)("sh", ["-c", script]);
  const marker = parseMarkerLine(stdout.trim());
  return marker?.kind === "series" ? marker.series : undefined;
}

test("the seconds run to the longest job's log: a job that stopped logging early stalled, it does not end the run", async (t) => {
  // The 10-s run of 16 jobs through the page cache had 6 points: a job that logged its last line at 3 s ended
  // the series. Job C's tenth line is missing as fio leaves out a last window a few milliseconds short.
  const lines = (seconds: number, value: number) =>
    Array.from({ length: seconds }, (_, second) => `${(second + 1) * 1000 + 2}, ${value}, 1, 0, 0\n`).join("");
  const logs = { "run_iops.1.log": lines(3, 10), "run_iops.2.log": lines(10, 100), "run_iops.3.log": lines(9, 1000) };
  const expected = [1110, 1110, 1110, 1100, 1100, 1100, 1100, 1100, 1100];
  t.deepEqual(seriesFromLogs({ iops: Object.values(logs), bw: [], clat: [] })?.iops, expected);
  t.deepEqual((await awkSeries(t, logs))?.iops, expected, "the script's awk agrees");
  // Every job logged the last second: it counts.
  const whole = { "run_iops.1.log": lines(4, 10), "run_iops.2.log": lines(4, 100) };
  t.deepEqual(seriesFromLogs({ iops: Object.values(whole), bw: [], clat: [] })?.iops, [110, 110, 110, 110]);
  t.deepEqual((await awkSeries(t, whole))?.iops, [110, 110, 110, 110]);
});

test("a randrw run's series holds each direction: fio 3.33's logs of 8 jobs, read and write about fio's figures", async (t) => {
  const dir = fileURLToPath(new URL("fixtures/fio-3.33-logs-randrw-8jobs", import.meta.url));
  const series = await readSeries(dir);
  if (!series?.readIops || !series.writeIops) throw new Error(`no series of each direction: ${JSON.stringify(series)}`);
  // 6-s runs: seven of eight jobs logged five seconds, one a sixth.
  t.is(series.iops.length, 5);
  t.deepEqual(
    series.iops,
    series.readIops.map((reads, second) => reads + (series.writeIops?.[second] ?? 0)),
  );
  const output = JSON.parse(await fs.readFile(join(dir, "output.json"), "utf8")) as {
    jobs: Array<{ read: { iops: number }; write: { iops: number } }>;
  };
  const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
  for (const [values, fio] of [
    [series.readIops, output.jobs[0].read.iops],
    [series.writeIops, output.jobs[0].write.iops],
  ] as const)
    t.true(Math.abs(mean(values) / fio - 1) < 0.15, `${mean(values)} against fio's ${fio}`);
  const files: Record<string, string> = {};
  for (const name of await fs.readdir(dir))
    if (name.endsWith(".log")) files[name] = await fs.readFile(join(dir, name), "utf8");
  const sent = await awkSeries(t, files);
  t.deepEqual(sent?.readIops, series.readIops.map(Math.round), "the script's awk sends each direction");
  t.deepEqual(sent?.writeIops, series.writeIops.map(Math.round));
  // One direction: nothing beside the total.
  t.is((await readSeries(FIXTURE))?.readIops, undefined);
});
