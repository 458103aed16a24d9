import test from "ava";
import { deriveWarnings } from "../bench/core/warnings.js";
import { CHARTS } from "../bench/report/chart-definitions.js";
import { chartRows, chartSpec } from "../bench/report/charts.js";
import { renderMarkdown } from "../bench/report/markdown.js";
import { collectReportData } from "../bench/report/rows.js";
import { seededUniforms } from "../bench/util/random.js";
import { syntheticDocument, variant } from "./helpers/documents.js";
import { normalsFrom } from "./helpers/normals.js";

const GiB = 1024 ** 3;

/** A host baseline and a VM variant above it, direct I/O unless said otherwise. */
function hostAndVm(hostIops: number[], vmIops: number[], direct = true) {
  const document = syntheticDocument({ kind: "local", host: "box" }, [
    { spec: { ...variant("host", true), layer: "host" }, iops: { "rand-read-iops": hostIops } },
    { spec: { ...variant("blk-none"), layer: "vm" }, iops: { "rand-read-iops": vmIops } },
  ]);
  document.profile = { ...document.profile, direct };
  return document;
}

const codes = (document: ReturnType<typeof hostAndVm>, variantId: string) =>
  deriveWarnings(document)
    .filter((warning) => warning.variant === variantId)
    .map((warning) => warning.code);

test("a VM 1.5x faster than its host with a small spread is flagged faster-than-baseline, in the report too", (t) => {
  const document = hostAndVm([1000, 1010, 990], [1500, 1510, 1490]);
  t.deepEqual(codes(document, "blk-none"), ["faster-than-baseline"]);
  t.deepEqual(codes(document, "host"), [], "the baseline is never faster than itself");
  const markdown = renderMarkdown(collectReportData([document]));
  t.regex(markdown, /\*\*1 number\(s\) faster than the baseline from a layer above it\*\*/);
  t.regex(markdown, /^\| blk-none \|.*\| faster-than-baseline \|$/m);
  t.regex(
    markdown,
    /- \[1\] blk-none \/ rand-read-iops: `faster-than-baseline`: write IOPS 1\.50× the baseline host's/,
  );
  // In the charts: a "!" over the flagged bar, its reason in the tooltip.
  const { rows } = chartRows(collectReportData([document]), CHARTS[0]);
  t.deepEqual(
    rows.map((row) => [row.variant, row.flags]),
    [
      ["host", ""],
      ["blk-none", "faster-than-baseline"],
    ],
  );
  t.regex(JSON.stringify(chartSpec(collectReportData([document]), CHARTS[0])), /"text":"!"/);
});

test("faster within the spread, slower, or a peer directory: no faster-than-baseline", (t) => {
  t.deepEqual(
    codes(hostAndVm([1000, 1400, 600], [1200, 1600, 800]), "blk-none"),
    ["high-spread"],
    "within twice the spread",
  );
  t.deepEqual(codes(hostAndVm([1000], [800]), "blk-none"), [], "slower");
  const peers = syntheticDocument({ kind: "local", host: "box" }, [
    { spec: variant("hdd", true), iops: { w: [100] } },
    { spec: variant("nvme"), iops: { w: [10_000] } },
  ]);
  peers.profile.direct = true;
  t.deepEqual(deriveWarnings(peers), [], "two local directories are peers: faster is the point");
});

test("buffered profiles: buffered-io on every number, working-set-in-cache where it fits in the RAM that ran fio", (t) => {
  const document = hostAndVm([1000], [900], false);
  document.profile.workloads = [{ id: "rand-read-iops", rw: "randread", bs: 4096, numjobs: 4, iodepth: 1, size: GiB }];
  document.variants[0].memoryBytes = 64 * GiB;
  document.variants[1].memoryBytes = 2 * GiB;
  t.deepEqual(codes(document, "host"), ["buffered-io", "working-set-in-cache"], "4 GiB fit in 64 GiB");
  t.deepEqual(codes(document, "blk-none"), ["buffered-io"], "4 GiB do not fit in 2 GiB");
});

