import { spawn } from "node:child_process";
import { existsSync, promises as fs } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { toResultsDocument } from "../bench/core/results.js";
import { runFioSection } from "../bench/local/fio-process.js";
import { renderMarkdown } from "../bench/report/markdown.js";
import { collectReportData } from "../bench/report/rows.js";
import { UserError } from "../bench/util/errors.js";
import { BIN, runCli } from "./helpers/cli.js";
import { scratchDir } from "./helpers/fio.js";
import { within } from "./helpers/wait.js";

// Faults as a user's machine makes them, with the real fio: a `kill -9` of layerbench, a terminal closed under it.
// Whatever ends layerbench, no fio of its stays writing the disk (bench/util/tethered.ts).

/** The pids of the processes whose command line names `text`: fio's main process and its jobs share theirs. */
async function processesNaming(text: string): Promise<number[]> {
  const pids = (await fs.readdir("/proc")).filter((entry) => /^\d+$/.test(entry));
  const naming = await Promise.all(
    pids.map(async (pid) => {
      const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
      const state = await fs.readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
      // A zombie's end is its parent's to collect: it writes nothing.
      return cmdline.includes(text) && !/^\d+ \(.*\) Z /.test(state) ? [Number(pid)] : [];
    }),
  );
  return naming.flat();
}

const runArgs = (target: string, out: string) => [
  ...["run", "--runtime", "20", "--size", "8m", "--target", `a=${target}`, "--out", out],
];

test.serial("kill -9 of layerbench mid-run: fio's main process and its jobs end with it", async (t) => {
  const dir = await scratchDir();
  t.teardown(dir.cleanup);
  const [a, out] = ["a", "out"].map((name) => join(dir.path, name));
  await fs.mkdir(a);
  let fioSeen: number[] = [];
  const result = await runCli(runArgs(a, out), {
    whileRunning: (child, stderr) => {
      const timer = setInterval(async () => {
        if (!/running \[1\/3\]/.test(stderr())) return;
        clearInterval(timer);
        fioSeen = await within(
          5_000,
          () => processesNaming(join(out, "jobs")),
          (pids) => pids.length >= 2,
        );
        child.kill("SIGKILL");
      }, 100);
    },
  });
  t.is(result.code, 137, "killed");
  t.true(fioSeen.length >= 2, `fio and its job were running: ${fioSeen.join(",")}`);
  const left = await within(
    5_000,
    () => processesNaming(join(out, "jobs")),
    (pids) => pids.length === 0,
  );
  t.deepEqual(left, [], "no fio left writing the disk");
  const scratch = (await fs.readdir(a)).filter((entry) => entry.startsWith(".layerbench-"));
  t.is(scratch.length, 1, "the killed run could not remove its scratch directory");

  // The next run on the disk: its lock is taken over, the scratch removed and said, then it measures.
  const next = await runCli([
    "run",
    "--runtime",
    "1",
    "--size",
    "1m",
    "--target",
    `a=${a}`,
    "--out",
    join(dir.path, "next"),
  ]);
  t.is(next.code, 0, next.stderr);
  t.regex(next.stderr, new RegExp(`^layerbench: removed ${join(a, scratch[0])}, left by a run that was killed$`, "m"));
  t.regex(next.stderr, /^layerbench: removed .*layerbench-logs-\w+, left by a run that was killed$/m);
  t.deepEqual(
    (await fs.readdir(a)).filter((entry) => entry.startsWith(".layerbench-")),
    [],
  );
});

