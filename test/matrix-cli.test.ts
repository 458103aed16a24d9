import { existsSync, promises as fs } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import test from "ava";
import { jobFileProfile } from "../bench/core/job-file-profile.js";
import { type ResultsDocument, toResultsDocument } from "../bench/core/results.js";
import { documentFromScriptOutputs, parseScriptOutput, renderFioScript } from "../bench/remote/fio-script.js";
import { runCli } from "./helpers/cli.js";
import { fakePulumi } from "./helpers/fake-pulumi.js";
import { QUICK_WRITES, quickJobFile, scratchDir } from "./helpers/fio.js";
import { runScript } from "./helpers/scripts.js";

// The matrix and report commands as a user runs them, with a stand-in `pulumi` on PATH whose `results`
// output is a document of real fio runs, made here by the very script the fio Commands carry.

// Size-bound writes: the matrix and the report are under test, not fio's timing.
const PROFILE = jobFileProfile(QUICK_WRITES, "quick-writes.fio");

/** A stack's results output as the program computes it: the fio script run for real on two directories. */
async function measureStack(): Promise<ResultsDocument> {
  const scratch = await scratchDir();
  try {
    return await stackDocument(scratch.path);
  } finally {
    await scratch.cleanup();
  }
}

/** Measured once, for every test that needs a stack's output. */
let measured: Promise<ResultsDocument> | undefined;
const stackResults = () => {
  measured ??= measureStack();
  return measured;
};

async function stackDocument(dir: string): Promise<ResultsDocument> {
  const entries = [];
  for (const [id, layer, baseline] of [
    ["host-zvol", "host", true],
    ["blk-none", "vm", false],
  ] as const) {
    const target = join(dir, id);
    await fs.mkdir(target);
    const script = await runScript(
      renderFioScript({ profile: PROFILE, repeat: 1, target: { kind: "directory", path: target } }),
    );
    if (script.code !== 0) throw new Error(script.stderr);
    entries.push({
      spec: {
        id,
        layer,
        baseline,
        options: layer === "vm" ? { bus: "virtio-blk", cache: "none" } : { volblocksize: "16k" },
      },
      output: parseScriptOutput(script.stdout, id),
    });
  }
  return documentFromScriptOutputs(
    { kind: "pulumi", project: "layerbench", stack: "quick", runId: "__RUN_ID__" },
    PROFILE,
    1,
    entries,
  );
}

async function readDocument(path: string) {
  return toResultsDocument(JSON.parse(await fs.readFile(path, "utf8")), path);
}

