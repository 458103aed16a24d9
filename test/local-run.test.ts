import { existsSync, promises as fs } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { toResultsDocument } from "../bench/core/results.js";
import { runCli } from "./helpers/cli.js";
import { quickJobFile, scratchDir } from "./helpers/fio.js";

// The failure policy of a local run, the same as the guest's and the stack's: a failed fio run is recorded with
// its reason, the runs after it still happen, and the exit code says that something failed.

test.serial("a fio run that fails is recorded, and the next workloads and targets still run", async (t) => {
  const dir = await scratchDir();
  t.teardown(dir.cleanup);
  const [a, b, bin] = ["a", "b", "bin"].map((name) => join(dir.path, name));
  await Promise.all([a, b, bin].map((path) => fs.mkdir(path)));
  // fio, except that the 64k workload on target a fails as a full disk would.
  const workload = "randwrite-64k";
  await fs.writeFile(
    join(bin, "fio"),
    `#!/bin/sh\ncase "$*" in *--section=${workload}*) case "$LAYERBENCH_TARGET" in ${a}/*) echo "fio: io_u error on file: No space left on device" >&2; exit 1;; esac;; esac\nexec /usr/bin/fio "$@"\n`,
    { mode: 0o755 },
  );
  const out = join(dir.path, "out");
  const result = await runCli(
    ["run", "--target", `a=${a}`, "--target", `b=${b}`, "--profile", await quickJobFile(dir.path), "--out", out],
    { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } },
  );
  t.is(result.code, 1, result.stderr);
  t.regex(result.stderr, /^layerbench: 1 run\(s\) failed; the others were measured/m);
  t.regex(
    result.stdout + result.stderr,
    new RegExp(`a ${workload}: FAILED: fio failed on ${workload}: .*No space left on device`),
  );
  const document = toResultsDocument(JSON.parse(await fs.readFile(join(out, "results.json"), "utf8")), out);
  t.deepEqual(
    document.failures?.map((failure) => [failure.variant, failure.workload, failure.attempt]),
    [["a", workload, 1]],
  );
  t.deepEqual(
    document.variants.map((variant) => [variant.id, variant.workloads.length]),
    [
      ["a", 2],
      ["b", 3],
    ],
    "every other run was measured",
  );
  t.regex(await fs.readFile(join(out, "report.md"), "utf8"), /No space left on device/);
});

test.serial(
  "--profile FILE: two sections of your job file, a random read and a sequential write, measured by fio as written",
  async (t) => {
    const dir = await scratchDir();
    t.teardown(dir.cleanup);
    const jobFile = join(dir.path, "mine.fio");
    await fs.writeFile(
      jobFile,
      "[global]\nioengine=psync\nsize=4m\n\n[rr]\nrw=randread\nbs=4k\n\n[sw]\nrw=write\nbs=64k\n",
    );
    const out = join(dir.path, "out");
    const result = await runCli(["run", "--profile", jobFile, "--target", `d=${dir.path}`, "--out", out]);
    t.is(result.code, 0, result.stderr);
    const document = toResultsDocument(JSON.parse(await fs.readFile(join(out, "results.json"), "utf8")), out);
    t.is(document.profile.id, "mine");
    t.deepEqual(
      document.variants[0].workloads.map((workload) => [
        workload.id,
        Boolean(workload.runs[0].read?.iops),
        Boolean(workload.runs[0].write?.iops),
      ]),
      [
        ["rr", true, false],
        ["sw", false, true],
      ],
    );
    t.true((document.variants[0].workloads[0].runs[0].cpu?.jobs ?? 0) >= 1, "runs carry fio's CPU");

    // An option fio does not know: fio's own parser says so before any I/O.
    await fs.writeFile(jobFile, "[global]\nsize=1m\nbogus_option=3\n[rr]\nrw=randread\n");
    const refused = await runCli([
      "run",
      "--profile",
      jobFile,
      "--target",
      `d=${dir.path}`,
      "--out",
      join(dir.path, "o2"),
    ]);
    t.is(refused.code, 1);
    t.regex(refused.stderr, /^layerbench: fio does not accept your job file: .*Bad option <bogus_option=3>/);
    t.false(existsSync(join(dir.path, "o2")));
  },
);