test("high-spread at 2.5 % (or the run's --max-rsd), cpu-bound at 90 % of a CPU per job", (t) => {
  const document = hostAndVm([1000, 1100], [1000, 1010]);
  t.deepEqual(codes(document, "host"), ["high-spread"], "7 % apart");
  t.deepEqual(codes(document, "blk-none"), [], "0.7 % apart");
  document.profile.stopWhenStable = { minRuns: 3, maxRsdPct: 10 };
  t.deepEqual(codes(document, "host"), [], "within a --max-rsd of 10 %");
  const run = document.variants[1].workloads[0].runs[0];
  run.cpu = { user: 20, system: 75, jobs: 1 };
  t.deepEqual(codes(document, "blk-none"), ["cpu-bound"]);
  run.cpu = { user: 20, system: 60, jobs: 16 };
  t.deepEqual(codes(document, "blk-none"), [], "80 % per job");
});

test("not-steady: a run whose IOPS climb over its seconds is flagged, with what SNIA's rule measured", (t) => {
  const document = syntheticDocument({ kind: "local", host: "h" }, [
    { spec: variant("thin", true), iops: { w: [1000, 1000] } },
  ]);
  const [first, second] = document.variants[0].workloads[0].runs;
  const seconds = (value: (second: number) => number) => Array.from({ length: 60 }, (_, index) => value(index));
  first.series = { intervalSec: 1, iops: seconds(() => 1000), bwBytes: seconds(() => 1000 * 4096) };
  // A thin zvol allocating: IOPS climb 40 % over the run.
  second.series = { intervalSec: 1, iops: seconds((s) => 800 + (400 * s) / 59), bwBytes: seconds(() => 0) };
  const flagged = deriveWarnings(document).filter((warning) => warning.code === "not-steady");
  t.is(flagged.length, 1);
  t.regex(flagged[0].message, /^run 2: rounds [\d.]+ % apart \(limit 20 %\), slope [\d.]+ % \(limit 10 %\)$/);
  second.series = first.series;
  t.false(deriveWarnings(document).some((warning) => warning.code === "not-steady"));
});

test("settled-late: a run steady only after its start, its steady part's mean 5 % or more off the whole run's", (t) => {
  const document = syntheticDocument({ kind: "local", host: "h" }, [
    { spec: variant("cache", true), iops: { w: [1000, 1000] } },
  ]);
  const [first, second] = document.variants[0].workloads[0].runs;
  const seconds = (value: (second: number) => number) => Array.from({ length: 60 }, (_, index) => value(index));
  first.series = { intervalSec: 1, iops: seconds(() => 1000), bwBytes: seconds(() => 0) };
  // A writeback cache absorbing the first 30 s at 1500 IOPS, then the disk's 1000.
  second.series = { intervalSec: 1, iops: seconds((s) => (s < 30 ? 1500 : 1000)), bwBytes: seconds(() => 0) };
  const warnings = deriveWarnings(document);
  t.false(
    warnings.some((warning) => warning.code === "not-steady"),
    "it settled",
  );
  const late = warnings.filter((warning) => warning.code === "settled-late");
  t.is(late.length, 1);
  t.regex(late[0].message, /^run 2: steady after \d+ s; its steady part \d+ IOPS, the whole run 1250 \(-\d+\.\d %\)$/);
});

test("not-steady under --steady: fio's judgment of each run stands, so a run it ended is never flagged", (t) => {
  const document = syntheticDocument({ kind: "local", host: "h" }, [
    { spec: variant("thin", true), iops: { w: [1000, 1000] } },
  ]);
  const [first, second] = document.variants[0].workloads[0].runs;
  // The seconds before fio's window held climb: SNIA's rounds over the whole run do not hold.
  const climbing = Array.from({ length: 20 }, (_, index) => (index < 10 ? 500 + 50 * index : 1000));
  for (const run of [first, second]) run.series = { intervalSec: 1, iops: climbing, bwBytes: climbing };
  first.steadyAttained = true;
  second.steadyAttained = true;
  t.false(deriveWarnings(document).some((warning) => warning.code === "not-steady"));
  second.steadyAttained = false;
  const flagged = deriveWarnings(document).filter((warning) => warning.code === "not-steady");
  t.is(flagged.length, 1);
  t.regex(flagged[0].message, /^run 2: fio's steadystate \(.*\) never held in its --runtime$/);
});

test("client-cache: a run through librbd's cache is flagged per bar; fio's rbd engine is never buffered-io", (t) => {
  const document = hostAndVm([1000], [900], false);
  document.variants[0].options = { engine: "rbd", rbdCache: "writearound" };
  document.variants[1].options = { ...document.variants[1].options, rbdCache: "off" };
  t.deepEqual(codes(document, "host"), ["client-cache"], "no page cache under the rbd engine");
  t.deepEqual(codes(document, "blk-none"), ["buffered-io"], "a guest on RBD with cache=none: librbd's cache off");
  const { rows } = chartRows(collectReportData([document]), CHARTS[0]);
  t.deepEqual(
    rows.map((row) => [row.variant, row.flags]),
    [
      ["host", "client-cache"],
      ["blk-none", ""],
    ],
    "a '!' over the cached bar only",
  );
  t.regex(
    renderMarkdown(collectReportData([document])),
    /`client-cache`: an RBD client's cache \(librbd's rbd_cache\)/,
  );
});

