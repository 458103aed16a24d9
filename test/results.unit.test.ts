import { promises as fs } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { addRun, newResultsDocument, type Run, stat, summarize, toResultsDocument } from "../bench/core/results.js";
import { writeFileAtomic } from "../bench/util/files.js";
import { syntheticDocument, variant } from "./helpers/documents.js";
import { scratchDir } from "./helpers/fio.js";

const run = (iops: number, latencyMean: number): Run => ({
  fioVersion: "fio-3.33",
  startedAt: "2026-01-01T00:00:00.000Z",
  write: {
    iops,
    bwBytes: iops * 4096,
    ioBytes: iops * 4096 * 60,
    runtimeMs: 60_000,
    latencyNs: { mean: latencyMean, p99: latencyMean * 3 },
  },
});

test("stat gives the mean, sample stdev, min and max", (t) => {
  const values = [10, 12, 14];
  const result = stat(values);
  t.is(result.n, 3);
  t.is(result.mean, 12);
  t.is(result.stdev, Math.sqrt(((10 - 12) ** 2 + (14 - 12) ** 2) / 2));
  t.is(result.min, 10);
  t.is(result.max, 14);
  t.is(stat([5]).stdev, 0, "a single run has no spread");
});

test("summaries cover only the directions and metrics that were measured", (t) => {
  const summary = summarize([run(100, 1000), run(300, 3000)]);
  t.is(summary.read, undefined);
  t.is(summary.write?.iops?.mean, 200);
  t.is(summary.write?.latP99Ns?.max, 9000);
  t.is(summary.write?.latP50Ns, undefined, "p50 was not reported, so it has no summary");
});

test("addRun groups runs by variant and workload and keeps the summary current", (t) => {
  const document = newResultsDocument(
    { kind: "local", host: "box" },
    { id: "ars", runtimeSec: 60, repeat: 2, ioengine: "posixaio", direct: false },
    new Date(0),
  );
  const spec = { id: "nvme", layer: "local" as const, options: { path: "/mnt" }, baseline: true };
  addRun(document, spec, { id: "w1", title: "W1" }, run(100, 10));
  addRun(document, spec, { id: "w1", title: "W1" }, run(200, 20));
  addRun(document, { ...spec, id: "sata", baseline: false }, { id: "w1" }, run(50, 40));
  t.deepEqual(
    document.variants.map((variant) => [variant.id, variant.workloads[0].runs.length]),
    [
      ["nvme", 2],
      ["sata", 1],
    ],
  );
  t.is(document.variants[0].workloads[0].summary.write?.iops?.mean, 150);
  t.is(
    toResultsDocument(JSON.parse(JSON.stringify(document)), "doc").variants.length,
    2,
    "the document validates against its own schema",
  );
});

test("a document of another shape is rejected naming the first problem", (t) => {
  t.throws(
    () =>
      toResultsDocument(
        {
          schema: "layerbench/results@1",
          createdAt: "x",
          source: { kind: "local", host: "h" },
          profile: {},
          variants: [],
        },
        "r.json",
      ),
    {
      message: /^r\.json is not a layerbench\/results@2 document: profile\.id: /,
    },
  );
  t.throws(() => toResultsDocument({ schema: "other" }, "r.json"), { message: /schema: / });
});

test("a run's series is refused when a second is negative, text or null (a NaN in JSON), naming the series", (t) => {
  const document = newResultsDocument(
    { kind: "local", host: "box" },
    { id: "ars", runtimeSec: 3, repeat: 1, ioengine: "posixaio", direct: false },
    new Date(0),
  );
  const spec = { id: "nvme", layer: "local" as const, options: {}, baseline: true };
  addRun(
    document,
    spec,
    { id: "w1" },
    { ...run(100, 10), series: { intervalSec: 1, iops: [1, 2, 3], bwBytes: [4, 5, 6] } },
  );
  const plain = () => JSON.parse(JSON.stringify(document));
  t.is(toResultsDocument(plain(), "r.json").variants[0].workloads[0].runs[0].series?.iops[2], 3, "a good one is kept");
  for (const bad of [-1, "2", null]) {
    const edited = plain();
    edited.variants[0].workloads[0].runs[0].series.bwBytes[1] = bad;
    t.throws(() => toResultsDocument(edited, "r.json"), {
      message: /variants\.0\.workloads\.0\.runs\.0\.series\.bwBytes: expected an array of numbers of at least 0/,
    });
  }
});

