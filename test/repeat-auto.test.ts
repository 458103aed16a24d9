import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import test from "ava";
import { resolveProfile } from "../bench/core/profiles.js";
import { AUTO_MAX_RUNS, AUTO_MIN_RUNS, stableEnough } from "../bench/core/repeat.js";
import { relativeStdevPct, stat, toResultsDocument } from "../bench/core/results.js";
import { renderFioScript } from "../bench/remote/fio-script.js";
import { runCli } from "./helpers/cli.js";
import { scratchDir } from "./helpers/fio.js";

// --repeat auto: at least 3 runs, at most 10, stopping once the IOPS agree within --max-rsd; the same rule in the
// local runner and in the script the guests and the stacks run. Fed by stand-in fios whose IOPS are chosen.

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
      // Its output on stdout, or in the --output file as the remote script asks for.
      `"${STAND_IN}" "$@" | sed "s/${FIXTURE_IOPS}/\\"iops\\" : $iops.0/"`,
      `for a; do case "$a" in --output=*) sed -i "s/${FIXTURE_IOPS}/\\"iops\\" : $iops.0/" "\${a#--output=}" ;; esac; done`,
    ].join("\n"),
    { mode: 0o755 },
  );
  return bin;
}

test("the rule: relative sample standard deviation, at least the minimum of runs", (t) => {
  t.is(relativeStdevPct(stat([100, 100, 100])), 0);
  t.is(Math.round(relativeStdevPct(stat([90, 100, 110])) * 100) / 100, 10);
  const rule = { minRuns: AUTO_MIN_RUNS, maxRsdPct: 3 };
  t.false(stableEnough(rule, [100, 100]), "two runs are too few");
  t.true(stableEnough(rule, [100, 101, 99]));
  t.false(stableEnough(rule, [90, 100, 110]));
});

for (const [name, iops, expected] of [
  ["steady IOPS: 3 runs, the minimum", [1000], AUTO_MIN_RUNS],
  ["IOPS that settle: runs until all of them agree within 3 %", [1000, 1080, 1000, 1000, 1000, 1000, 1000], 7],
  ["IOPS that never agree: 10 runs, the maximum", [1000, 2000], AUTO_MAX_RUNS],
] as const) {
  test.serial(`run --repeat auto, ${name}`, async (t) => {
    const dir = await scratchDir();
    t.teardown(dir.cleanup);
    const bin = await fioWithIops(dir.path, [...iops]);
    const out = join(dir.path, "out");
    const result = await runCli(
      ["run", "--runtime", "1", "--size", "1m", "--repeat", "auto", "--out", out, "--target", `d=${dir.path}`],
      { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } },
    );
    t.is(result.code, 0, result.stderr);
    const document = toResultsDocument(JSON.parse(await fs.readFile(join(out, "results.json"), "utf8")), out);
    t.deepEqual(document.profile.stopWhenStable, { minRuns: AUTO_MIN_RUNS, maxRsdPct: 3 });
    // Calls run on across workloads: the first workload sees the sequence from its start.
    t.is(document.variants[0].workloads[0].runs.length, expected);
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
  }
});
