import { existsSync, promises as fs } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import { resolveProfile } from "../bench/core/profiles.js";
import { toResultsDocument } from "../bench/core/results.js";
import { renderFioScript } from "../bench/remote/fio-script.js";
import { runCli } from "./helpers/cli.js";
import { quickJobFile, scratchDir, unwritableDir } from "./helpers/fio.js";

const ARS_WORKLOADS = ["randwrite-4k-qd1", "randwrite-64k-16x16", "randwrite-1m-qd1"];
const REPORT_FILES = ["io_bandwidth.svg", "io_written.svg", "iops.svg", "latency.svg", "report.html", "report.md"];

async function readDocument(path: string) {
  return toResultsDocument(JSON.parse(await fs.readFile(path, "utf8")), path);
}

test.serial(
  "run on four targets: a seeded random order, recorded; the baseline first and last; --seed repeats it",
  async (t) => {
    const dir = await scratchDir();
    t.teardown(dir.cleanup);
    const targets = ["base", "a", "b", "c"];
    await Promise.all(targets.map((name) => fs.mkdir(join(dir.path, name))));
    const jobFile = await quickJobFile(dir.path);
    const run = async (out: string, seed: string) => {
      const result = await runCli([
        "run",
        "--profile",
        jobFile,
        "--seed",
        seed,
        ...targets.flatMap((name) => ["--target", `${name}=${join(dir.path, name)}`]),
        "--out",
        join(dir.path, out),
      ]);
      t.is(result.code, 0, result.stderr);
      return { result, document: await readDocument(join(dir.path, out, "results.json")) };
    };
    const first = await run("one", "11");
    const order = first.document.order;
    t.is(order?.seed, 11);
    t.deepEqual(order?.sequence.filter((name) => name === "base").length, 2);
    t.is(order?.sequence[0], "base");
    t.is(order?.sequence.at(-1), "base");
    t.deepEqual([...(order?.sequence.slice(1, -1) ?? [])].sort(), ["a", "b", "c"]);
    t.regex(
      first.result.stdout + first.result.stderr,
      /3 targets in a random order, seed 11 \(--seed 11 measures in it again\); the baseline base 2 times among them/,
    );
    // The runs' own times say the order: the baseline's two passes before and after every other target's.
    const starts = (id: string) =>
      first.document.variants.find((variant) => variant.id === id)?.workloads[0].runs.map((entry) => entry.startedAt) ??
      [];
    const [baseFirst, baseLast] = starts("base");
    t.truthy(baseLast, "the baseline measured twice");
    for (const name of ["a", "b", "c"]) t.true(starts(name)[0] > baseFirst && starts(name)[0] < baseLast, name);
    const measuredOrder = ["a", "b", "c"].sort((x, y) => starts(x)[0].localeCompare(starts(y)[0]));
    t.deepEqual(measuredOrder, order?.sequence.slice(1, -1));
    t.notDeepEqual(measuredOrder, ["a", "b", "c"], "seed 11 shuffles them");
    t.deepEqual(
      first.document.variants.map((variant) => variant.id),
      targets,
      "listed in the order given, whatever order measured them",
    );
    const again = await run("two", "11");
    t.deepEqual(again.document.order?.sequence, order?.sequence);
  },
);

