import { existsSync, promises as fs } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import { toResultsDocument } from "../bench/core/results.js";
import { readSeries } from "../bench/local/series-logs.js";
import { runCli } from "./helpers/cli.js";
import { rawJobs, runFio, scratchDir } from "./helpers/fio.js";

// `layerbench import`: fio outputs made outside layerbench, by real fio, with several jobs reported apart (no
// group_reporting), as a homelab script writes them.

const TWO_JOBS = (name: string) =>
  `[${name}]\nrw=randwrite\nbs=4k\nsize=2m\nnumjobs=2\nruntime=1\nioengine=psync\ndirectory=@DIR@\n`;
// Two groups in one output: the second section waits for the first (stonewall).
const TWO_GROUPS =
  "[global]\nbs=4k\nsize=2m\nruntime=1\ndirectory=@DIR@\n[seqread]\nrw=read\nnumjobs=2\n[randwrite]\nstonewall\nrw=randwrite\n";

const outputs = {
  nvme: [await runFio(TWO_JOBS("randwrite")), await runFio(TWO_JOBS("randwrite"))],
  sata: [await runFio(TWO_JOBS("randwrite")), await runFio(TWO_JOBS("randwrite"))],
  groups: await runFio(TWO_GROUPS),
};

/** fio's own numbers of one output, added up over its jobs (of one group, when given). */
function fioSum(stdout: string, side: "read" | "write", jobname?: string) {
  const jobs = rawJobs(stdout).filter((job) => jobname === undefined || job.jobname === jobname);
  return {
    processes: jobs.length,
    iops: jobs.reduce((sum, job) => sum + job[side].iops, 0),
    bwBytes: jobs.reduce((sum, job) => sum + job[side].bw_bytes, 0),
    ioBytes: jobs.reduce((sum, job) => sum + job[side].io_bytes, 0),
  };
}

async function readDocument(out: string) {
  return toResultsDocument(JSON.parse(await fs.readFile(join(out, "results.json"), "utf8")), "results.json");
}

test("a directory per run, VARIANT/WORKLOAD.json in each: repeats, jobs added up as fio's own numbers, the report written", async (t) => {
  const dir = await scratchDir();
  t.teardown(dir.cleanup);
  for (const [index, run] of ["run1", "run2"].entries()) {
    for (const variant of ["nvme", "sata"] as const) {
      await fs.mkdir(join(dir.path, run, variant), { recursive: true });
      await fs.writeFile(join(dir.path, run, variant, "randwrite.json"), outputs[variant][index]);
    }
  }
  const out = join(dir.path, "out");
  const result = await runCli([
    "import",
    join(dir.path, "run1"),
    join(dir.path, "run2"),
    "--out",
    out,
    "--baseline",
    "sata",
    "--layer",
    "nvme=host",
  ]);
  t.is(result.code, 0, result.stderr);
  t.regex(result.stdout, /^imported 4 run\(s\) of 2 variant\(s\)$/m);
  const document = await readDocument(out);
  t.deepEqual(
    document.variants.map((variant) => [variant.id, variant.layer, variant.baseline]),
    [
      ["sata", "local", true],
      ["nvme", "host", false],
    ],
  );
  t.like(document.source, { kind: "import" });
  for (const variant of ["nvme", "sata"] as const) {
    const [workload] = document.variants.find((entry) => entry.id === variant)?.workloads ?? [];
    t.is(workload.id, "randwrite");
    t.is(workload.runs.length, 2, "two inputs of one variant and workload are repeats");
    for (const [index, run] of workload.runs.entries()) {
      const fio = fioSum(outputs[variant][index], "write");
      t.is(fio.processes, 2, "fio reported the two jobs apart");
      t.is(run.write?.iops, fio.iops);
      t.is(run.write?.bwBytes, fio.bwBytes);
      t.is(run.write?.ioBytes, fio.ioBytes);
      t.is(run.cpu?.jobs, 2);
      t.like(run.fioOptions, { rw: "randwrite", bs: "4k", numjobs: "2", ioengine: "psync" });
      t.is(run.fioVersion, (JSON.parse(outputs[variant][index]) as { "fio version": string })["fio version"]);
    }
  }
  t.like(document.profile, { id: "import", runtimeSec: 1, ioengine: "psync", direct: false, repeat: 2 });
  t.deepEqual(document.profile.workloads, [
    { id: "randwrite", rw: "randwrite", bs: 4096, numjobs: 2, iodepth: 1, size: 2 * 1024 ** 2 },
  ]);
  for (const file of ["report.html", "report.md", "iops.svg"]) t.true(existsSync(join(out, file)), file);
  t.regex(await fs.readFile(join(out, "report.md"), "utf8"), /^\| nvme \| /m);
});

