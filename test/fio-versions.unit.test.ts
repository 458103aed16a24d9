import { promises as fs } from "node:fs";
import test from "ava";
import { parseFioOutput } from "../bench/core/fio-parser.js";

// Outputs of real fio builds (test/fixtures/fio-versions/README.md says how each was made): the parser must give
// fio's own numbers for every layout since 2.0, or refuse; never a number read from the wrong field.

const FIXTURES = new URL("fixtures/fio-versions/", import.meta.url);
const read = (name: string) => fs.readFile(new URL(name, FIXTURES), "utf8");

interface RawLatency {
  mean: number;
  percentile?: Record<string, number>;
  bins?: Record<string, number>;
}
interface RawSide {
  iops: number;
  bw: number;
  bw_bytes?: number;
  io_bytes: number;
  io_kbytes?: number;
  clat?: RawLatency;
  clat_ns?: RawLatency;
}
type RawJob = Record<"read" | "write" | "mixed", RawSide> & { jobname: string };

/** fio's JSON document inside the text, cut out by hand, independently of the parser. */
function rawJobs(text: string): RawJob[] {
  const start = text.indexOf("{\n");
  const end = text.indexOf("\n}\n", start) + 2;
  return (JSON.parse(text.slice(start, end)) as { jobs: RawJob[] }).jobs;
}

const PERCENTILE_KEYS = [
  ["p50", "50.000000"],
  ["p90", "90.000000"],
  ["p99", "99.000000"],
  ["p99_9", "99.900000"],
] as const;

/** The latency part and its unit: fio < 3 reports µs in `clat`, fio >= 3 ns in `clat_ns`. */
function latencyOf(side: RawSide): { latency: RawLatency; scale: number } {
  return side.clat_ns ? { latency: side.clat_ns, scale: 1 } : { latency: side.clat as RawLatency, scale: 1000 };
}

const singleProcess: Array<[string, "read" | "write" | "mixed"]> = [
  ["fio-2.1-randwrite.json", "write"],
  ["fio-3.33-randrw-unified.json", "mixed"],
  ["fio-3.33-randwrite.json-normal.txt", "write"],
];

for (const [file, direction] of singleProcess) {
  test(`${file}: every number equal to fio's own`, async (t) => {
    const text = await read(file);
    const [raw] = rawJobs(text);
    const [job] = parseFioOutput(text, file).jobs;
    const side = raw[direction];
    const parsed = job[direction];
    if (!parsed) return t.fail(`no ${direction} direction parsed`);
    const { latency, scale } = latencyOf(side);
    t.is(parsed.iops, side.iops);
    t.is(parsed.bwBytes, side.bw_bytes ?? side.bw * 1024);
    t.is(parsed.ioBytes, side.io_kbytes !== undefined ? side.io_bytes : side.io_bytes * 1024);
    t.is(parsed.latencyNs.mean, latency.mean * scale);
    for (const [key, fioKey] of PERCENTILE_KEYS)
      t.is(parsed.latencyNs[key], (latency.percentile?.[fioKey] ?? 0) * scale);
    t.is(parsed.latencyNs.percentilesEstimated, undefined, "fio's own percentiles are no estimate");
  });
}

test("unified_rw_reporting: the mixed direction is read, and no read or write is invented", async (t) => {
  const [job] = parseFioOutput(await read("fio-3.33-randrw-unified.json")).jobs;
  t.truthy(job.mixed);
  t.is(job.read, undefined);
  t.is(job.write, undefined);
});

test("json,normal: the text fio prints after the JSON document is ignored, and before it too", async (t) => {
  const text = await read("fio-3.33-randwrite.json-normal.txt");
  t.regex(text.slice(text.lastIndexOf("}")), /Run status group/, "the fixture has fio's normal output after the JSON");
  t.regex(text.slice(0, text.indexOf("{")), /Starting 1 process/, "and its start-up lines before it");
  t.is(parseFioOutput(text).jobs[0].name, "randwrite");
  t.throws(() => parseFioOutput(text.slice(0, text.indexOf("\n}\n") - 40)), { message: /truncated/ });
});