test.serial("run on two targets: results for every workload, the report, a ratio column", async (t) => {
  const dir = await scratchDir();
  t.teardown(dir.cleanup);
  // A colon in a path is a separator to fio: the runner must escape it.
  const [fast, slow, out] = ["fast", "slow:disk", "out"].map((name) => join(dir.path, name));
  await Promise.all([fs.mkdir(fast), fs.mkdir(slow)]);
  const result = await runCli([
    "run",
    "--runtime",
    "1",
    "--size",
    "8m",
    "--target",
    `fast=${fast}`,
    "--target",
    `slow=${slow}`,
    "--out",
    out,
  ]);
  t.is(result.code, 0, result.stderr);
  const document = await readDocument(join(out, "results.json"));
  t.deepEqual(
    document.variants.map((variant) => [variant.id, variant.baseline, variant.layer]),
    [
      ["fast", true, "local"],
      ["slow", false, "local"],
    ],
  );
  for (const variant of document.variants) {
    t.deepEqual(
      variant.workloads.map((workload) => workload.id),
      ARS_WORKLOADS,
    );
    for (const workload of variant.workloads) {
      const write = workload.runs[0].write;
      t.truthy(write, `${variant.id}/${workload.id} wrote`);
      t.true((write?.iops ?? 0) > 0 && (write?.ioBytes ?? 0) > 0);
      const derived = (write?.ioBytes ?? 0) / ((write?.runtimeMs ?? 1) / 1000);
      t.true(
        Math.abs((write?.bwBytes ?? 0) - derived) <= 0.02 * derived,
        `bwBytes ≈ ioBytes / runtime for ${workload.id}`,
      );
    }
  }
  t.deepEqual((await fs.readdir(out)).filter((name) => REPORT_FILES.includes(name)).sort(), REPORT_FILES);
  const markdown = await fs.readFile(join(out, "report.md"), "utf8");
  t.regex(markdown, /\| Variant \| IOPS \| vs base \|/);
  t.regex(markdown, /^\| slow \| [^|]+ \| \d+\.\d\d× \|/m);
  t.deepEqual(await fs.readdir(fast), [], "fio's files are removed from the target");
  t.deepEqual(await fs.readdir(join(out, "jobs")), ["ars.fio"]);
  const jobText = await fs.readFile(join(out, "jobs", "ars.fio"), "utf8");
  t.regex(jobText, /^directory=\$\{LAYERBENCH_TARGET\}$/m);
  const remote = renderFioScript({
    profile: resolveProfile("ars", { runtimeSec: 1, size: "8m" }),
    repeat: 1,
    target: { kind: "directory", path: "/tank" },
  });
  t.true(remote.includes(jobText.trimEnd()), "the kept job file is the text the remote scripts carry");
  t.regex(result.stderr, /\[6\/6\] slow randwrite-1m-qd1: write [\d.]+k? IOPS/);
});

test.serial("run with no target uses a scratch directory in the current directory and removes it", async (t) => {
  const dir = await scratchDir();
  t.teardown(dir.cleanup);
  const jobs = await scratchDir();
  t.teardown(jobs.cleanup);
  const result = await runCli(["run", "--profile", await quickJobFile(jobs.path), "--repeat", "2"], { cwd: dir.path });
  t.is(result.code, 0, result.stderr);
  const [stamp] = await fs.readdir(join(dir.path, "results"));
  const document = await readDocument(join(dir.path, "results", stamp, "results.json"));
  t.deepEqual(
    document.variants.map((variant) => variant.id),
    ["local"],
  );
  // Where it measured: the directory the scratch directory was made in, not the scratch's random name, which
  // would make two runs with the defaults differ in place.
  t.is(document.variants[0].options.path, dir.path);
  t.true(
    document.variants[0].workloads.every(
      (workload) => workload.runs.length === 2 && workload.summary.write?.iops?.n === 2,
    ),
  );
  t.deepEqual(await fs.readdir(dir.path), ["results"], "no scratch directory is left behind");
});

test.serial("Ctrl-C stops fio, keeps what was measured and still writes the report", async (t) => {
  const dir = await scratchDir();
  t.teardown(dir.cleanup);
  const out = join(dir.path, "out");
  const result = await runCli(["run", "--runtime", "2", "--size", "4m", "--target", `disk=${dir.path}`, "--out", out], {
    whileRunning: (child, stderr) => {
      const timer = setInterval(() => {
        if (/\[1\/3\] disk randwrite-4k-qd1: write/.test(stderr())) {
          clearInterval(timer);
          child.kill("SIGINT");
        }
      }, 100);
      child.on("close", () => clearInterval(timer));
    },
  });
  t.is(result.code, 130);
  t.regex(
    result.stderr,
    /layerbench: run stopped: interrupted by Ctrl-C; everything measured before it is kept in results\.json/,
  );
  const document = await readDocument(join(out, "results.json"));
  const measured = document.variants[0].workloads.map((workload) => workload.id);
  t.deepEqual(measured, ARS_WORKLOADS.slice(0, measured.length));
  t.true(measured.length >= 1 && measured.length < 3, `stopped early, after ${measured.length}`);
  t.true(existsSync(join(out, "report.md")));
  t.deepEqual(
    (await fs.readdir(dir.path)).filter((name) => name.startsWith(".layerbench-")),
    [],
    "fio's work directory is removed",
  );
});

