import { spawn } from "node:child_process";
import { existsSync, promises as fs } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import { toResultsDocument } from "../bench/core/results.js";
import { type CliResult, runCli } from "./helpers/cli.js";
import { scratchDir } from "./helpers/fio.js";
import { within } from "./helpers/wait.js";

// Two layerbench processes at once, and a user pressing Ctrl-C twice: with a slow stand-in fio, so that the timing
// is the test's and no disk is measured.

const STAND_IN = fileURLToPath(new URL("stand-in/fio", import.meta.url));

/**
 * A fio that answers after `seconds`, or once the file `gate` exists, writing its pid to DIR/fio.pid and, when it
 * has waited to the end, DIR/fio.slept. `stubborn`: it ignores SIGINT, and the system forbids PID namespaces (a
 * stand-in unshare that fails, as in a container), so that SIGINT is what stops it.
 */
async function slowFio(
  dir: string,
  seconds: number,
  options: { stubborn?: boolean; gate?: string } = {},
): Promise<NodeJS.ProcessEnv> {
  const bin = join(dir, "bin");
  await fs.mkdir(bin, { recursive: true });
  if (options.stubborn)
    await fs.writeFile(
      join(bin, "unshare"),
      "#!/bin/sh\necho 'unshare: unshare failed: Operation not permitted' >&2\nexit 1\n",
      {
        mode: 0o755,
      },
    );
  await fs.writeFile(
    join(bin, "fio"),
    [
      "#!/bin/sh",
      'case "$1" in --version) exec "$STAND_IN" --version ;; esac',
      ...(options.stubborn ? ["trap '' INT"] : []),
      // Its pid as this machine numbers it: in the PID namespace layerbench runs fio in, $$ is 1.
      `read -r pid _ < /proc/self/stat; echo "$pid" > "${join(dir, "fio.pid")}"`,
      // sleep in the background and wait: the shell itself takes the signals.
      options.gate ? `until [ -e '${options.gate}' ]; do sleep 0.1 & wait $!; done` : `sleep ${seconds} & wait $!`,
      `: > "${join(dir, "fio.slept")}"`,
      'exec "$STAND_IN" "$@"',
    ].join("\n"),
    { mode: 0o755 },
  );
  return { ...process.env, STAND_IN, PATH: `${bin}:${process.env.PATH}` };
}

/** Acts once the CLI has printed `pattern` and, when given, `file` exists. */
function whenStderr(pattern: RegExp, act: (child: import("node:child_process").ChildProcess) => void, file?: string) {
  return (child: import("node:child_process").ChildProcess, stderr: () => string) => {
    const timer = setInterval(() => {
      if (pattern.test(stderr()) && (file === undefined || existsSync(file))) {
        clearInterval(timer);
        act(child);
      }
    }, 50);
    child.on("close", () => clearInterval(timer));
  };
}

test.serial("two runs into one --out: the second refuses at once naming the first; the first keeps all", async (t) => {
  const dir = await scratchDir();
  t.teardown(dir.cleanup);
  const env = await slowFio(dir.path, 1);
  const [a, b, out] = ["a", "b", "out"].map((name) => join(dir.path, name));
  await Promise.all([fs.mkdir(a), fs.mkdir(b)]);
  const common = ["run", "--runtime", "1", "--size", "1m", "--out", out];
  let second: Promise<CliResult> | undefined;
  const first = await runCli([...common, "--target", `a=${a}`], {
    env,
    whileRunning: whenStderr(/running \[1\/3\]/, () => {
      second = runCli([...common, "--target", `b=${b}`], { env });
    }),
  });
  const refused = await (second as Promise<CliResult>);
  t.is(first.code, 0, first.stderr);
  t.is(refused.code, 1);
  t.regex(
    refused.stderr,
    /^layerbench: --out .*out is in use by layerbench process \d+ on .*: choose another --out\n$/,
  );
  const document = toResultsDocument(JSON.parse(await fs.readFile(join(out, "results.json"), "utf8")), out);
  t.deepEqual(
    document.variants.map((variant) => [variant.id, variant.workloads.length]),
    [["a", 3]],
  );
  t.false(existsSync(join(out, ".layerbench.lock")), "the lock goes with the run");
});