test.serial(
  "a closed terminal (tmux kill-session, ssh dropped): stopped as by SIGHUP, the record kept, nothing left",
  async (t) => {
    const dir = await scratchDir();
    t.teardown(dir.cleanup);
    const [a, out] = ["a", "out"].map((name) => join(dir.path, name));
    await fs.mkdir(a);
    // layerbench on a terminal of its own (script(1)'s pty); killing script closes the terminal's master side: the
    // kernel hangs up the terminal's processes and every later write to it fails with EIO.
    const command = [process.execPath, BIN, ...runArgs(a, out)].map((word) => `'${word}'`).join(" ");
    const terminal = spawn("script", ["-qfec", command, "/dev/null"], { stdio: ["pipe", "pipe", "ignore"] });
    let screen = "";
    terminal.stdout.setEncoding("utf8").on("data", (chunk: string) => (screen += chunk));
    // On a terminal the progress bar names the step.
    await within(
      30_000,
      async () => screen,
      (text) => /\[1\/3\] a /.test(text),
    );
    await within(
      5_000,
      () => processesNaming(join(out, "jobs")),
      (pids) => pids.length >= 2,
    );
    terminal.kill("SIGKILL");
    const lock = join(out, ".layerbench.lock");
    t.false(
      await within(
        20_000,
        async () => existsSync(lock),
        (held) => !held,
      ),
      "the run ended and released its lock",
    );
    t.deepEqual(await processesNaming(join(out, "jobs")), [], "no fio left writing the disk");
    const document = toResultsDocument(JSON.parse(await fs.readFile(join(out, "results.json"), "utf8")), out);
    t.true((document.notRun ?? []).length >= 2, "the runs never made are recorded");
    t.true((document.notRun ?? []).every((entry) => entry.reason === "interrupted"));
    t.deepEqual(
      (await fs.readdir(a)).filter((entry) => entry.startsWith(".layerbench-")),
      [],
      "fio's work directory is removed",
    );
  },
);

test("a stop that came before a run starts no fio: it would run its whole runtime first", async (t) => {
  const dir = await scratchDir();
  t.teardown(dir.cleanup);
  const started = join(dir.path, "started");
  const fio = join(dir.path, "fio");
  await fs.writeFile(fio, `#!/bin/sh\ntouch '${started}'\nsleep 30\n`, { mode: 0o755 });
  const controller = new AbortController();
  controller.abort(new UserError("interrupted by SIGTERM"));
  await t.throwsAsync(
    runFioSection({ jobFile: join(dir.path, "job.fio"), section: "a", fioCommand: fio, signal: controller.signal }),
    { message: "interrupted by SIGTERM" },
  );
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.false(existsSync(started), "fio was never started");
});

/** The command name of a process's parent, from /proc. */
async function parentName(pid: number): Promise<string> {
  const stat = await fs.readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  const ppid = /^\d+ \(.*\) \S+ (\d+)/.exec(stat)?.[1];
  return ppid ? (await fs.readFile(`/proc/${ppid}/comm`, "utf8").catch(() => "")).trim() : "";
}

test.serial("a fio job killed under fio is a failed run, not a run of 0 IOPS in 0 ms", async (t) => {
  const dir = await scratchDir();
  t.teardown(dir.cleanup);
  const jobFile = join(dir.path, "killed.fio");
  await fs.writeFile(
    jobFile,
    `[w]\ndirectory=${dir.path}\nrw=write\nbs=4k\nsize=16m\ntime_based\nruntime=10\nioengine=psync\n`,
  );
  // fio's main process sometimes waits for ever on a job killed mid-write (a lock the job held, in memory they
  // share): the run's deadline ends that one. Either way the run fails; it never reads as one of 0 IOPS.
  const run = runFioSection({ jobFile, section: "w", deadlineSec: 12 });
  // The job's process, once it writes: one naming the job file whose parent is fio's main process.
  const workers = await within(
    30_000,
    async () => {
      const written = await fs.stat(join(dir.path, "w.0.0")).then(
        (stat) => stat.size > 0,
        () => false,
      );
      if (!written) return [];
      const naming = await processesNaming(jobFile);
      const parents = await Promise.all(naming.map(parentName));
      return naming.filter((_, index) => parents[index] === "fio");
    },
    (pids) => pids.length > 0,
  );
  t.is(workers.length, 1, "one job process");
  process.kill(workers[0], "SIGKILL");
  await t.throwsAsync(run, {
    message: /^fio failed on w: (a job of it was killed by signal 9|no end within 12 s: the target stopped answering)/,
  });
});