test("bad input: non-zero exit, one clear line, no stack trace, nothing written", async (t) => {
  const dir = await scratchDir();
  t.teardown(dir.cleanup);
  const out = join(dir.path, "out");
  const malformed = join(dir.path, "fio.json");
  await fs.writeFile(malformed, '{"fio version": "fio-3.33", "jobs": [{"jobname": "x"');
  const foreign = join(dir.path, "foreign.json");
  await fs.writeFile(foreign, '{"schema": "something/else@1"}');
  // A binary file given as results: its NUL bytes are shown as escapes, not sent to the terminal.
  const binary = join(dir.path, "binary.json");
  await fs.writeFile(
    binary,
    Buffer.concat([Buffer.from("fio-3.33"), Buffer.from([0x00, 0x00, 0x1b]), Buffer.from("[2J")]),
  );
  const fioDir = dirname((await import("node:child_process")).execSync("command -v fio").toString().trim());
  const noFioPath = (process.env.PATH ?? "")
    .split(":")
    .filter((entry) => entry !== fioDir && !existsSync(join(entry, "fio")))
    .join(":");
  const cases: Array<{ args: string[]; env?: NodeJS.ProcessEnv; message: RegExp }> = [
    {
      args: ["run", "--profile", "nope", "--out", out],
      message: /unknown profile "nope": choose one of ars, kbench, etcd, or give a fio job file/,
    },
    { args: ["run", "--size", "12x", "--out", out], message: /bad size "12x": use a positive number/ },
    // Past any benchmark: a typo, which fio would fail on three times over, or count to for ever.
    {
      args: ["run", "--runtime", "99999999999999999999", "--out", out],
      message: /--runtime must be a whole number of seconds from 1 to 604800\./,
    },
    {
      args: ["run", "--ramp", "99999999999999999999", "--out", out],
      message: /--ramp must be a whole number of seconds from 0 to 604800\./,
    },
    {
      args: ["run", "--repeat", "100000000000000000000", "--out", out],
      message: /--repeat must be a whole number from 1 to 1000, or auto\./,
    },
    { args: ["run", "--seed", "-3", "--out", out], message: /--seed must be a whole number from 0 to 2147483647\./ },
    {
      args: ["run", "--order", "given", "--seed", "4", "--out", out],
      message: /--seed 4 shuffles the order of the targets, and --order given keeps it as given: drop one of them/,
    },
    {
      args: ["run", "--order", "sorted", "--out", out],
      message: /'sorted' is invalid.*Allowed choices are random, given/,
    },
    {
      args: ["run", "--target", `ro=${await unwritableDir()}`, "--size", "1m", "--out", out],
      // The reason in words, not the system's code (EACCES, EROFS).
      message: /target "ro": .* is not writable: [a-z][a-z -]+$/,
    },
    {
      args: ["run", "--target", `gone=${join(dir.path, "missing")}`, "--out", out],
      message: /target "gone": directory .*missing does not exist/,
    },
    {
      args: ["run", "--target", `big=${dir.path}`, "--size", "64t", "--out", out],
      message:
        /target "big": .* free, needs 1024 TiB \(the largest workload's files, 1024 TiB, and 64 MiB for the file system\)/,
    },
    {
      args: ["run", "--target", `d=${dir.path}`, "--out", malformed],
      message: /--out .*fio\.json is a file, not a directory/,
    },
    {
      args: ["run", "--target", `d=${dir.path}`, "--out", join(malformed, "out")],
      message: /--out .*fio\.json\/out cannot be made: .*fio\.json is a file, not a directory/,
    },
    // A file system that makes no directories: Node's recursive mkdir retried there for ever, at 80 % of a CPU.
    {
      args: ["run", "--target", `d=${dir.path}`, "--size", "1m", "--out", "/proc/layerbench-out"],
      message:
        /^layerbench: --out \/proc\/layerbench-out: cannot make \/proc\/layerbench-out: its file system makes no directories$/,
    },
    {
      args: ["run", "--size", "4k", "--out", out],
      message: /size 4k per job is smaller than the 64k blocks of workload randwrite-64k-16x16: .* use 1m or more/,
    },
    {
      args: ["run", "--target", `=${dir.path}`, "--out", out],
      message: /bad --target "=.*": the name before "=" is empty/,
    },
    { args: ["run", "--target", `bad name=${dir.path}`, "--out", out], message: /bad target name "bad name"/ },
    {
      args: ["run", "--size", "1m", "--out", out],
      env: { ...process.env, PATH: noFioPath },
      message: /fio is not installed .*sudo apt-get install fio/,
    },
    { args: ["parse", malformed], message: /fio\.json: fio output is truncated or not valid JSON/ },
    { args: ["report", malformed], message: /fio\.json is not valid JSON/ },
    { args: ["report", foreign], message: /foreign\.json is not a layerbench\/results@2 document: schema: / },
    {
      args: ["report", binary],
      message: /binary\.json is not valid JSON \(.*"fio-3\.33\\x00\\x00\\x1b\[2J" is not valid JSON\)$/,
    },
  ];
  for (const { args, env, message } of cases) {
    const result = await runCli(args, { cwd: dir.path, env });
    const what = args.join(" ");
    t.is(result.code, 1, what);
    const lines = result.stderr.trim().split("\n");
    t.is(lines.length, 1, `${what}: one line, got ${result.stderr}`);
    t.regex(lines[0], /^layerbench: /, what);
    t.regex(lines[0], message, what);
    t.false(existsSync(out), `${what}: no output directory`);
  }
  t.deepEqual(
    (await fs.readdir(dir.path)).sort(),
    ["binary.json", "fio.json", "foreign.json"].sort(),
    "no scratch directory left behind either",
  );
});

test.serial(
  "kbench, exactly: 12 workloads with kbench's parameters, its job file kept, CPU in the runs and the report",
  async (t) => {
    const dir = await scratchDir();
    t.teardown(dir.cleanup);
    const out = join(dir.path, "out");
    // The stand-in fio answers each of the 12 workloads at once with a real output: what is under test is the
    // CLI's kbench (its job file, CPU, summary); that fio accepts the job file is workloads.test.ts's.
    const standIn = fileURLToPath(new URL("stand-in", import.meta.url));
    const result = await runCli(
      [
        "run",
        "--profile",
        "kbench",
        "--ramp",
        "0",
        "--runtime",
        "1",
        "--size",
        "32m",
        "--target",
        `d=${dir.path}`,
        "--out",
        out,
      ],
      { env: { ...process.env, PATH: `${standIn}:${process.env.PATH}` } },
    );
    t.is(result.code, 0, result.stderr);
    const document = await readDocument(join(out, "results.json"));
    const sections = ["rand-read", "rand-write", "seq-read", "seq-write"];
    t.deepEqual(
      document.variants[0].workloads.map((workload) => workload.id),
      ["iops", "bw", "lat"].flatMap((group) => sections.map((section) => `${section}-${group}`)),
    );
    const jobFile = await fs.readFile(join(out, "jobs", "kbench.fio"), "utf8");
    for (const line of ["ioengine=libaio", "direct=1", "time_based=1", "runtime=1", "randrepeat=0", "verify=0"])
      t.regex(jobFile, new RegExp(`^${line}$`, "m"), line);
    t.notRegex(jobFile, /ramp_time/, "--ramp 0: no ramp");
    t.regex(jobFile, /\[rand-read-iops\]\nstonewall\n.*\nrw=randread\nbs=4k\nnumjobs=1\niodepth=64\nsize=32m/);
    t.regex(jobFile, /\[seq-write-bw\]\nstonewall\n.*\nrw=write\nbs=128k\nnumjobs=1\niodepth=64\n/);
    t.regex(jobFile, /\[rand-write-lat\]\nstonewall\n.*\nrw=randwrite\nbs=4k\nnumjobs=1\niodepth=1\n/);
    t.like(document.profile, { id: "kbench", rampSec: 0, runtimeSec: 1, ioengine: "libaio", direct: true });
    t.true(
      document.variants[0].workloads.every((workload) => workload.runs[0].cpu !== undefined),
      "every run has CPU",
    );
    const markdown = await fs.readFile(join(out, "report.md"), "utf8");
    t.regex(
      markdown,
      /\| Variant \| IOPS \| vs base \| .* \| CPU \| vs base \| IOPS\/CPU% \| vs base \| Runs \| Flags \|/,
    );
    t.regex(markdown, /## kbench summary/);
  },
);
