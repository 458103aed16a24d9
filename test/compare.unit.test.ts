import { promises as fs } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { changeTest, fdrAdjusted } from "../bench/core/change-test.js";
import { measurementOrder } from "../bench/core/measurement-order.js";
import { runAgain } from "../bench/core/repeat.js";
import {
  addRun,
  type LatencyNs,
  newResultsDocument,
  pooledStdev,
  type ResultsDocument,
  type Run,
} from "../bench/core/results.js";
import { comparisonDifferences, environmentDifferences, placeDifferences } from "../bench/core/settings.js";
import { compareDocuments } from "../bench/report/compare.js";
import { renderComparison } from "../bench/report/compare-markdown.js";
import { seededUniforms } from "../bench/util/random.js";
import { runCli } from "./helpers/cli.js";
import { syntheticDocument, variant } from "./helpers/documents.js";
import { scratchDir } from "./helpers/fio.js";
import { normalsFrom } from "./helpers/normals.js";

const source = { kind: "pulumi" as const, project: "layerbench", stack: "quick", runId: "1" };

// IOPS per repeat; the synthetic latency is 1e9 / IOPS, so latency moves the other way.
const before = syntheticDocument(source, [
  { spec: variant("host", true), iops: { "randwrite-4k": [1000, 1010, 990], "randwrite-1m": [100] } },
  { spec: variant("blk-none"), iops: { "randwrite-4k": [800, 900, 700] } },
  { spec: variant("gone"), iops: { "randwrite-4k": [10] } },
]);
const after = syntheticDocument({ ...source, runId: "2" }, [
  { spec: variant("host", true), iops: { "randwrite-4k": [800, 810, 790], "randwrite-1m": [103] } },
  { spec: variant("blk-none"), iops: { "randwrite-4k": [880, 980, 780] } },
  { spec: variant("new"), iops: { "randwrite-4k": [10] } },
]);

test("a change is flagged when it passes the threshold and Welch's t test finds it beyond the noise; direction decides its sign", (t) => {
  const comparison = compareDocuments(before, after, 5);
  const find = (variantId: string, workload: string, metric: string) =>
    comparison.rows.find(
      (row) => row.variant === variantId && row.workload === workload && row.metric.metric === metric,
    )!;

  const hostIops = find("host", "randwrite-4k", "iops");
  t.is(hostIops.changePct, -20);
  // Welch on logs: ln(800/1000) = -0.2231 against a standard error of about 0.0090 (each side 1 % apart).
  t.is(hostIops.test?.kind, "welch");
  t.true((hostIops.test?.p ?? 1) < 1e-4, String(hostIops.test?.p));
  t.true((hostIops.test?.low ?? 0) > 0.75 && (hostIops.test?.high ?? 1) < 0.85, JSON.stringify(hostIops.test));
  t.is(hostIops.verdict, "regression", "IOPS down 20 %, far beyond the 1 % spread");
  t.is(find("host", "randwrite-4k", "latMeanNs").verdict, "regression", "latency up: also a regression");

  const noisy = find("blk-none", "randwrite-4k", "iops");
  t.is(Math.round(noisy.changePct), 10);
  t.true((noisy.test?.p ?? 0) > 0.05, String(noisy.test?.p));
  t.is(noisy.verdict, "within noise", "+10 % but the repeats spread by 100");

  const small = find("host", "randwrite-1m", "iops");
  t.is(small.test, undefined, "no repeats on either side");
  t.is(small.verdict, "below threshold", "+3 % < 5 %");
  t.is(
    compareDocuments(before, after, 2).rows.find(
      (row) =>
        row === small || (row.variant === "host" && row.workload === "randwrite-1m" && row.metric.metric === "iops"),
    )?.verdict,
    "untested",
    "+3 % past a 2 % threshold, one run a side: no test tells it from noise, and it never fails a gate",
  );

  t.deepEqual(comparison.onlyBefore, ["gone"]);
  t.deepEqual(comparison.onlyAfter, ["new"]);
  const markdown = renderComparison(comparison, { before: "a.json", after: "b.json" }, 5);
  t.regex(markdown, /\*\*4 regression\(s\)\*\*, 0 improvement\(s\) in 12 comparisons/);
  t.regex(
    markdown,
    /^\| host \| randwrite-4k \| write \| IOPS \| 1000 ± 10 \(n=3\) \| 800 ± 10 \(n=3\) \| -20\.0 % \| -22\.1 % to -17\.9 % \| < 0\.001 \| < 0\.001 \| \*\*regression\*\* \|$/m,
  );
  t.regex(markdown, /^Only before: gone\.$/m);
});