test.serial(
  "matrix up --runs 2, then report: each run kept under its run id, pooled, reported with the spread across runs",
  async (t) => {
    const dir = await scratchDir();
    t.teardown(dir.cleanup);
    const cli = await fakePulumi({ results: await stackResults(), vmAddresses: ["192.168.1.77"] });
    t.teardown(cli.cleanup);
    const out = join(dir.path, "matrix");

    const up = await runCli(["matrix", "up", "--stack", "quick", "--runs", "2", "--no-check", "--out", out], {
      env: { ...process.env, ...cli.env },
    });
    t.is(up.code, 0, up.stderr + up.stdout);
    t.regex(up.stdout, /^\[quick\] up, run 1\/2 \(run id \d{8}-\d{6}-r1\)…$/m);
    t.regex(up.stdout, /^\[quick\] fio randwrite-4k #1 on vm-blk-none-fio$/m);
    t.regex(up.stdout, /^quick: ok, 2 run\(s\) kept, all runs: .*all-runs\.json$/m);
    const files = (await fs.readdir(join(out, "quick"))).filter((name) => name.endsWith(".json")).sort();
    t.is(files.length, 3);
    t.regex(files[1], /^run-\d{8}-\d{6}-r1\.json$/);
    t.regex(files[2], /^run-\d{8}-\d{6}-r2\.json$/);
    t.regex(up.stdout, /^report: .*quick\/report\.html \(all runs kept for the stack; report\.md beside it\)$/m);
    t.true((await fs.readdir(join(out, "quick"))).includes("report.html"), "matrix up writes the stack's report");
    const pooled = await readDocument(join(out, "quick", "all-runs.json"));
    const workload = pooled.variants[0].workloads[0];
    t.deepEqual(
      workload.runs.map((run) => run.runId?.slice(-2)),
      ["r1", "r2"],
    );
    t.is(workload.summary.write?.iops?.n, 2);
    t.is((await cli.calls()).filter((call) => call[0] === "up").length, 2);

    const refused = await runCli(["report", join(out, "quick", "all-runs.json")]);
    t.is(refused.code, 1, "the report is there: not replaced without --force");
    const report = await runCli(["report", join(out, "quick", "all-runs.json"), "--force"]);
    t.is(report.code, 0, report.stderr);
    const markdown = await fs.readFile(join(out, "quick", "report.md"), "utf8");
    t.regex(
      markdown,
      /^\| \*\*host-zvol\*\* \(baseline\) \| [\d.]+k? ± [\d.]+k? \|/m,
      "mean ± stdev over the two runs",
    );
    t.regex(markdown, /`quick@2 runs` \(run ids \d{8}-\d{6}-r1, \d{8}-\d{6}-r2\)/);
  },
);

test.serial(
  "report reads a saved `pulumi stack output --json`, a local run and a stack's output together",
  async (t) => {
    const dir = await scratchDir();
    t.teardown(dir.cleanup);
    const stackDocument = await stackResults();
    const saved = join(dir.path, "stack-output.json");
    // What `pulumi stack output --json > stack-output.json` writes: every output, the document under "results".
    await fs.writeFile(
      saved,
      JSON.stringify(
        {
          results: { ...stackDocument, source: { ...stackDocument.source, runId: "1" } },
          variants: ["blk-none"],
          vmAddresses: ["192.168.1.77"],
        },
        null,
        2,
      ),
    );
    const local = join(dir.path, "local");
    const run = await runCli(["run", "--profile", await quickJobFile(dir.path), "--out", local]);
    t.is(run.code, 0, run.stderr);
    const cli = await fakePulumi({ results: stackDocument });
    t.teardown(cli.cleanup);

    const out = join(dir.path, "report");
    const report = await runCli(["report", saved, join(local, "results.json"), "--stack", "quick", "--out", out], {
      env: { ...process.env, ...cli.env },
    });
    t.is(report.code, 0, report.stderr);
    const markdown = await fs.readFile(join(out, "report.md"), "utf8");
    const table = markdown.slice(markdown.indexOf("### "), markdown.indexOf("### ", markdown.indexOf("### ") + 1));
    const rows = table
      .split("\n")
      .filter((line) => line.startsWith("| ") && !line.startsWith("| Variant") && !line.startsWith("| ---"));
    t.deepEqual(
      rows.map((line) => line.split(" | ")[0].slice(2)),
      [
        "**[1] quick@1/host-zvol** (baseline)",
        "[1] quick@1/blk-none",
        `[2] ${hostname()}/local`,
        "[3] quick@1/host-zvol",
        "[3] quick@1/blk-none",
      ],
      "every variant of every document, labelled by its numbered source (the same run twice told apart); the first document's baseline is the baseline",
    );
    t.regex(markdown, /^- \[1\] pulumi `quick@1`/m);
    t.regex(markdown, new RegExp(`^- \\[2\\] local \`${hostname()}\``, "m"));
    t.regex(markdown, /^- \[3\] pulumi `quick@1`/m);
    t.true(
      (await cli.calls()).some(
        (call) => call.join(" ") === "stack output --json --show-secrets --stack quick --non-interactive",
      ),
    );
  },
);

test.serial(
  "matrix and report errors: unknown stack, no pulumi, nothing to report; one line each on stderr",
  async (t) => {
    const dir = await scratchDir();
    t.teardown(dir.cleanup);
    const out = join(dir.path, "out");
    const noPulumi = {
      ...process.env,
      PATH: (process.env.PATH ?? "")
        .split(":")
        .filter((entry) => !existsSync(join(entry, "pulumi")))
        .join(":"),
    };
    const cases: Array<{ args: string[]; env?: NodeJS.ProcessEnv; stderr: RegExp; stdout?: RegExp }> = [
      {
        args: ["matrix", "up", "--stack", "prod", "--out", out],
        stderr: /^layerbench: unknown stack "prod": the stacks are ceph, homelab, quick/,
      },
      {
        args: ["matrix", "up", "--runs", "0", "--out", out],
        stderr: /^layerbench: .*--runs must be a whole number from 1 to 1000\./,
      },
      {
        args: ["matrix", "up", "--no-check", "--out", out],
        env: noPulumi,
        stderr: /^layerbench: matrix up: ceph failed; homelab, quick, storages, vmsize not started \(see above\)$/,
        stdout:
          /^ceph: failed: the Pulumi CLI is not installed \(or not on PATH\): install it with `curl -fsSL https:\/\/get\.pulumi\.com \| sh`, then `pulumi login`\nhomelab: skipped: not run: the Pulumi CLI is missing$/m,
      },
      {
        args: ["report", "--out", out],
        stderr: /^layerbench: report needs results files or --stack NAME \(or both\)$/,
      },
      { args: ["report", "--stack", "prod", "--out", out], stderr: /^layerbench: unknown stack "prod"/ },
      {
        args: ["report", "--stack", "quick", "--out", out],
        env: noPulumi,
        stderr: /^layerbench: stack quick: the Pulumi CLI is not installed/,
      },
    ];
    for (const { args, env, stderr, stdout } of cases) {
      const result = await runCli(args, { cwd: dir.path, env });
      const what = args.join(" ");
      t.is(result.code, 1, what);
      t.is(result.stderr.trim().split("\n").length, 1, `${what}: one line, got ${result.stderr}`);
      t.regex(result.stderr.trim(), stderr, what);
      if (stdout) t.regex(result.stdout, stdout, what);
      t.false(existsSync(out), `${what}: nothing written`);
    }
  },
);
