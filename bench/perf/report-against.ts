// The report's speed beside an earlier commit's, on this machine, in one run: each side's report-scale benchmark
// (same matrix: 100 variants x 10 workloads x 5 repeats) run in turn, several times, so that a machine that slows
// down during the run slows both sides. Prints each side's median and the ratio.
// Usage: npm run benchmark:report:against -- REV [--times 5] [--series 60]
// (--series gives this side's results per-second series; REV's benchmark runs as it was written)
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import { median } from "../core/stats.js";

const run = promisify(execFile);
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { times: { type: "string", default: "5" }, series: { type: "string", default: "0" } },
});
const [revision] = positionals;
const times = Number(values.times);
if (!revision || !Number.isInteger(times) || times < 1) {
  console.error("usage: npm run benchmark:report:against -- REV [--times N] [--series SECONDS]");
  process.exit(2);
}

const here = fileURLToPath(new URL("../..", import.meta.url));

/** One run of a tree's benchmark: its in-process and command medians, in seconds. */
async function measure(tree: string, extra: string[]): Promise<[number, number]> {
  const { stdout } = await run("npx", ["tsx", "bench/perf/report-scale.ts", "--rounds", "3", ...extra], {
    cwd: tree,
    maxBuffer: 1 << 20,
  });
  const found = /report in process median ([\d.]+) s.*`layerbench report` median ([\d.]+) s/.exec(stdout);
  if (!found) throw new Error(`${tree}: no medians in the benchmark's output:\n${stdout}`);
  return [Number(found[1]), Number(found[2])];
}

// A worktree of an earlier run that was killed is pruned, not left to block this one.
await run("git", ["worktree", "prune"], { cwd: here });
const earlier = await mkdtemp(join(tmpdir(), "layerbench-against-"));
try {
  await run("git", ["worktree", "add", "--detach", earlier, revision], { cwd: here });
  console.log(`${revision}: npm ci and build in ${earlier}`);
  await run("npm", ["ci", "--no-audit", "--no-fund"], { cwd: earlier, maxBuffer: 1 << 24 });
  await run("npm", ["run", "build"], { cwd: here });
  const ours: Array<[number, number]> = [];
  const theirs: Array<[number, number]> = [];
  for (let time = 1; time <= times; time += 1) {
    ours.push(await measure(here, values.series === "0" ? [] : ["--series", values.series]));
    theirs.push(await measure(earlier, []));
    console.log(
      `${time}/${times}: this tree ${ours[time - 1].join(" s, ")} s; ${revision} ${theirs[time - 1].join(" s, ")} s`,
    );
  }
  const side = (pairs: Array<[number, number]>, index: 0 | 1) => median(pairs.map((pair) => pair[index]));
  for (const [index, what] of [
    [0, "in process"],
    [1, "`layerbench report`"],
  ] as const) {
    const [now, then] = [side(ours, index), side(theirs, index)];
    console.log(
      `${what}: ${now.toFixed(2)} s against ${then.toFixed(2)} s at ${revision}: ${(now / then).toFixed(2)}x`,
    );
  }
} finally {
  await run("git", ["worktree", "remove", "--force", earlier], { cwd: here }).catch(() => undefined);
  await rm(earlier, { recursive: true, force: true });
}