test("overran: a 5-s run that fio timed at 61.8 s (a stalled cluster) is flagged, one that ended on time is not", (t) => {
  const document = hostAndVm([1000], [900, 950]);
  document.profile = { ...document.profile, runtimeSec: 5 };
  const [host, vm] = document.variants;
  for (const run of host.workloads[0].runs) if (run.write) run.write.runtimeMs = 5_000;
  const runs = vm.workloads[0].runs;
  if (runs[0].write) runs[0].write.runtimeMs = 5_004;
  if (runs[1].write) runs[1].write.runtimeMs = 61_817;
  const overran = deriveWarnings(document).filter((warning) => warning.code === "overran");
  t.deepEqual(
    overran.map((warning) => [warning.variant, warning.message]),
    [["blk-none", "run 2: 61.8 s where 5 s was asked"]],
  );
  // A job file without a runtime: its runs take what their sizes take.
  document.profile = { ...document.profile, runtimeSec: 0 };
  t.false(deriveWarnings(document).some((warning) => warning.code === "overran"));
});

/**
 * 100 seeded matrices of 20 variants x 3 runs at 4 % noise; a share of the runs at `factor` of their variant's IOPS.
 * Returns the runs flagged as outliers that were not planted, and the planted ones caught.
 */
function outlierTrial(
  share: number,
  factor: number,
): { falseFlags: number; caught: number; planted: number; runs: number } {
  const draw = seededUniforms(17);
  const normal = normalsFrom(draw);
  const tally = { falseFlags: 0, caught: 0, planted: 0, runs: 0 };
  for (let trial = 0; trial < 100; trial += 1) {
    const planted = new Set<string>();
    const document = syntheticDocument(
      { kind: "local", host: "box" },
      Array.from({ length: 20 }, (_, index) => ({
        spec: variant(`v${index}`, index === 0),
        iops: {
          w: Array.from({ length: 3 }, (_, run) => {
            const iops = 1000 * (index + 1) * Math.exp(0.04 * normal());
            if (draw() >= share) return iops;
            planted.add(`v${index} ${run + 1}`);
            return iops * factor;
          }),
        },
      })),
    );
    tally.runs += 60;
    tally.planted += planted.size;
    for (const warning of deriveWarnings(document).filter((entry) => entry.code === "outlier-run"))
      for (const [, run] of warning.message.matchAll(/run (\d+):/g)) {
        if (planted.has(`${warning.variant} ${run}`)) tally.caught += 1;
        else tally.falseFlags += 1;
      }
  }
  return tally;
}