test("a document read back has its summaries computed again from its runs: a hand-edited summary never reaches a report", (t) => {
  const document = newResultsDocument(
    { kind: "local", host: "box" },
    { id: "ars", runtimeSec: 60, repeat: 2, ioengine: "posixaio", direct: false },
    new Date(0),
  );
  const spec = { id: "nvme", layer: "local" as const, options: {}, baseline: true };
  addRun(document, spec, { id: "w" }, run(1000, 50_000));
  addRun(document, spec, { id: "w" }, run(3000, 30_000));
  const edited = JSON.parse(JSON.stringify(document));
  edited.variants[0].workloads[0].summary.write.iops.mean = 999_999;
  const read = toResultsDocument(edited, "edited.json");
  t.is(read.variants[0].workloads[0].summary.write?.iops?.mean, 2000);
  // Not even read: a summary of another shape, or none, is replaced as well.
  edited.variants[0].workloads[0].summary = { write: "nonsense" };
  t.is(toResultsDocument(edited, "edited.json").variants[0].workloads[0].summary.write?.iops?.n, 2);
  delete edited.variants[0].workloads[0].summary;
  t.is(toResultsDocument(edited, "edited.json").variants[0].workloads[0].summary.write?.iops?.max, 3000);
});

test("a full disk: a file is written whole or not at all, and the error names it and says why", async (t) => {
  const dir = await scratchDir();
  t.teardown(dir.cleanup);
  const path = join(dir.path, "report.html");
  await fs.writeFile(path, "the report of before");
  // The temporary file is the kernel's /dev/full: every write to it fails with ENOSPC, as on a full disk.
  await fs.symlink("/dev/full", `${path}.${process.pid}.tmp`);
  await t.throwsAsync(writeFileAtomic(path, "<html>a new report</html>"), {
    message: `cannot write ${path}: no space left on device`,
  });
  t.is(await fs.readFile(path, "utf8"), "the report of before", "the old file stays whole");
  t.deepEqual(await fs.readdir(dir.path), ["report.html"], "no temporary file left");
});

test("a document of before the per-second series (results@1) is still read, and written back as @2", (t) => {
  const document = syntheticDocument({ kind: "local", host: "h" }, [{ spec: variant("a", true), iops: { w: [100] } }]);
  const old = { ...JSON.parse(JSON.stringify(document)), schema: "layerbench/results@1" };
  const read = toResultsDocument(old, "old.json");
  t.is(read.schema, "layerbench/results@2");
  t.is(read.variants[0].workloads[0].runs[0].series, undefined);
  // A run with its series keeps it.
  const run = document.variants[0].workloads[0].runs[0];
  run.series = { intervalSec: 1, iops: [90, 110], bwBytes: [90 * 4096, 110 * 4096] };
  t.deepEqual(
    toResultsDocument(JSON.parse(JSON.stringify(document)), "new.json").variants[0].workloads[0].runs[0].series,
    run.series,
  );
});

test("a document with a variant twice or two baselines is refused, naming them", (t) => {
  const document = syntheticDocument({ kind: "local", host: "box" }, [
    { spec: variant("nvme", true), iops: { "randwrite-4k": [1000] } },
    { spec: variant("sata"), iops: { "randwrite-4k": [500] } },
  ]);
  const twice = { ...document, variants: [...document.variants, document.variants[1]] };
  t.throws(() => toResultsDocument(JSON.parse(JSON.stringify(twice)), "r.json"), {
    message: 'r.json: variant "sata" is there twice: each variant once',
  });
  const two = { ...document, variants: document.variants.map((entry) => ({ ...entry, baseline: true })) };
  t.throws(() => toResultsDocument(JSON.parse(JSON.stringify(two)), "r.json"), {
    message: 'r.json: 2 baselines ("nvme", "sata"): a document has one',
  });
});