test.serial("a second run on the same disk refuses while the first measures it, even into another --out", async (t) => {
  const dir = await scratchDir();
  t.teardown(dir.cleanup);
  // The first run's fio waits for the second to be refused: however slow the machine, the disk is still busy.
  const gate = join(dir.path, "go");
  const env = await slowFio(dir.path, 0, { gate });
  const [a, b] = ["a", "b"].map((name) => join(dir.path, name));
  await Promise.all([fs.mkdir(a), fs.mkdir(b)]);
  const run = (target: string, out: string) => [
    "run",
    "--runtime",
    "1",
    "--size",
    "1m",
    "--target",
    target,
    "--out",
    join(dir.path, out),
  ];
  let second: Promise<CliResult> | undefined;
  const first = await runCli(run(`a=${a}`, "out-a"), {
    env,
    whileRunning: whenStderr(/running \[1\/3\]/, () => {
      second = runCli(run(`b=${b}`, "out-b"), { env });
      void second.finally(() => fs.writeFile(gate, ""));
    }),
  });
  const refused = await (second as Promise<CliResult>);
  t.is(first.code, 0, first.stderr);
  t.is(refused.code, 1);
  t.regex(
    refused.stderr,
    /^layerbench: target "b" \(.*\/b\) is on device \d+:\d+, which layerbench process \d+ .* is measuring: measurements never overlap/,
  );
  t.false(existsSync(join(dir.path, "out-b")), "the refused run leaves no output directory");
  // Once the first is done the disk is free again.
  const after = await runCli(run(`b=${b}`, "out-b"), { env });
  t.is(after.code, 0, after.stderr);
});

test.serial("a lock left by a process that is gone is taken over", async (t) => {
  const dir = await scratchDir();
  t.teardown(dir.cleanup);
  const env = await slowFio(dir.path, 0);
  const [a, out] = ["a", "out"].map((name) => join(dir.path, name));
  await Promise.all([fs.mkdir(a), fs.mkdir(out)]);
  const { hostname } = await import("node:os");
  // A pid far above any pid_max: no such process.
  await fs.writeFile(
    join(out, ".layerbench.lock"),
    JSON.stringify({ pid: 2 ** 22 + 1, host: hostname(), startedAt: "then", what: "run" }),
  );
  const result = await runCli(["run", "--runtime", "1", "--size", "1m", "--target", `a=${a}`, "--out", out], { env });
  t.is(result.code, 0, result.stderr);
});

test.serial(
  "a second Ctrl-C quits at once, stops fio and removes the scratch files; the first run is kept",
  async (t) => {
    const dir = await scratchDir();
    t.teardown(dir.cleanup);
    // A fio that ignores the first Ctrl-C (as one flushing gigabytes does for a long while).
    const env = await slowFio(dir.path, 30, { stubborn: true });
    const [a, out] = ["a", "out"].map((name) => join(dir.path, name));
    await fs.mkdir(a);
    const result = await runCli(["run", "--runtime", "1", "--size", "1m", "--target", `a=${a}`, "--out", out], {
      env,
      // Once the stand-in fio has set its trap (it writes its pid after): a Ctrl-C before would stop it at once.
      whileRunning: whenStderr(
        /running \[1\/3\]/,
        (child) => {
          child.kill("SIGINT");
          setTimeout(() => child.kill("SIGINT"), 100);
        },
        join(dir.path, "fio.pid"),
      ),
    });
    t.is(result.code, 130);
    t.false(existsSync(join(dir.path, "fio.slept")), "fio's 30 s never ran out: layerbench did not wait for it");
    t.regex(
      result.stderr,
      /layerbench: stopped at once; scratch files removed\. Nothing was saved: no run had finished/,
    );
    t.false(existsSync(join(out, "results.json")), "as said: no results.json is promised that is not there");
    t.deepEqual(
      (await fs.readdir(a)).filter((name) => name.startsWith(".layerbench-")),
      [],
      "fio's work directory is removed",
    );
    const fioPid = Number(await fs.readFile(join(dir.path, "fio.pid"), "utf8"));
    // Dead: gone, or a zombie that this machine's init has not reaped yet.
    const state = await fs.readFile(`/proc/${fioPid}/status`, "utf8").catch(() => "State:\tgone");
    t.regex(state, /State:\t(gone|Z)/, "fio is stopped");
    t.false(existsSync(join(out, ".layerbench.lock")));
  },
);

/** A run of the ars workloads on one target with the slow fio, stopped by `whileRunning`. */
async function stoppedRun(
  t: { teardown: (fn: () => Promise<void>) => void },
  extraArgs: string[],
  whileRunning: NonNullable<Parameters<typeof runCli>[1]>["whileRunning"],
) {
  const dir = await scratchDir();
  t.teardown(dir.cleanup);
  const env = await slowFio(dir.path, 1);
  const [a, out] = ["a", "out"].map((path) => join(dir.path, path));
  await fs.mkdir(a);
  const args = ["run", "--runtime", "1", "--size", "1m", ...extraArgs, "--target", `a=${a}`, "--out", out];
  return { dir, a, out, result: await runCli(args, { env, whileRunning }) };
}