test.serial("layerbench compare: the table on stdout, exit code 1 on a regression, 0 without", async (t) => {
  const dir = await scratchDir();
  t.teardown(dir.cleanup);
  const [a, b] = [join(dir.path, "a.json"), join(dir.path, "b.json")];
  await fs.writeFile(a, JSON.stringify(before));
  await fs.writeFile(b, JSON.stringify(after));

  const regressed = await runCli(["compare", a, b]);
  t.is(regressed.code, 1);
  t.regex(regressed.stdout, /^# layerbench compare/);
  t.is(
    regressed.stderr.trim(),
    "layerbench: 4 regression(s) beyond the threshold and the noise (Welch's t test, q < 0.05 over the table's tests)",
  );

  const same = await runCli(["compare", a, a]);
  t.is(same.code, 0, same.stderr);
  t.regex(same.stdout, /\*\*0 regression\(s\)\*\*/);

  const lenient = await runCli(["compare", a, b, "--threshold", "30"]);
  t.is(lenient.code, 0, "IOPS -20 %, latency +25 %: under a 30 % threshold");
  // Could not compare: exit code 3, never 1, which CI scripts read as a regression.
  const bad = await runCli(["compare", a, b, "--threshold", "x"]);
  t.is(bad.code, 3);
  t.regex(bad.stderr, /^layerbench: .*--threshold must be a percentage, 0 or more/);
  const missing = await runCli(["compare", a, join(dir.path, "gone.json")]);
  t.is(missing.code, 3);
  t.regex(missing.stderr, /^layerbench: cannot read .*gone\.json/);
  await fs.writeFile(join(dir.path, "bad.json"), "{");
  t.is((await runCli(["compare", join(dir.path, "bad.json"), a])).code, 3);
});

test.serial(
  "compare refuses runs measured with different settings: exit 2, a line per difference; --force goes on",
  async (t) => {
    const dir = await scratchDir();
    t.teardown(dir.cleanup);
    const workloads = [{ id: "randwrite-4k", rw: "randwrite", bs: 4096, numjobs: 1, iodepth: 1, size: 1024 ** 3 }];
    const measured = (profile: Partial<ResultsDocument["profile"]>, host: string, fioVersion = "fio-3.33") => {
      const document = syntheticDocument({ kind: "local", host }, [
        { spec: variant("nvme", true), iops: { "randwrite-4k": [1000] } },
      ]);
      document.profile = { ...document.profile, rampSec: 0, workloads, ...profile };
      for (const run of document.variants[0].workloads[0].runs) run.fioVersion = fioVersion;
      return document;
    };
    const [a, b, c] = ["a.json", "b.json", "c.json"].map((name) => join(dir.path, name));
    await fs.writeFile(a, JSON.stringify(measured({}, "box")));
    await fs.writeFile(b, JSON.stringify(measured({}, "box")));
    await fs.writeFile(
      c,
      JSON.stringify(
        measured(
          { direct: true, ioengine: "libaio", workloads: [{ ...workloads[0], size: 32 * 1024 ** 2 }] },
          "other",
          "fio-3.38",
        ),
      ),
    );
    const alike = await runCli(["compare", a, b]);
    t.is(alike.code, 0, alike.stderr);

    const refused = await runCli(["compare", a, c]);
    t.is(refused.code, 2);
    t.is(refused.stdout, "", "no table for numbers that cannot be compared");
    t.deepEqual(refused.stderr.trim().split("\n"), [
      "layerbench: settings differ: ioengine: posixaio → libaio",
      "layerbench: settings differ: direct: 0 (page cache) → 1 (O_DIRECT)",
      "layerbench: settings differ: fio: fio-3.33 → fio-3.38",
      "layerbench: settings differ: workload randwrite-4k: randwrite, bs 4k, 1 job(s), QD1, size per job 1g → randwrite, bs 4k, 1 job(s), QD1, size per job 32m",
      "layerbench: compare refuses runs measured with different settings (4 above); --force compares them anyway",
    ]);

    const forced = await runCli(["compare", a, c, "--force"]);
    t.not(forced.code, 2);
    t.regex(forced.stdout, /Compared with --force although the settings differ/);
    t.regex(forced.stdout, /> - direct: 0 \(page cache\) → 1 \(O_DIRECT\)/);
    t.regex(forced.stdout, /\*\*Measured in different places\*\*.*\n> - host: local host box → local host other/);
  },
);

test("where two runs were measured is named, never refused: a scratch directory's name, an import's inputs", (t) => {
  const local = (path: string) => {
    const document = syntheticDocument({ kind: "local", host: "box" }, [
      { spec: { ...variant("local", true), options: { path } }, iops: { "randwrite-4k": [1000] } },
    ]);
    return document;
  };
  // Two runs with the defaults: each in a scratch directory of its own.
  const [first, second] = [local("/home/me/.layerbench-tmp-Ab12Cd"), local("/home/me/.layerbench-tmp-Xy34Zw")];
  t.deepEqual(comparisonDifferences(first, second), []);
  t.deepEqual(placeDifferences(first, second), [
    "target of local: local path=/home/me/.layerbench-tmp-Ab12Cd → local path=/home/me/.layerbench-tmp-Xy34Zw",
  ]);
  const imported = (from: string) => ({ ...first, source: { kind: "import" as const, from } });
  t.deepEqual(comparisonDifferences(imported("old/"), imported("new/")), []);
  t.deepEqual(placeDifferences(imported("old/"), imported("new/")), ["host: imported from old/ → imported from new/"]);
});

test("what ran the two that differs is named, layer by layer, and not refused: a Proxmox VE upgrade is a before and after", (t) => {
  const ranOn = (document: ResultsDocument, environment: Record<string, string>) => ({
    ...document,
    variants: document.variants.map((entry) => ({ ...entry, layer: "host" as const, environment })),
  });
  const eight = ranOn(before, { kernel: "6.8.12-9-pve", pve: "pve-manager/8.4.1/2a5fa54a", zfs: "2.2.7-pve2" });
  const nine = ranOn(after, { kernel: "6.14.8-2-pve", pve: "pve-manager/9.0.3/025864202", zfs: "2.2.7-pve2" });
  t.deepEqual(environmentDifferences(eight, nine), [
    "host kernel: 6.8.12-9-pve → 6.14.8-2-pve",
    "host pve: pve-manager/8.4.1/2a5fa54a → pve-manager/9.0.3/025864202",
  ]);
  t.deepEqual(comparisonDifferences(eight, nine), [], "not a setting: no refusal");
  t.deepEqual(environmentDifferences(before, nine), [], "a document that recorded nothing says nothing");
  const text = renderComparison(
    compareDocuments(eight, nine),
    { before: "a", after: "b" },
    5,
    [],
    environmentDifferences(eight, nine),
  );
  t.regex(
    text,
    /^> \*\*Measured on different software\*\*; the changes may come from it:\n> - host kernel: 6\.8\.12-9-pve → 6\.14\.8-2-pve$/m,
  );
});

test("CPU % is shown, never a regression; IOPS per CPU % is the CPU metric that gates the exit code", (t) => {
  /** Two runs of 4 KiB writes at about `iops`, its one job keeping about `cpu` % of a CPU busy. */
  const measured = (iops: number, cpu: number) => {
    const document = newResultsDocument(
      source,
      { id: "ars", runtimeSec: 60, repeat: 2, ioengine: "psync", direct: true },
      new Date(0),
    );
    for (const jitter of [0.999, 1.001])
      addRun(
        document,
        variant("nvme", true),
        { id: "randwrite-4k", title: "4k" },
        {
          fioVersion: "fio-3.33",
          startedAt: new Date(0).toISOString(),
          write: {
            iops: iops * jitter,
            bwBytes: iops * jitter * 4096,
            ioBytes: iops * jitter * 4096 * 60,
            runtimeMs: 60_000,
            latencyNs: { mean: 1e6 / jitter, p99: 3e6 / jitter },
          },
          cpu: { user: cpu * jitter, system: 0, jobs: 1 },
        },
      );
    return document;
  };
  const verdicts = (after: ResultsDocument) =>
    Object.fromEntries(
      compareDocuments(measured(1000, 10), after, 5).rows.map((row) => [row.metric.metric, row.verdict]),
    );
  // Twice the IOPS for twice the CPU: faster, at the same cost per I/O.
  t.like(verdicts(measured(2000, 20)), { iops: "improvement", cpuPct: "changed", iopsPerCpuPct: "below threshold" });
  // The same IOPS for twice the CPU: each I/O costs twice as much.
  const costlier = verdicts(measured(1000, 20));
  t.like(costlier, { iops: "below threshold", cpuPct: "changed", iopsPerCpuPct: "regression" });
  const markdown = renderComparison(
    compareDocuments(measured(1000, 10), measured(1000, 20), 5),
    { before: "a", after: "b" },
    5,
  );
  t.regex(
    markdown,
    /A regression in IOPS, bandwidth, mean latency, p99 latency, fsync\/fdatasync p99 latency or IOPS per CPU percent sets the exit code; CPU % is shown, not gated\./,
  );
  t.regex(markdown, /\| CPU \| .* \| changed \(not gated\) \|$/m);
});

test("Welch's t test: its p-value and interval as statistics tables give them; a side run once takes the other's spread", (t) => {
  // Logs of [100, 110, 120] against [130, 140, 150]: scipy 1.17.1's ttest_ind(equal_var=False) on the logs gives
  // t = 3.6192 on 3.7860 degrees of freedom, p = 0.024571, and the difference's interval exp() = 1.05357-1.54073.
  const test = changeTest([100, 110, 120], [130, 140, 150]);
  t.is(test?.kind, "welch");
  t.true(Math.abs((test?.df ?? 0) - 3.786049898010824) < 1e-9, String(test?.df));
  t.true(Math.abs((test?.p ?? 0) - 0.02457056749267583) < 1e-6, String(test?.p));
  // The interval's t quantile on the same fractional df as the p-value: scipy's interval.
  t.true(Math.abs((test?.low ?? 0) / 1.0535745610500777 - 1) < 1e-6, String(test?.low));
  t.true(Math.abs((test?.high ?? 0) / 1.5407323500486383 - 1) < 1e-6, String(test?.high));
  // One run after three: the three's spread for both sides, t on 2 degrees of freedom.
  const one = changeTest([100, 110, 120], [150]);
  t.is(one?.kind, "one-side");
  t.is(one?.df, 2);
  t.true((one?.low ?? 0) < 150 / 110 && (one?.high ?? 0) > 150 / 110);
  t.is(changeTest([100], [150]), undefined, "neither side repeated");
  t.is(changeTest([0, 1], [1, 2]), undefined, "no log of 0");
});

test("the pooled standard deviation weighs each side's variance by its degrees of freedom", (t) => {
  // 10 runs with stdev 2 and 2 runs with stdev 10: (9 x 4 + 1 x 100) / 10 = 13.6, not (4 + 100) / 2 = 52.
  const pooled = pooledStdev(
    { n: 10, mean: 0, stdev: 2, min: 0, max: 0 },
    { n: 2, mean: 0, stdev: 10, min: 0, max: 0 },
  );
  t.is(pooled, Math.sqrt(13.6));
  t.is(pooledStdev({ n: 1, mean: 5, stdev: 0, min: 5, max: 5 }, { n: 3, mean: 0, stdev: 4, min: 0, max: 0 }), 4);
});

/** One 60-s run of 4 KiB writes at `iops`, with its latency. */
const writeRun = (iops: number, latencyNs: LatencyNs): Run => ({
  fioVersion: "fio-3.33",
  startedAt: new Date(0).toISOString(),
  write: { iops, bwBytes: iops * 4096, ioBytes: iops * 4096 * 60, runtimeMs: 60_000, latencyNs },
});

/** A matrix of 8 variants x 6 workloads, each run `repeat` times with the noise of a shared homelab machine. */
function noisyDocument(
  draw: () => number,
  repeat: number,
  slower: (variant: number) => number = () => 1,
): ResultsDocument {
  const normal = normalsFrom(draw);
  const document = newResultsDocument(
    source,
    { id: "ars", runtimeSec: 60, repeat, ioengine: "libaio", direct: true },
    new Date(0),
  );
  for (let index = 0; index < 8; index += 1)
    for (let workload = 0; workload < 6; workload += 1)
      for (let run = 0; run < repeat; run += 1) {
        // 5 % noise a run, and one run in 20 an outlier at 70 % (a neighbour's backup, a scrub).
        const iops = 1000 * (index + 1) * (workload + 1) * slower(index) * Math.exp(0.05 * normal());
        const value = draw() < 0.05 ? iops * 0.7 : iops;
        const latency = (16e9 / value) * Math.exp(0.03 * normal());
        addRun(
          document,
          variant(`v${index}`, index === 0),
          { id: `w${workload}` },
          {
            ...writeRun(value, { mean: latency, p99: 3 * latency * Math.exp(0.1 * normal()) }),
            cpu: { user: 10 * Math.exp(0.1 * normal()), system: 20 * Math.exp(0.1 * normal()), jobs: 1 },
          },
        );
      }
  return document;
}

test("two identical runs of a 48-cell matrix, --repeat 3: compare exits 0 in at least 95 % of 400 seeded pairs", (t) => {
  const draw = seededUniforms(39);
  const pairs = 400;
  const regressions = (before: ResultsDocument, after: ResultsDocument) =>
    compareDocuments(before, after).rows.filter((row) => row.verdict === "regression");
  // Uncorrected, 240 tests at p < 0.05 failed 92 of 100 such pairs.
  const falseAlarms = Array.from(
    { length: pairs },
    () => regressions(noisyDocument(draw, 3), noisyDocument(draw, 3)).length > 0,
  ).filter(Boolean).length;
  t.true(falseAlarms / pairs <= 0.05, `${falseAlarms} of ${pairs} identical pairs failed`);
  // The correction keeps a real change: with five runs a side, one variant 25 % slower is found in nearly every pair
  // (with three, in about a third: their tests are weak, and the report shows the change's interval).
  const found = Array.from({ length: 100 }, () =>
    regressions(
      noisyDocument(draw, 5),
      noisyDocument(draw, 5, (index) => (index === 3 ? 0.75 : 1)),
    ).some((row) => row.variant === "v3" && row.metric.metric === "iops"),
  ).filter(Boolean).length;
  t.true(found >= 90, `${found} of 100 pairs found the slower variant`);
});
/**
 * 8 variants x 6 workloads measured with `--repeat auto` (PTS's rule, core/repeat.ts: 3 runs, then more while their
 * spread is 2.5 % or more), 4 % noise a run; `slower` scales variant v3's IOPS.
 */
function autoDocument(draw: () => number, slower = 1): ResultsDocument {
  const normal = normalsFrom(draw);
  const rule = { minRuns: 3, maxRsdPct: 2.5 };
  const document = newResultsDocument(
    source,
    { id: "ars", runtimeSec: 60, repeat: 15, ioengine: "libaio", direct: true, stopWhenStable: rule },
    new Date(0),
  );
  for (let index = 0; index < 8; index += 1)
    for (let workload = 0; workload < 6; workload += 1) {
      const values: number[] = [];
      do values.push(1000 * (index + 1) * (workload + 1) * (index === 3 ? slower : 1) * Math.exp(0.04 * normal()));
      while (runAgain(rule, values, 60));
      for (const iops of values)
        addRun(
          document,
          variant(`v${index}`, index === 0),
          { id: `w${workload}` },
          writeRun(iops, { mean: 16e9 / iops }),
        );
    }
  return document;
}

test("--repeat auto then compare: each change tested against at least its layer's pooled spread, not the agreeing runs' own", (t) => {
  // The rule stops once the runs agree, and so keeps runs that agree by chance: tested against their own spread,
  // 37 of these 200 identical pairs had a regression and the IOPS intervals held 1.0 86 % of the time.
  const draw = seededUniforms(41);
  let [flagged, inside, intervals] = [0, 0, 0];
  for (let pair = 0; pair < 200; pair += 1) {
    const comparison = compareDocuments(autoDocument(draw), autoDocument(draw));
    if (comparison.rows.some((row) => row.verdict === "regression")) flagged += 1;
    for (const { test: change } of comparison.rows.filter((row) => row.metric.metric === "iops")) {
      if (!change) continue;
      intervals += 1;
      if (change.low <= 1 && change.high >= 1) inside += 1;
    }
  }
  t.log(
    `${flagged} of 200 identical pairs flagged; ${((inside / intervals) * 100).toFixed(1)} % of ${intervals} intervals hold 1`,
  );
  t.true(flagged / 200 <= 0.06, `${flagged} of 200`);
  t.true(inside / intervals >= 0.92 && inside / intervals <= 0.98, `${inside} of ${intervals}`);
  // A real change keeps its power: one variant 10 % slower.
  const found = Array.from({ length: 50 }, () =>
    compareDocuments(autoDocument(draw), autoDocument(draw, 0.9)).rows.some(
      (row) => row.variant === "v3" && row.metric.metric === "iops" && row.verdict === "regression",
    ),
  ).filter(Boolean).length;
  t.true(found >= 45, `${found} of 50`);
  const comparison = compareDocuments(autoDocument(draw), noisyDocument(draw, 3));
  t.deepEqual(comparison.floored, ["before"]);
  t.regex(
    renderComparison(comparison, { before: "a", after: "b" }, 5),
    /The runs of the before side stopped once they agreed \(`--repeat auto`\)/,
  );
});

test("Benjamini-Hochberg's adjusted p-values: each p times the tests over its rank, never above a larger p's", (t) => {
  // The step-up rule by hand: sorted 0.005 0.01 0.03 0.04 0.5 times 5/rank, then the least of each and those after.
  t.deepEqual(
    fdrAdjusted([0.01, 0.04, 0.03, 0.005, 0.5]).map((q) => Number(q.toFixed(6))),
    [0.025, 0.05, 0.05, 0.025, 0.5],
  );
  t.deepEqual(fdrAdjusted([]), []);
});

test("a change's p-value and its 95 % interval agree: p < 0.05 exactly when 1.0 lies outside it", (t) => {
  // Welch's df is fractional; an interval on a df taken down to a tenth disagreed with the exact p of one pair.
  const draw = seededUniforms(35);
  const normal = normalsFrom(draw);
  let disagreements = 0;
  let near = 0;
  for (let pair = 0; pair < 4000; pair += 1) {
    const side = (n: number, scale: number, shift: number) =>
      Array.from({ length: n }, () => 1000 * Math.exp(shift + scale * normal()));
    const test = changeTest(side(2 + (pair % 3), 0.05, 0), side(2 + (pair % 4), 0.02 + 0.1 * draw(), 0.08 * normal()));
    if (!test) continue;
    if (Math.abs(test.p - 0.05) < 0.005) near += 1;
    const outside = test.low > 1 || test.high < 1;
    if (outside !== test.p < 0.05) disagreements += 1;
  }
  t.true(near > 20, `${near} pairs near p = 0.05: the test reaches the boundary`);
  t.is(disagreements, 0);
});

test("compare's Markdown shows names as text: a variant, a workload and a file name with markup stay in their cells", (t) => {
  const name = "a|b <img src=x onerror=alert(1)> *c*";
  const documents = [0, 1].map((index) =>
    syntheticDocument({ kind: "local", host: "box" }, [
      { spec: variant("host", true), iops: { "w|`1`": [1000, 1010, 990] } },
      { spec: variant(name), iops: { "w|`1`": index === 0 ? [800, 810, 790] : [400, 410, 390] } },
      ...(index === 0 ? [{ spec: variant("gone|<b>"), iops: { "w|`1`": [5] } }] : []),
    ]),
  );
  const markdown = renderComparison(
    compareDocuments(documents[0], documents[1]),
    { before: "x|`y`.json", after: "b.json" },
    5,
  );
  const row = markdown.split("\n").find((line) => line.includes("onerror") && line.includes("IOPS"));
  t.truthy(row);
  // Eleven cells between the bars (13 parts): the escaped bars are not cell breaks.
  t.is(row?.split(/(?<!\\)\|/).length, 13, row);
  t.true(row?.includes("a\\|b \\<img src=x onerror=alert(1)\\> \\*c\\*"), row);
  t.true(row?.includes("w\\|\\`1\\`"), row);
  t.regex(markdown, /Before: x\\\|\\`y\\`\.json · after: b\.json\./);
  t.regex(markdown, /Only before: gone\\\|\\<b\\>\./);
  // The lists above the table too: a target's path is the user's.
  const places = renderComparison(
    compareDocuments(documents[0], documents[1]),
    { before: "a", after: "b" },
    5,
    [],
    [],
    ["target of local: local path=/mnt/a|b → local path=/mnt/<c>"],
  );
  t.regex(places, /^> - target of local: local path=\/mnt\/a\\\|b → local path=\/mnt\/\\<c\\>$/m);
});

test("compare warns when the baseline itself changed beyond its noise: the machine moved between the runs", (t) => {
  const draw = seededUniforms(43);
  const warned = (before: ResultsDocument, after: ResultsDocument) =>
    renderComparison(compareDocuments(before, after), { before: "a", after: "b" }, 5).includes(
      "The baseline v0 itself changed beyond its noise",
    );
  // Identical machines: the warning follows the table's q < 0.05, so it is rare.
  const falseWarnings = Array.from({ length: 200 }, () => warned(noisyDocument(draw, 3), noisyDocument(draw, 3)));
  t.true(falseWarnings.filter(Boolean).length / 200 <= 0.05, `${falseWarnings.filter(Boolean).length} of 200`);
  // Everything 20 % slower after, the baseline too (a machine that slowed down): said, at five runs a side.
  const slowed = Array.from({ length: 20 }, () =>
    warned(
      noisyDocument(draw, 5),
      noisyDocument(draw, 5, () => 0.8),
    ),
  );
  t.log(
    `warned: ${falseWarnings.filter(Boolean).length} of 200 identical pairs, ${slowed.filter(Boolean).length} of 20 slowed`,
  );
  t.true(slowed.filter(Boolean).length >= 18, `${slowed.filter(Boolean).length} of 20`);
});

/**
 * 20 variants x 2 workloads x 3 runs measured in the runner's random order (core/measurement-order.ts, the
 * baseline v0 at the start, middle and end), a variant's runs together, 4 % noise, the machine drifting by `drift`
 * (log IOPS) per variant measured; `slower` scales v3's IOPS.
 */
function driftingDocument(seed: number, drift: number, slower = 1): ResultsDocument {
  const draw = seededUniforms(seed);
  const normal = normalsFrom(draw);
  const document = newResultsDocument(
    source,
    { id: "ars", runtimeSec: 60, repeat: 3, ioengine: "libaio", direct: true },
    new Date(0),
  );
  const order = measurementOrder(
    "v0",
    Array.from({ length: 20 }, (_, index) => `v${index + 1}`),
    seed,
  );
  document.order = { seed, sequence: order };
  for (const [slot, id] of order.entries())
    for (let workload = 0; workload < 2; workload += 1)
      for (let run = 0; run < 3; run += 1) {
        const index = Number(id.slice(1));
        const iops =
          1000 * (index + 1) * (workload + 1) * (index === 3 ? slower : 1) * Math.exp(drift * slot + 0.04 * normal());
        addRun(
          document,
          variant(id, index === 0),
          { id: `w${workload}` },
          {
            ...writeRun(iops, { mean: 16e9 / iops }),
            startedAt: new Date((slot * 6 + workload * 3 + run) * 60_000).toISOString(),
          },
        );
      }
  return document;
}

test("compare with a drifting machine: each side taken back along its baseline's drift, identical pairs rarely flagged", (t) => {
  const flaggedPairs = (drift: number) =>
    Array.from({ length: 200 }, (_, pair) =>
      compareDocuments(driftingDocument(1000 + 2 * pair, drift), driftingDocument(1001 + 2 * pair, drift)).rows.some(
        (row) => row.verdict === "regression" || row.verdict === "improvement",
      ),
    ).filter(Boolean).length;
  // 0.5 % per variant: 25 of these 200 pairs flagged uncorrected (a variant early in one run, late in the other).
  const drifting = flaggedPairs(0.005);
  const steady = flaggedPairs(0);
  t.log(`flagged: ${drifting} of 200 identical pairs with drift, ${steady} of 200 without`);
  t.true(drifting <= 12, `${drifting}`);
  t.true(steady <= 12, `${steady}`);
  const comparison = compareDocuments(driftingDocument(7, 0.005), driftingDocument(8, 0.005));
  t.deepEqual(comparison.driftCorrected, ["before", "after"]);
  t.regex(
    renderComparison(comparison, { before: "a", after: "b" }, 5),
    /shows the machine drifted on both sides: each run is taken back to the baseline's mean time/,
  );
  // A run with no passes of its baseline (an older results.json) is compared as measured.
  const plain = driftingDocument(9, 0.005);
  delete plain.order;
  t.deepEqual(compareDocuments(plain, plain).driftCorrected, []);
});
