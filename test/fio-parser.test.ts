import { promises as fs } from "node:fs";
import test from "ava";
import { parseFioOutput } from "../bench/core/fio-parser.js";
import { rawJobs, runFio } from "./helpers/fio.js";

const GLOBAL = "[global]\nioengine=psync\nruntime=1\nsize=4m\ndirectory=@DIR@\n";

test("group_reporting: one result per section, equal to fio's own numbers", async (t) => {
  const stdout = await runFio(
    `${GLOBAL}group_reporting=1\n[small]\nstonewall\nrw=randwrite\nbs=4k\nnumjobs=2\n[large]\nstonewall\nrw=write\nbs=64k\n`,
  );
  const raw = rawJobs(stdout);
  const parsed = parseFioOutput(stdout);
  t.deepEqual(
    parsed.jobs.map((job) => job.name),
    ["small", "large"],
  );
  t.regex(parsed.fioVersion, /^fio-\d/);
  for (const [index, job] of parsed.jobs.entries()) {
    const fio = raw[index].write;
    t.truthy(job.write);
    t.is(job.read, undefined, "a write-only job has no read direction");
    t.is(job.write?.iops, fio.iops);
    t.is(job.write?.bwBytes, fio.bw_bytes);
    t.is(job.write?.ioBytes, fio.io_bytes);
    t.is(job.write?.runtimeMs, fio.runtime);
    t.is(job.write?.latencyNs.mean, fio.clat_ns.mean);
    t.is(job.write?.latencyNs.p99, fio.clat_ns.percentile?.["99.000000"]);
    t.is(job.write?.latencyNs.p99_9, fio.clat_ns.percentile?.["99.900000"]);
  }
});

test("without group_reporting the processes of a section are added up", async (t) => {
  const stdout = await runFio(`${GLOBAL}[parallel]\nrw=randwrite\nbs=4k\nnumjobs=3\n`);
  const raw = rawJobs(stdout);
  t.is(raw.length, 3, "fio reports each process on its own");
  const [job] = parseFioOutput(stdout).jobs;
  const sum = (pick: (job: (typeof raw)[number]) => number) => raw.reduce((total, entry) => total + pick(entry), 0);
  t.is(
    job.write?.iops,
    sum((entry) => entry.write.iops),
  );
  t.is(
    job.write?.ioBytes,
    sum((entry) => entry.write.io_bytes),
  );
  t.is(
    job.write?.bwBytes,
    sum((entry) => entry.write.bw_bytes),
  );
  t.is(job.write?.runtimeMs, Math.max(...raw.map((entry) => entry.write.runtime)));
  const ios = sum((entry) => entry.write.clat_ns.N);
  const weightedMean = raw.reduce(
    (total, entry) => total + (entry.write.clat_ns.mean * entry.write.clat_ns.N) / ios,
    0,
  );
  t.true(Math.abs((job.write?.latencyNs.mean ?? 0) - weightedMean) < 1e-6 * weightedMean);
});

test("mixed read/write: both directions, each from its own side of fio's output", async (t) => {
  const stdout = await runFio(`${GLOBAL}[mixed]\nrw=randrw\nrwmixread=70\nbs=4k\n`);
  const [raw] = rawJobs(stdout);
  const [job] = parseFioOutput(stdout).jobs;
  t.is(job.read?.iops, raw.read.iops);
  t.is(job.write?.iops, raw.write.iops);
  t.true((job.read?.ioBytes ?? 0) > (job.write?.ioBytes ?? Infinity), "70% reads move more bytes than 30% writes");
});

test("json+: percentiles from the histogram agree with fio's, and several processes merge exactly", async (t) => {
  const single = await runFio(`${GLOBAL}[one]\nrw=randwrite\nbs=4k\n`, "json+");
  const [raw] = rawJobs(single);
  t.truthy(raw.write.clat_ns.bins, "json+ carries the histogram");
  // Without fio's percentile list the parser must compute the same values from the bins.
  const withoutPercentiles = single.replace(/"percentile"\s*:\s*\{[^}]*\},?/g, "");
  const [fromBins] = parseFioOutput(withoutPercentiles).jobs;
  t.is(fromBins.write?.latencyNs.p50, raw.write.clat_ns.percentile?.["50.000000"]);
  t.is(fromBins.write?.latencyNs.p99, raw.write.clat_ns.percentile?.["99.000000"]);
  t.is(fromBins.write?.latencyNs.p99_9, raw.write.clat_ns.percentile?.["99.900000"]);

  const several = await runFio(`${GLOBAL}[two]\nrw=randwrite\nbs=4k\nnumjobs=2\n`, "json+");
  const rawSeveral = rawJobs(several);
  const merged = new Map<number, number>();
  for (const entry of rawSeveral) {
    for (const [value, count] of Object.entries(entry.write.clat_ns.bins ?? {}))
      merged.set(Number(value), (merged.get(Number(value)) ?? 0) + count);
  }
  const total = [...merged.values()].reduce((sum, count) => sum + count, 0);
  const sorted = [...merged.entries()].sort((a, b) => a[0] - b[0]);
  let running = 0;
  const p99 = sorted.find(([, count]) => {
    running += count;
    return running >= 0.99 * total;
  })?.[0];
  const [job] = parseFioOutput(several).jobs;
  t.is(job.write?.latencyNs.p99, p99);
});