// A `kill` (TERM) and a closed terminal or SSH session (HUP) stop a run as Ctrl-C does (bench/cli/commands/interrupts.ts),
// its exit code the shell's 128 + the signal's number.
for (const [signal, name, code] of [
  ["SIGINT", "Ctrl-C", 130],
  ["SIGTERM", "SIGTERM", 143],
  ["SIGHUP", "SIGHUP", 129],
] as const) {
  test.serial(
    `${name}: fio stopped, the runs that never ran recorded as not run, report.md says so at the top, nothing left`,
    async (t) => {
      const { dir, a, out, result } = await stoppedRun(
        t,
        ["--repeat", "2"],
        whenStderr(/\[1\/6\] a randwrite-4k-qd1 #1: write/, (child) => child.kill(signal)),
      );
      t.is(result.code, code, result.stderr);
      t.regex(result.stderr, new RegExp(`^layerbench: stopping after ${name} \\(again to quit at once\\)$`, "m"));
      const document = toResultsDocument(JSON.parse(await fs.readFile(join(out, "results.json"), "utf8")), out);
      const measured = document.variants[0].workloads.flatMap((workload) => workload.runs.map(() => workload.id));
      const notRun = (document.notRun ?? []).flatMap((entry) => entry.attempts.map(() => entry.workload));
      t.is(measured.length + notRun.length, 6, "every planned run is either measured or listed as not run");
      t.true(notRun.length >= 1);
      t.true((document.notRun ?? []).every((entry) => entry.reason === "interrupted"));
      const report = await fs.readFile(join(out, "report.md"), "utf8");
      t.true(report.indexOf("**not run** (interrupted)") > 0);
      t.true(report.indexOf("## Incomplete") < report.indexOf("## Results"));
      const fioPid = Number(await fs.readFile(join(dir.path, "fio.pid"), "utf8"));
      const state = await fs.readFile(`/proc/${fioPid}/status`, "utf8").catch(() => "State:\tgone");
      t.regex(state, /State:\t(gone|Z)/, "fio is stopped");
      t.false(existsSync(join(out, ".layerbench.lock")), "the lock is released");
      t.deepEqual(
        (await fs.readdir(a)).filter((entry) => entry.startsWith(".layerbench-")),
        [],
        "fio's work directory is removed",
      );
    },
  );
}

test.serial(
  "Ctrl-C between the baseline's passes: its scratch directory, kept for its last pass, is removed too",
  async (t) => {
    const dir = await scratchDir();
    t.teardown(dir.cleanup);
    const env = await slowFio(dir.path, 1);
    const [a, b, c, out] = ["a", "b", "c", "out"].map((path) => join(dir.path, path));
    await Promise.all([a, b, c].map((path) => fs.mkdir(path)));
    // In the order given, from two other targets: a, b, c, then a again.
    const targets = [`a=${a}`, `b=${b}`, `c=${c}`].flatMap((target) => ["--target", target]);
    const result = await runCli(
      ["run", "--runtime", "1", "--size", "1m", "--order", "given", ...targets, "--out", out],
      { env, whileRunning: whenStderr(/\[4\/12\] b randwrite-4k-qd1: write/, (child) => child.kill("SIGINT")) },
    );
    t.is(result.code, 130, result.stderr);
    t.regex(result.stderr, /the baseline a 2 times among them/);
    const document = toResultsDocument(JSON.parse(await fs.readFile(join(out, "results.json"), "utf8")), out);
    t.is(document.variants.find((variant) => variant.id === "a")?.workloads.length, 3, "the first pass is kept");
    t.true(
      (document.notRun ?? []).some((entry) => entry.variant === "a"),
      "the baseline's second pass is listed as not run",
    );
    for (const target of [a, b, c])
      t.deepEqual(
        (await fs.readdir(target)).filter((entry) => entry.startsWith(".layerbench-")),
        [],
        `nothing left in ${target}`,
      );
    t.false(existsSync(join(out, ".layerbench.lock")), "the lock is released");
  },
);

test.serial(
  "TERM after the last run, while the report is written: exit 143 as at any other moment, every run and the report kept",
  async (t) => {
    // Before, a directory run exited 0 here and a VM run 143. Whenever the signal lands (during the report or after
    // the handlers are gone) the exit code is 143, so the test does not depend on the report's timing.
    const { out, result } = await stoppedRun(
      t,
      [],
      whenStderr(/\[3\/3\] a randwrite-1m-qd1: write/, (child) => child.kill("SIGTERM")),
    );
    t.is(result.code, 143, result.stderr);
    const document = toResultsDocument(JSON.parse(await fs.readFile(join(out, "results.json"), "utf8")), out);
    t.is(document.variants[0].workloads.length, 3, "every run measured");
    t.deepEqual(document.notRun ?? [], []);
    t.true(existsSync(join(out, "report.md")), "the report written whole");
  },
);

test.serial(
  "a closed pipe (`2>&1 | head`): stopped as by SIGPIPE, exit 141, the runs never made recorded, nothing left",
  async (t) => {
    // The reader goes away, as `head` does once it has its lines: both of layerbench's outputs are that pipe.
    const { a, out, result } = await stoppedRun(
      t,
      [],
      whenStderr(/running \[1\/3\]/, (child) => {
        child.stdout?.destroy();
        child.stderr?.destroy();
      }),
    );
    t.is(result.code, 141);
    const document = toResultsDocument(JSON.parse(await fs.readFile(join(out, "results.json"), "utf8")), out);
    const notRun = document.notRun ?? [];
    t.true(notRun.length >= 2, "the workloads after the pipe closed are listed as not run");
    t.true(notRun.every((entry) => entry.message === "interrupted by a closed pipe"));
    t.true(existsSync(join(out, "report.md")));
    t.false(existsSync(join(out, ".layerbench.lock")), "the lock is released");
    t.deepEqual(
      (await fs.readdir(a)).filter((entry) => entry.startsWith(".layerbench-")),
      [],
      "fio's work directory is removed",
    );
  },
);

test.serial(
  "Ctrl-C before the first result: the message says where results.json lists the runs not made",
  async (t) => {
    const { out, result } = await stoppedRun(
      t,
      [],
      whenStderr(/running \[1\/3\]/, (child) => child.kill("SIGINT")),
    );
    t.is(result.code, 130);
    t.regex(
      result.stderr,
      /^layerbench: run stopped: interrupted by Ctrl-C; nothing was measured; .*\/out\/results\.json lists the runs not made$/m,
    );
    const document = toResultsDocument(JSON.parse(await fs.readFile(join(out, "results.json"), "utf8")), out);
    t.deepEqual(document.variants, []);
    t.is(document.notRun?.length, 3);
  },
);

/** A process that takes the lock of `out` once per round, when the test says go, and reports whether it got it. */
const LOCK_TAKER = `
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { lockRun } from "./bench/local/locks.ts";
const [out, rounds] = [process.argv[2], Number(process.argv[3])];
for (let round = 0; round < rounds; round += 1) {
  while (!existsSync(join(out, "..", \`go-\${round}\`))) await new Promise((resolve) => setTimeout(resolve, 2));
  const locks = await lockRun(out, [], "run").catch(() => undefined);
  writeFileSync(join(out, "..", \`result-\${round}-\${process.pid}\`), String(locks !== undefined));
  // Held until every process has tried: one that came late must find it held, not free again.
  while (!existsSync(join(out, "..", \`release-\${round}\`))) await new Promise((resolve) => setTimeout(resolve, 2));
  locks?.release();
}
`;

test.serial("a stale lock is taken over by one run only, however many processes try at once", async (t) => {
  const dir = await scratchDir();
  t.teardown(dir.cleanup);
  const out = join(dir.path, "out");
  await fs.mkdir(out);
  const script = join(process.cwd(), `.layerbench-lock-taker-${process.pid}.ts`);
  await fs.writeFile(script, LOCK_TAKER);
  t.teardown(() => fs.rm(script, { force: true }));
  // A holder that is gone: a process of this host that has ended.
  const gone = spawn("true");
  await new Promise((resolve) => gone.on("close", resolve));
  const stale = { pid: gone.pid, host: hostname(), startedAt: "2026-01-01T00:00:00.000Z", what: "a killed run" };
  const [processes, rounds] = [6, 8];
  const takers = Array.from({ length: processes }, () =>
    spawn(process.execPath, ["--import", "tsx/esm", script, out, String(rounds)], { stdio: "inherit" }),
  );
  const ended = Promise.all(takers.map((child) => new Promise((resolve) => child.on("close", resolve))));
  const held: number[] = [];
  for (let round = 0; round < rounds; round += 1) {
    await fs.writeFile(join(out, ".layerbench.lock"), JSON.stringify(stale));
    await fs.writeFile(join(dir.path, `go-${round}`), "");
    const results = await within(
      30_000,
      async () => (await fs.readdir(dir.path)).filter((name) => name.startsWith(`result-${round}-`)),
      (names) => names.length === processes,
    );
    const texts = await Promise.all(results.map((name) => fs.readFile(join(dir.path, name), "utf8")));
    held.push(texts.filter((text) => text === "true").length);
    await fs.writeFile(join(dir.path, `release-${round}`), "");
    await within(
      10_000,
      async () => existsSync(join(out, ".layerbench.lock")),
      (exists) => !exists,
    );
  }
  await ended;
  t.deepEqual(held, Array(rounds).fill(1), "each round: one holder");
  t.false(existsSync(join(out, ".layerbench.lock.takeover")));
});