test.serial(
  "a full --out: the run it cannot save is printed, the stop said in a line, results.json whole",
  async (t) => {
    const dir = await scratchDir();
    t.teardown(dir.cleanup);
    const [a, out] = ["a", "out"].map((name) => join(dir.path, name));
    await Promise.all([fs.mkdir(a), fs.mkdir(out)]);
    // --out on a 16 KiB file system of its own (a mount namespace of the test's, no root needed): the job file and
    // the first run's results.json fit, the second run's does not. What it holds is printed before it goes.
    const run = [process.execPath, BIN, "run", "--runtime", "1", "--size", "1m", "--target", `a=${a}`, "--out", out]
      .map((word) => `'${word}'`)
      .join(" ");
    const inner = `mount -t tmpfs -o size=16k tmpfs '${out}' && { ${run}; echo "exit=$?" >&2; cat '${out}/results.json'; }`;
    const result = await new Promise<{ stdout: string; stderr: string }>((resolve) => {
      const child = spawn("unshare", ["--user", "--map-root-user", "--mount", "sh", "-c", inner]);
      let [stdout, stderr] = ["", ""];
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
      child.on("close", () => resolve({ stdout, stderr }));
    });
    t.regex(result.stderr, /^exit=1$/m, result.stderr);
    t.regex(
      result.stderr,
      /^ {2}\[2\/3\] a randwrite-64k-16x16: write [\d.]+k? IOPS/m,
      "the run it could not save, printed",
    );
    t.regex(
      result.stderr,
      /^layerbench: run stopped: cannot write .*\/out\/results\.json: no space left on device; .*results\.json keeps the runs saved before it, the run it could not save is printed above$/m,
    );
    const saved = toResultsDocument(JSON.parse(result.stdout.slice(result.stdout.indexOf("{"))), "results.json");
    t.deepEqual(
      saved.variants.map((variant) => variant.workloads.map((workload) => workload.id)),
      [["randwrite-4k-qd1"]],
    );
    // Read later, the cut file says which runs it lacks.
    const report = renderMarkdown(collectReportData([saved]));
    t.is(report.split("\n").filter((line) => line.includes("**missing**")).length, 2);
  },
);

test.serial("a run that does not end (a storage not answering) is stopped at its deadline and failed", async (t) => {
  const dir = await scratchDir();
  t.teardown(dir.cleanup);
  // A fio whose I/O never completes: it ignores SIGINT, as one blocked on a stopped OSD does.
  const fio = join(dir.path, "fio");
  await fs.writeFile(
    fio,
    `#!/bin/sh\ntrap '' INT\nread -r pid _ < /proc/self/stat; echo "$pid" > '${dir.path}/pid'\nsleep 600 & wait $!\n`,
    {
      mode: 0o755,
    },
  );
  // It would sleep 600 s: the call returns only because the deadline stopped it.
  await t.throwsAsync(
    runFioSection({ jobFile: join(dir.path, "job.fio"), section: "w", fioCommand: fio, deadlineSec: 1 }),
    {
      message: /^fio failed on w: no end within 1 s: the target stopped answering \(for an RBD image: the Ceph cluster/,
    },
  );
  const pid = Number(await fs.readFile(join(dir.path, "pid"), "utf8"));
  const left = await within(
    3_000,
    async () =>
      existsSync(`/proc/${pid}/cmdline`) && (await fs.readFile(`/proc/${pid}/stat`, "utf8")).split(" ")[2] !== "Z",
    (alive) => !alive,
  );
  t.false(left, "the stuck fio is gone");
});

test.serial(
  "a target deleted under the run: its runs fail with a reason in words, the next target is measured",
  async (t) => {
    const dir = await scratchDir();
    t.teardown(dir.cleanup);
    const [a, b, out] = ["a", "b", "out"].map((name) => join(dir.path, name));
    await Promise.all([fs.mkdir(a), fs.mkdir(b)]);
    const result = await runCli(
      ["run", "--runtime", "1", "--size", "1m", "--target", `a=${a}`, "--target", `b=${b}`, "--out", out],
      {
        whileRunning: (_child, stderr) => {
          const timer = setInterval(() => {
            if (!/running \[1\/6\] a /.test(stderr())) return;
            clearInterval(timer);
            void fs.rm(a, { recursive: true, force: true });
          }, 20);
        },
      },
    );
    t.is(result.code, 1, result.stderr);
    t.notRegex(result.stderr, /unexpected error|ENOENT/);
    const document = toResultsDocument(JSON.parse(await fs.readFile(join(out, "results.json"), "utf8")), out);
    t.deepEqual(
      document.variants.filter((variant) => variant.id === "b").map((variant) => variant.workloads.length),
      [3],
    );
    const failed = (document.failures ?? []).filter((failure) => failure.variant === "a");
    t.true(failed.length >= 2, result.stderr);
  },
);
