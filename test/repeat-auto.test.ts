import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import test from "ava";
import { resolveProfile } from "../bench/core/profiles.js";
import {
  AUTO_MAX_ATTEMPTS,
  AUTO_MAX_RUNS,
  AUTO_MIN_RUNS,
  failuresAllow,
  runAgain,
  unstable,
} from "../bench/core/repeat.js";
import { relativeStdevPct, stat, toResultsDocument } from "../bench/core/results.js";
import { renderFioScript } from "../bench/remote/fio-script.js";
import { runCli } from "./helpers/cli.js";
import { scratchDir } from "./helpers/fio.js";

// --repeat auto: the Phoronix Test Suite's dynamic run count (core/repeat.ts): at least 3 runs, then until the IOPS
// spread is below --max-rsd (2.5 %), at most 12 for runs under two minutes and 3 more while the spread shrinks; a
// failed run does not use one up. The same rule in the local runner and in the script the guests and the stacks
// run. Fed by stand-in fios whose IOPS are chosen.

const STAND_IN = fileURLToPath(new URL("stand-in/fio", import.meta.url));
const FIXTURE_IOPS = '\\"iops\\" : 50230.618253';

/** A fio answering with the recorded output, its write IOPS taken in turn from `iops` (its nth call, cycling). */
async function fioWithIops(dir: string, iops: number[]): Promise<string> {
  const bin = join(dir, "bin");
  await fs.mkdir(bin, { recursive: true });
  const cases = iops.map((value, index) => `${index}) iops=${value} ;;`).join(" ");
  await fs.writeFile(
    join(bin, "fio"),
    [
      "#!/bin/sh",
      `case "$1" in --version) exec "${STAND_IN}" --version ;; esac`,
      `n=$(cat "${dir}/calls" 2>/dev/null || echo 0); echo $((n + 1)) > "${dir}/calls"`,
      `case $((n % ${iops.length})) in ${cases} esac`,
      // An IOPS of 0: this call fails, as fio does when its target goes away.
      '[ "$iops" = 0 ] && { echo "fio: pid=1, err=5/file:io_u.c:1889, func=io_u error, error=Input/output error" >&2; exit 1; }',
      // Its output on stdout, or in the --output file as the remote script asks for.
      `"${STAND_IN}" "$@" | sed "s/${FIXTURE_IOPS}/\\"iops\\" : $iops.0/"`,
      `for a; do case "$a" in --output=*) sed -i "s/${FIXTURE_IOPS}/\\"iops\\" : $iops.0/" "\${a#--output=}" ;; esac; done`,
    ].join("\n"),
    { mode: 0o755 },
  );
  return bin;
}

test("the rule: PTS's spread test, its caps by run time, and failed runs", (t) => {
  t.is(relativeStdevPct(stat([100, 100, 100])), 0);
  t.is(Math.round(relativeStdevPct(stat([90, 100, 110])) * 100) / 100, 10);
  const rule = { minRuns: AUTO_MIN_RUNS, maxRsdPct: 2.5 };
  t.true(runAgain(rule, [100, 100], 60), "two runs are fewer than the 3 scheduled");
  t.false(runAgain(rule, [100, 101, 99], 60), "1 % apart: stable");
  t.true(runAgain(rule, [100, 102.5, 97.5], 60), "2.5 %: PTS stops only below its threshold");
  t.true(runAgain(rule, [90, 100, 110], 60));
  // Below the threshold but a run beyond 3 sigma (population): 10 x 1000 and 1040 is 1.2 % apart.
  const outlier = [...Array.from({ length: 10 }, () => 1000), 1040];
  t.true(relativeStdevPct(stat(outlier)) < 2.5);
  t.true(unstable(outlier, 2.5), "beyond three sigma");
  // The cap: 4, 3 or 2 times the scheduled runs for runs under 2 minutes, 4 minutes, or longer; none beyond an hour.
  const noisy = (count: number) => Array.from({ length: count }, (_, index) => (index % 2 ? 1200 : 1000));
  t.true(runAgain(rule, noisy(11), 60));
  t.true(runAgain(rule, noisy(12), 60), "past 12 while the spread stays within half of where it started");
  t.false(runAgain(rule, noisy(15), 60), "12 + 3 at most");
  t.true(runAgain(rule, noisy(8), 150));
  t.false(runAgain(rule, noisy(12), 150), "9 + 3 for runs of 2 to 4 minutes");
  t.false(runAgain(rule, noisy(9), 300), "6 + 3 beyond");
  t.false(runAgain(rule, noisy(3), 3700), "an hour a run: no more");
  // A spread that halved since it first was too wide: beyond the cap, no more.
  t.false(runAgain(rule, [1000, 1300, 1000, ...Array.from({ length: 9 }, () => 1100)], 60));
  // Failed runs: another attempt while more than about half of them worked (PTS: produced > floor((i - 2) / 2)).
  t.true(failuresAllow(0, 1));
  t.true(failuresAllow(0, 2));
  t.false(failuresAllow(0, 3));
  t.true(failuresAllow(1, 3));
  t.false(failuresAllow(1, 5));
  t.true(failuresAllow(2, 5));
  t.false(failuresAllow(60, AUTO_MAX_ATTEMPTS), "64 attempts at most");
});