// Each json+ fixture has two processes of one section; the first alone, without fio's percentile list, must give
// fio's percentiles from its histogram: that proves the bucket layout is read right.
const jsonPlus: Array<[string, "read" | "write"]> = [
  ["fio-2.15-randwrite-2jobs.jsonplus.json", "write"],
  ["fio-3.1-randread-2jobs.jsonplus.json", "read"],
  ["fio-3.33-randwrite-2jobs.jsonplus.json", "write"],
];

for (const [file, direction] of jsonPlus) {
  test(`${file}: percentiles from the histogram equal fio's, for one process and merged`, async (t) => {
    const text = await read(file);
    const document = JSON.parse(text.slice(text.indexOf("{"))) as { jobs: RawJob[] };
    t.is(document.jobs.length, 2);
    const first = document.jobs[0];
    const { latency, scale } = latencyOf(first[direction]);
    t.truthy(latency.bins, "json+ carries the histogram");
    const fioPercentiles = latency.percentile ?? {};
    delete latency.percentile;
    const alone = parseFioOutput(JSON.stringify({ ...document, jobs: [first] })).jobs[0][direction];
    for (const [key, fioKey] of PERCENTILE_KEYS) t.is(alone?.latencyNs[key], fioPercentiles[fioKey] * scale, key);

    const merged = parseFioOutput(text).jobs[0][direction];
    const perProcess = rawJobs(text).map((job) => (job[direction].clat_ns ?? job[direction].clat)?.percentile ?? {});
    const p50s = perProcess.map((percentiles) => percentiles["50.000000"] * scale);
    // The merged median lies between the processes' medians; a bucket index read as a latency does not.
    t.true((merged?.latencyNs.p50 ?? 0) >= Math.min(...p50s) && (merged?.latencyNs.p50 ?? 0) <= Math.max(...p50s));
    t.is(merged?.latencyNs.percentilesEstimated, undefined, "merged histograms are exact");
  });
}

test("several processes without json+: the percentiles are marked as an estimate", async (t) => {
  const text = await read("fio-3.33-randwrite-2jobs.jsonplus.json");
  const withoutBins = JSON.parse(text) as { jobs: RawJob[] };
  for (const job of withoutBins.jobs) delete job.write.clat_ns?.bins;
  const merged = parseFioOutput(JSON.stringify(withoutBins)).jobs[0].write;
  t.true(merged?.latencyNs.percentilesEstimated);
  t.truthy(merged?.latencyNs.p99);
});

test("a json+ histogram with a bucket that is neither a number nor fio's constants is refused", async (t) => {
  const text = await read("fio-2.15-randwrite-2jobs.jsonplus.json");
  const document = JSON.parse(text) as { jobs: RawJob[] };
  for (const job of document.jobs) {
    const bins = job.write.clat?.bins as Record<string, number>;
    bins.FIO_IO_U_PLAT_NEW = 3;
  }
  t.throws(() => parseFioOutput(JSON.stringify(document), "odd.json"), {
    message: 'odd.json: json+ histogram has a bucket "FIO_IO_U_PLAT_NEW" that is no number',
  });
});

test("etcd's check: the fdatasync latency fio 3.33 and 3.39 report apart from the writes, as fio's own numbers", async (t) => {
  for (const name of ["fio-3.33-etcd.json", "fio-3.39-etcd.json"]) {
    const text = await read(name);
    const raw = (JSON.parse(text) as { jobs: Array<{ sync: { lat_ns: RawLatency & { N: number } } }> }).jobs[0].sync
      .lat_ns;
    const [job] = parseFioOutput(text, name).jobs;
    const sync = job.write?.syncLatencyNs;
    t.is(raw.N, 10_029, `${name}: one fdatasync per 2300-byte write of 22 MiB`);
    t.is(sync?.mean, raw.mean, name);
    for (const [key, percentile] of [...PERCENTILE_KEYS, ["p99_99", "99.990000"] as const])
      t.is(sync?.[key], raw.percentile?.[percentile], `${name} ${key}`);
    // The writes' own completion latency stays the writes'.
    t.not(job.write?.latencyNs.p99, sync?.p99);
  }
  const [plain] = parseFioOutput(await read("fio-3.33-randrw-unified.json"), "no syncs").jobs;
  t.is(plain.mixed?.syncLatencyNs, undefined, "no syncs, no sync latency");
});