test("fio before 3.0: clat in µs and io_bytes in KiB are normalised to ns and bytes", async (t) => {
  const stdout = await runFio(`${GLOBAL}[old]\nrw=randwrite\nbs=4k\n`);
  const modern = parseFioOutput(stdout).jobs[0].write;
  const document = JSON.parse(stdout) as { jobs: Array<Record<string, Record<string, unknown>>> };
  for (const job of document.jobs) {
    for (const side of ["read", "write", "trim"]) {
      const direction = job[side];
      const clat = direction.clat_ns as { mean: number; min: number; max: number; percentile?: Record<string, number> };
      direction.clat = {
        ...clat,
        mean: clat.mean / 1000,
        min: clat.min / 1000,
        max: clat.max / 1000,
        percentile: Object.fromEntries(
          Object.entries(clat.percentile ?? {}).map(([key, value]) => [key, value / 1000]),
        ),
      };
      delete direction.clat_ns;
      direction.io_bytes = (direction.io_kbytes as number) ?? 0;
      delete direction.io_kbytes;
      delete direction.bw_bytes;
    }
  }
  const old = parseFioOutput(JSON.stringify(document)).jobs[0].write;
  t.is(old?.ioBytes, Math.floor((modern?.ioBytes ?? 0) / 1024) * 1024);
  t.true(Math.abs((old?.latencyNs.mean ?? 0) - (modern?.latencyNs.mean ?? 0)) < 1e-6 * (modern?.latencyNs.mean ?? 1));
  t.is(old?.latencyNs.p99, modern?.latencyNs.p99);
});

test("notes fio prints before the JSON document are skipped", async (t) => {
  const stdout = await runFio(`${GLOBAL}[noted]\nrw=randwrite\nbs=4k\n`);
  const parsed = parseFioOutput(`note: both iodepth >= 1 and synchronous I/O engine are selected\n${stdout}`);
  t.is(parsed.jobs[0].name, "noted");
});

test("malformed output: one clear error saying what is wrong", async (t) => {
  const stdout = await runFio(`${GLOBAL}[ok]\nrw=randwrite\nbs=4k\n`);
  t.throws(() => parseFioOutput("", "out.json"), { message: "out.json: fio output is empty" });
  t.throws(
    () => parseFioOutput("fio: pid=1, err=28/file:io_u.c:1896, func=io_u error, error=No space left on device\n"),
    {
      message: /no JSON document in fio output/,
    },
  );
  t.throws(() => parseFioOutput(stdout.slice(0, stdout.length / 2), "cut.json"), {
    message: /^cut\.json: fio output is truncated or not valid JSON/,
  });
  t.throws(() => parseFioOutput('{"fio version": "fio-3.33", "jobs": []}'), { message: /jobs: fio reported no jobs/ });
  t.throws(() => parseFioOutput('{"jobs": []}'), { message: /fio version/ });
  const failed = JSON.parse(stdout) as { jobs: Array<{ error: number }> };
  failed.jobs[0].error = 28;
  t.throws(() => parseFioOutput(JSON.stringify(failed)), { message: /fio job "ok" failed with error 28/ });
});

test("fio --client output: every client's job added up, equal to fio's own 'All clients' sum, which is not counted twice", async (t) => {
  // Two clients of one fio server, run with fio 3.33 here: `fio --client=localhost j.fio --client=127.0.0.1 j.fio`.
  const text = await fs.readFile(new URL("fixtures/fio-3.33-client-two-hosts.json", import.meta.url), "utf8");
  const clients = (JSON.parse(text) as { client_stats: Array<{ jobname: string; write: { iops: number } }> })
    .client_stats;
  const allClients = clients.find((job) => job.jobname === "All clients");
  const parsed = parseFioOutput(text);
  t.deepEqual(
    parsed.jobs.map((job) => job.name),
    ["w"],
  );
  t.is(parsed.jobs[0].write?.iops, allClients?.write.iops);
  t.is(parsed.jobs[0].cpu?.jobs, 2, "one job per client");
});