test.serial(
  "every local run keeps its seconds: a series in results.json and its chart; a steady run is not flagged",
  async (t) => {
    const dir = await scratchDir();
    t.teardown(dir.cleanup);
    const target = join(dir.path, "d");
    await fs.mkdir(target);
    const out = join(dir.path, "out");
    const jobFile = join(dir.path, "steady.fio");
    // Six seconds of a rate-limited write: one round a second, steady by construction.
    await fs.writeFile(
      jobFile,
      "[global]\nioengine=psync\nsize=8m\ntime_based=1\nruntime=6\n\n[limited]\nrw=randwrite\nbs=4k\nrate_iops=500\n",
    );
    // A temporary directory of this run's own: other test files run layerbench beside it, with their own logs.
    const tmp = join(dir.path, "tmp");
    await fs.mkdir(tmp);
    const result = await runCli(["run", "--target", `d=${target}`, "--profile", jobFile, "--out", out], {
      env: { ...process.env, TMPDIR: tmp },
    });
    t.is(result.code, 0, result.stderr);
    const document = toResultsDocument(JSON.parse(await fs.readFile(join(out, "results.json"), "utf8")), out);
    const [run] = document.variants[0].workloads[0].runs;
    const series = run.series;
    if (!series) throw new Error("no series");
    t.true(series.iops.length >= 5, `${series.iops.length} seconds`);
    // rate_iops=500: every whole second near 500 IOPS, and their mean near fio's own figure.
    t.true(
      series.iops.every((iops) => Math.abs(iops - 500) < 50),
      series.iops.join(" "),
    );
    t.true(series.clatNs?.every((ns) => ns > 0));
    t.true(series.bwBytes.every((bytes, second) => Math.abs(bytes - series.iops[second] * 4096) < 4096 * 50));
    t.false((document.warnings ?? []).some((warning) => warning.code === "not-steady"));
    t.true(existsSync(join(out, "series.svg")));
    t.regex(await fs.readFile(join(out, "report.md"), "utf8"), /^## During the runs$/m);
    t.deepEqual(
      (await fs.readdir(tmp)).filter((name) => name.startsWith("layerbench-logs-")),
      [],
      "no log directory left behind",
    );
  },
);

test.serial(
  "--steady: a run that settles ends once fio's steadystate holds, and the report says what that saved",
  async (t) => {
    const dir = await scratchDir();
    t.teardown(dir.cleanup);
    const target = join(dir.path, "d");
    await fs.mkdir(target);
    const jobFile = join(dir.path, "limited.fio");
    // 500 IOPS exactly, for at most 40 s: steady from its first seconds, so fio ends it after its 10-s ramp and window.
    await fs.writeFile(
      jobFile,
      "[global]\nioengine=psync\nsize=8m\ntime_based=1\nruntime=40\n\n[limited]\nrw=randwrite\nbs=4k\nrate_iops=500\n",
    );
    const out = join(dir.path, "out");
    const result = await runCli(["run", "--steady", "--target", `d=${target}`, "--profile", jobFile, "--out", out]);
    t.is(result.code, 0, result.stderr);
    const document = toResultsDocument(JSON.parse(await fs.readFile(join(out, "results.json"), "utf8")), out);
    t.true(document.profile.steady);
    const [run] = document.variants[0].workloads[0].runs;
    t.true(run.steadyAttained);
    // fio's own clock of the run, not the test's: a loaded machine slows the test, not the job's timeline.
    t.true((run.write?.runtimeMs ?? 0) < 30_000, `${run.write?.runtimeMs} ms, not the 40 s of its runtime`);
    t.true(Math.abs((run.write?.iops ?? 0) - 500) < 25);
    t.regex(
      await fs.readFile(join(out, "report.md"), "utf8"),
      /^> \*\*--steady\*\* \(\[1\]\): 1 of 1 runs ended once fio's steadystate held .*; the runs took \d+ s of the 40 s their --runtime allowed, \d+ % saved\./m,
    );
  },
);