test("a map file variant -> workload -> outputs: an output of two groups is two workloads, each group added up", async (t) => {
  const dir = await scratchDir();
  t.teardown(dir.cleanup);
  const map = join(dir.path, "runs.json");
  await fs.writeFile(
    map,
    JSON.stringify({
      host: { randwrite: outputs.sata.map((text) => JSON.parse(text)) },
      "vm 4g": { randwrite: outputs.nvme[0], mixed: JSON.parse(outputs.groups) },
    }),
  );
  const out = join(dir.path, "out");
  const result = await runCli(["import", map, "--out", out]);
  t.is(result.code, 0, result.stderr);
  const document = await readDocument(out);
  t.deepEqual(
    document.variants.map((variant) => [
      variant.id,
      variant.baseline,
      variant.workloads.map((workload) => workload.id),
    ]),
    [
      ["host", true, ["randwrite"]],
      ["vm 4g", false, ["randwrite", "mixed.seqread", "mixed.randwrite"]],
    ],
  );
  const vm = document.variants[1];
  const seqread = fioSum(outputs.groups, "read", "seqread");
  t.is(seqread.processes, 2);
  t.is(vm.workloads[1].runs[0].read?.iops, seqread.iops);
  t.is(vm.workloads[1].runs[0].read?.ioBytes, seqread.ioBytes);
  t.is(vm.workloads[2].runs[0].write?.iops, fioSum(outputs.groups, "write", "randwrite").iops);
  t.is(vm.workloads[0].runs[0].write?.iops, fioSum(outputs.nvme[0], "write").iops, "fio's text, as a string, too");
  t.true(existsSync(join(out, "report.html")));
});

test("bad input: one line naming the file and the JSON path; nothing written", async (t) => {
  const dir = await scratchDir();
  t.teardown(dir.cleanup);
  const out = join(dir.path, "out");
  const broken = JSON.parse(outputs.nvme[0]);
  broken.jobs[0].write.iops = "many";
  const cases: Array<[string, unknown, RegExp]> = [
    [
      "bad-output.json",
      { nvme: { randwrite: [JSON.parse(outputs.nvme[1]), broken] } },
      /^layerbench: .*bad-output\.json: \$\.nvme\.randwrite\[1\]: not a fio JSON result: jobs\.0\.write\.iops: /,
    ],
    ["not-a-map.json", [1, 2], /^layerbench: .*not-a-map\.json: \$: expected an object mapping variant -> workload/],
    [
      "one-output.json",
      JSON.parse(outputs.nvme[0]),
      /^layerbench: .*one-output\.json: one fio output names no variant: put it at VARIANT\/one-output\.json/,
    ],
    [
      "odd key.json",
      { "a b": { "x y": 42 } },
      /^layerbench: .*odd key\.json: \$\["a b"\]\["x y"\]: expected a fio JSON output/,
    ],
  ];
  for (const [name, content, message] of cases) {
    await fs.writeFile(join(dir.path, name), JSON.stringify(content));
    const result = await runCli(["import", join(dir.path, name), "--out", out]);
    t.is(result.code, 1, name);
    t.is(result.stderr.trim().split("\n").length, 1, result.stderr);
    t.regex(result.stderr.trim(), message);
    t.false(existsSync(out), "nothing written");
  }
  const good = join(dir.path, "good.json");
  await fs.writeFile(good, JSON.stringify({ a: { w: JSON.parse(outputs.nvme[0]) } }));
  const baseline = await runCli(["import", good, "--out", out, "--baseline", "b"]);
  t.regex(baseline.stderr, /^layerbench: --baseline b: no such variant in the inputs: use one of a$/m);
  const layer = await runCli(["import", good, "--out", out, "--layer", "a=cloud"]);
  t.regex(
    layer.stderr,
    /^layerbench: --layer a=cloud is not allowed: use VARIANT=LAYER, LAYER one of host, vm, k8s, local$/m,
  );
  t.false(existsSync(out));
});