test("outlier-run: a run far from its variant's median, by its layer's robust spread; 3 runs of noise alone, rarely", (t) => {
  // Without the small-sample correction of the pooled deviations, 2.7 % of such runs were flagged.
  const quiet = outlierTrial(0, 1);
  t.true(quiet.falseFlags / quiet.runs <= 0.002, `${quiet.falseFlags} of ${quiet.runs} runs flagged`);
  // One run in ten at half its IOPS (a neighbour's backup): most are named. Two or three of a variant's three runs
  // cannot be (their median is one of them): a fifth of the planted runs are in such variants.
  const noisy = outlierTrial(0.1, 0.5);
  t.log(
    `flagged: ${quiet.falseFlags} of ${quiet.runs} runs of noise; ${noisy.caught} of ${noisy.planted} planted caught`,
  );
  t.true(noisy.caught / noisy.planted >= 0.7, `${noisy.caught} of ${noisy.planted}`);
  // Where two of three runs were slowed, the third is the one that disagrees: flagged, though not planted.
  t.true(noisy.falseFlags / noisy.runs <= 0.02, `${noisy.falseFlags} of ${noisy.runs}`);
  // The message names the run and how far it is.
  const document = syntheticDocument({ kind: "local", host: "box" }, [
    { spec: variant("host", true), iops: { w: [1000, 1010, 990] } },
    { spec: variant("vm"), iops: { w: [800, 404, 808, 796] } },
  ]);
  const [outlier] = deriveWarnings(document).filter((entry) => entry.code === "outlier-run");
  t.is(outlier?.variant, "vm");
  t.is(outlier?.message, "write run 2: 0.51× the median of 4 runs");
});

/** A baseline in `passes` passes of 3 runs among three local targets of 3 runs each, with seeded 2 % noise. */
function passesDocument(seed: number, passes: number, move: number) {
  const normal = normalsFrom(seededUniforms(seed));
  const noisy = (center: number) => center * Math.exp(0.02 * normal());
  const baseline = Array.from({ length: 3 * passes }, (_, index) =>
    noisy(index >= 3 * (passes - 1) ? 1000 * (1 + move) : 1000),
  );
  const document = syntheticDocument({ kind: "local", host: "box" }, [
    { spec: variant("base", true), iops: { w: baseline } },
    ...["a", "b", "c"].map((id) => ({ spec: variant(id), iops: { w: [1, 2, 3].map(() => noisy(800)) } })),
  ]);
  document.order = { seed, sequence: passes === 3 ? ["base", "a", "b", "base", "c", "base"] : ["base", "a", "b", "c"] };
  return document;
}

test("baseline-moved: a baseline 8 % slower at its last pass than at its first is said; 2 % noise alone, rarely", (t) => {
  const moved = deriveWarnings(passesDocument(1, 3, -0.08)).filter((warning) => warning.code === "baseline-moved");
  t.is(moved.length, 1);
  t.is(moved[0].variant, "base");
  t.regex(
    moved[0].message,
    /^write IOPS -\d\.\d % from its first pass to its last \(3 passes of 3 runs; p = [0-9.e-]+ against its runs. spread\)/,
  );
  t.false(
    deriveWarnings(passesDocument(1, 1, -0.08)).some((warning) => warning.code === "baseline-moved"),
    "a baseline measured once has no passes to set against each other",
  );
  let falseAlarms = 0;
  for (let seed = 0; seed < 400; seed += 1)
    if (deriveWarnings(passesDocument(seed, 3, 0)).some((warning) => warning.code === "baseline-moved"))
      falseAlarms += 1;
  t.log(`${falseAlarms} of 400 steady baselines said to move`);
  t.true(falseAlarms <= 4, `${falseAlarms}`);
  // Its passes are not outliers of one another: baseline-moved says what they are.
  t.false(deriveWarnings(passesDocument(1, 3, -0.3)).some((warning) => warning.code === "outlier-run"));
});

test("baseline-moved with nothing repeated: a 5 % move is the bar, and the message says the spread is unknown", (t) => {
  const document = syntheticDocument({ kind: "local", host: "box" }, [
    { spec: variant("base", true), iops: { w: [1000, 980, 930] } },
    ...["a", "b", "c", "d"].map((id) => ({ spec: variant(id), iops: { w: [800] } })),
  ]);
  document.order = { seed: 3, sequence: ["base", "a", "b", "base", "c", "d", "base"] };
  const [moved] = deriveWarnings(document).filter((warning) => warning.code === "baseline-moved");
  t.regex(moved?.message ?? "", /-7\.0 % .*3 passes of 1 run; no run was repeated, so its spread is unknown/);
  document.variants[0].workloads[0].runs[2].write = {
    ...document.variants[0].workloads[0].runs[2].write,
    iops: 960,
  } as never;
  t.false(
    deriveWarnings(document).some((warning) => warning.code === "baseline-moved"),
    "-4 %: within the bar",
  );
});