for (const [name, iops, expected, failures] of [
  ["steady IOPS: 3 runs, the minimum", [1000], AUTO_MIN_RUNS, 0],
  ["IOPS that settle: runs until all of them agree within 3 %", [1000, 1080, 1000, 1000, 1000, 1000, 1000], 7, 0],
  ["IOPS that never agree: 15 runs, the most", [1000, 2000], AUTO_MAX_RUNS, 0],
  ["a failed run does not use up a repeat: 3 runs that worked", [1000, 0, 1000, 1000], AUTO_MIN_RUNS, 1],
] as const) {
  test.serial(`run --repeat auto, ${name}`, async (t) => {
    const dir = await scratchDir();
    t.teardown(dir.cleanup);
    const bin = await fioWithIops(dir.path, [...iops]);
    const out = join(dir.path, "out");
    const result = await runCli(
      [
        "run",
        "--runtime",
        "1",
        "--size",
        "1m",
        "--repeat",
        "auto",
        "--max-rsd",
        "3",
        "--out",
        out,
        "--target",
        `d=${dir.path}`,
      ],
      { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } },
    );
    t.is(result.code, failures > 0 ? 1 : 0, result.stderr);
    const document = toResultsDocument(JSON.parse(await fs.readFile(join(out, "results.json"), "utf8")), out);
    t.deepEqual(document.profile.stopWhenStable, { minRuns: AUTO_MIN_RUNS, maxRsdPct: 3 });
    // Calls run on across workloads: the first workload sees the sequence from its start.
    t.is(document.variants[0].workloads[0].runs.length, expected);
    t.is(
      (document.failures ?? []).filter((failure) => failure.workload === document.variants[0].workloads[0].id).length,
      failures,
    );
  });
}

test.serial("the script of the guests and the stacks stops by the same rule", async (t) => {
  const dir = await scratchDir();
  t.teardown(dir.cleanup);
  const profile = resolveProfile("ars", {
    runtimeSec: 1,
    size: "1m",
    stopWhenStable: { minRuns: AUTO_MIN_RUNS, maxRsdPct: 3 },
  });
  const script = renderFioScript({ profile, repeat: AUTO_MAX_RUNS, target: { kind: "directory", path: dir.path } });
  // The local guest runs the script with busybox, whose awk may have no math (no sqrt): it is tried too.
  const busyboxAwk = join(dir.path, "busybox-awk");
  await fs.mkdir(busyboxAwk);
  await fs.writeFile(join(busyboxAwk, "awk"), '#!/bin/sh\nexec busybox awk "$@"\n', { mode: 0o755 });
  const runs = async (iops: number[], awkDir?: string) => {
    await fs.rm(join(dir.path, "calls"), { force: true });
    const bin = await fioWithIops(dir.path, iops);
    const { stdout } = await promisify(execFile)("sh", ["-c", script], {
      env: { ...process.env, PATH: `${bin}:${awkDir ? `${awkDir}:` : ""}${process.env.PATH}` },
      maxBuffer: 64 * 1024 * 1024,
    });
    return [...stdout.matchAll(/^@@layerbench begin (\S+) /gm)].filter((match) => match[1] === profile.workloads[0].id)
      .length;
  };
  for (const awkDir of [undefined, busyboxAwk]) {
    const awk = awkDir ? "busybox awk" : "the system's awk";
    t.is(await runs([1000], awkDir), AUTO_MIN_RUNS, awk);
    t.is(await runs([1000, 1080, 1000, 1000, 1000, 1000, 1000], awkDir), 7, awk);
    t.is(await runs([1000, 2000], awkDir), AUTO_MAX_RUNS, awk);
    t.is(await runs([1000, 0, 1000, 1000], awkDir), AUTO_MIN_RUNS, `${awk}: a failed run does not count`);
    t.is(await runs([0], awkDir), 0, `${awk}: three failures and no run: it gives up`);
  }
});