test("a queue-depth sweep in fio-plot's naming: workloads in numeric order, drawn as lines against iodepth", async (t) => {
  const dir = await scratchDir();
  t.teardown(dir.cleanup);
  const depths = [1, 2, 4, 16];
  await fs.mkdir(join(dir.path, "in", "nvme"), { recursive: true });
  for (const iodepth of depths) {
    // One real output, its job options naming each queue depth.
    const output = JSON.parse(outputs.nvme[0]) as { jobs: Array<{ "job options": Record<string, string> }> };
    for (const job of output.jobs) job["job options"].iodepth = String(iodepth);
    await fs.writeFile(join(dir.path, "in", "nvme", `randwrite-${iodepth}-2.json`), JSON.stringify(output));
  }
  const out = join(dir.path, "out");
  const result = await runCli(["import", join(dir.path, "in"), "--out", out]);
  t.is(result.code, 0, result.stderr);
  const document = await readDocument(out);
  t.deepEqual(
    document.variants[0].workloads.map((workload) => workload.id),
    depths.map((iodepth) => `randwrite-${iodepth}-2`),
    "1, 2, 4, 16: not the directory's 1, 16, 2, 4",
  );
  const iops = await fs.readFile(join(out, "iops.svg"), "utf8");
  t.true(iops.includes("Queue depth (iodepth)"));
  t.true(iops.includes(">randwrite 4 KiB · 2 jobs</text>"), "one panel: rw, block size and numjobs");
});

test("fio's per-second logs beside an output, named as fio-plot's bench-fio names them, give the run its series", async (t) => {
  const dir = await scratchDir();
  t.teardown(dir.cleanup);
  const fixture = fileURLToPath(new URL("fixtures/fio-3.33-logs-4jobs", import.meta.url));
  const variantDir = join(dir.path, "in", "nvme");
  await fs.mkdir(variantDir, { recursive: true });
  // bench-fio: MODE-IODEPTH-NUMJOBS.json beside MODE-iodepth-IODEPTH-numjobs-NUMJOBS_iops.N.log.
  await fs.copyFile(join(fixture, "output.json"), join(variantDir, "randwrite-1-4.json"));
  for (const name of await fs.readdir(fixture)) {
    if (name.endsWith(".log"))
      await fs.copyFile(join(fixture, name), join(variantDir, name.replace(/^run_/, "randwrite-iodepth-1-numjobs-4_")));
  }
  const out = join(dir.path, "out");
  const result = await runCli(["import", join(dir.path, "in"), "--out", out]);
  t.is(result.code, 0, result.stderr);
  const [run] = (await readDocument(out)).variants[0].workloads[0].runs;
  const expected = await readSeries(fixture);
  t.deepEqual(run.series, expected);
  t.is(run.series?.iops.length, 4);
  t.true(existsSync(join(out, "series.svg")));
});

test("bench-fio's own layout, OUT/TARGET/BS/MODE-IODEPTH-NUMJOBS.json: each target a variant, on OUT and on one target", async (t) => {
  const dir = await scratchDir();
  t.teardown(dir.cleanup);
  const out = join(dir.path, "bench-out");
  // fio-plot bench_fio/benchlib/supporting.py generate_output_directory: OUTPUT/basename(target)/block_size, and
  // a run-N folder below it for --precondition-repeat's preconditioning runs.
  for (const target of ["nvme0n1", "sdb"]) {
    for (const [index, name] of ["randwrite-1-2.json", "randwrite-16-2.json"].entries())
      await fs
        .mkdir(join(out, target, "4k"), { recursive: true })
        .then(() => fs.writeFile(join(out, target, "4k", name), outputs[target === "sdb" ? "sata" : "nvme"][index]));
    await fs.mkdir(join(out, target, "4k", "run-1"), { recursive: true });
    await fs.writeFile(join(out, target, "4k", "run-1", "write-32-1.json"), outputs.groups);
  }
  const whole = join(dir.path, "whole");
  const result = await runCli(["import", out, "--out", whole]);
  t.is(result.code, 0, result.stderr);
  const document = await readDocument(whole);
  t.deepEqual(
    document.variants.map((variant) => [variant.id, variant.workloads.map((workload) => workload.id)]),
    [
      ["nvme0n1", ["randwrite-1-2", "randwrite-16-2"]],
      ["sdb", ["randwrite-1-2", "randwrite-16-2"]],
    ],
    "named after the targets; one block size, so the workloads keep bench-fio's names; no preconditioning run",
  );
  // One target's directory: the variant is the target, not its block-size folder.
  const one = join(dir.path, "one");
  t.is((await runCli(["import", join(out, "nvme0n1"), "--out", one])).code, 0);
  t.deepEqual(
    (await readDocument(one)).variants.map((variant) => variant.id),
    ["nvme0n1"],
  );
  // Two block sizes: the folder tells the workloads apart.
  await fs.mkdir(join(out, "nvme0n1", "64k"));
  await fs.writeFile(join(out, "nvme0n1", "64k", "randwrite-1-2.json"), outputs.nvme[0]);
  const two = join(dir.path, "two");
  t.is((await runCli(["import", join(out, "nvme0n1"), "--out", two])).code, 0);
  t.deepEqual(
    (await readDocument(two)).variants[0].workloads.map((workload) => workload.id),
    ["4k/randwrite-1-2", "4k/randwrite-16-2", "64k/randwrite-1-2"],
  );
});
