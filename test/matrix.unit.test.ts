import { promises as fs } from "node:fs";
import { join } from "node:path";
import test from "ava";
import type { ResultsDocument } from "../bench/core/results.js";
import { readResultsFile } from "../bench/core/results-io.js";
import { stackMachines } from "../bench/matrix/machines.js";
import { consoleMatrixProgress } from "../bench/matrix/progress.js";
import { RunStore } from "../bench/matrix/run-store.js";
import { type MatrixContext, matrixDestroy, matrixOutputs, matrixSummary, matrixUp } from "../bench/matrix/runner.js";
import { declaredStacks, selectStacks } from "../bench/matrix/stacks.js";
import { type MatrixWorkspace, PulumiCliMissingError } from "../bench/matrix/workspace.js";
import { syntheticDocument, variant } from "./helpers/documents.js";
import { fakeWorkspace, type WorkspaceCall } from "./helpers/fake-workspace.js";
import { scratchDir } from "./helpers/fio.js";

const PROJECT = new URL("..", import.meta.url).pathname;

/** What a stack's `results` output holds after an update with this run id: IOPS differ by run. */
function stackResults(stack: string, runId: string, level: number): ResultsDocument {
  return syntheticDocument({ kind: "pulumi", project: "layerbench", stack, runId }, [
    { spec: { ...variant("host-zvol", true), layer: "host" }, iops: { "randwrite-4k": [level] } },
    { spec: { ...variant("blk-none"), layer: "vm" }, iops: { "randwrite-4k": [level * 0.8] } },
  ]);
}

async function withStore(t: { teardown: (fn: () => Promise<void>) => void }): Promise<RunStore> {
  const dir = await scratchDir("layerbench-matrix-");
  t.teardown(dir.cleanup);
  return new RunStore(dir.path);
}

function context(workspace: MatrixWorkspace, signal?: AbortSignal): MatrixContext & { lines: string[] } {
  const lines: string[] = [];
  return {
    workspace,
    lines,
    signal,
    progress: consoleMatrixProgress(
      (line) => lines.push(line),
      () => 0,
    ),
  };
}

const runIds = (_stack: string, run: number) => `r${run}`;
const succeeding = (call: WorkspaceCall) =>
  call.operation === "destroy"
    ? stackResults(call.stack, "", 0)
    : stackResults(call.stack, call.runId ?? "1", call.runId === "r2" ? 1100 : 1000);

test("the stacks are the files in stacks/; unknown names are refused naming the known ones", async (t) => {
  t.deepEqual(await declaredStacks(PROJECT), ["ceph", "homelab", "quick", "storages", "vmsize"]);
  t.deepEqual(selectStacks(["homelab", "quick"], []), ["homelab", "quick"]);
  t.deepEqual(selectStacks(["homelab", "quick"], ["quick", "quick"]), ["quick"]);
  t.throws(() => selectStacks(["homelab", "quick"], ["quick", "prod"]), {
    message: 'unknown stack "prod": the stacks are homelab, quick (stacks/Pulumi.<stack>.yaml)',
  });
  await t.throwsAsync(declaredStacks("/nonexistent"), {
    message: /cannot read the stack files in \/nonexistent\/stacks: no such file or directory /,
  });
});

test("up: every stack, every run under its own run id; each run kept, runs pooled per stack with their spread", async (t) => {
  const store = await withStore(t);
  const { workspace, calls } = fakeWorkspace(succeeding);
  const ctx = context(workspace);
  const outcomes = await matrixUp(
    { stacks: ["homelab", "quick"], runs: 2, failFast: false, ephemeral: false, store, newRunId: runIds },
    ctx,
  );

  t.deepEqual(calls, [
    { operation: "up", stack: "homelab", runId: "r1" },
    { operation: "up", stack: "homelab", runId: "r2" },
    { operation: "up", stack: "quick", runId: "r1" },
    { operation: "up", stack: "quick", runId: "r2" },
  ]);
  t.deepEqual(
    outcomes.map((outcome) => [outcome.stack, outcome.status, outcome.runs.map((run) => run.runId)]),
    [
      ["homelab", "ok", ["r1", "r2"]],
      ["quick", "ok", ["r1", "r2"]],
    ],
  );
  t.deepEqual((await fs.readdir(store.stackDir("quick"))).sort(), ["all-runs.json", "run-r1.json", "run-r2.json"]);
  const pooled = await readResultsFile(join(store.stackDir("quick"), "all-runs.json"));
  t.deepEqual(pooled.source, { kind: "pulumi", project: "layerbench", stack: "quick", runId: "r1,r2" });
  const host = pooled.variants.find((entry) => entry.id === "host-zvol")!;
  t.deepEqual(
    host.workloads[0].runs.map((run) => run.runId),
    ["r1", "r2"],
  );
  t.like(host.workloads[0].summary.write?.iops, { n: 2, mean: 1050, min: 1000, max: 1100 });
  t.is(Math.round(host.workloads[0].summary.write!.iops!.stdev), 71, "sample stdev of 1000 and 1100");
  t.true(host.baseline);

  // What the person watching saw: the run, each fio workload as the Command logged it, the resources, the end.
  t.true(ctx.lines.includes("[quick] up, run 2/2 (run id r2)…"));
  t.true(ctx.lines.includes("[quick] fio randwrite-4k #1 on vm-blk-none-fio"));
  t.true(ctx.lines.includes("[quick] fio randwrite-1m #1 on vm-blk-none-fio"));
  t.true(ctx.lines.includes("[quick] changes: create 1"));
  t.true(ctx.lines.includes("[quick] up, run 2/2 (run id r2) done in 0s"));
  t.true(ctx.lines.includes(`[quick] results: ${join(store.stackDir("quick"), "run-r2.json")}`));
  t.is(matrixSummary(outcomes).exitCode, 0);
});

test("up again: earlier runs are kept, never overwritten, and pooled with the new ones", async (t) => {
  const store = await withStore(t);
  const first = fakeWorkspace(succeeding);
  await matrixUp(
    { stacks: ["quick"], runs: 1, failFast: false, ephemeral: false, store, newRunId: () => "20261126-1" },
    context(first.workspace),
  );
  const second = fakeWorkspace((call) => stackResults(call.stack, "20261126-1", 2000));
  const [outcome] = await matrixUp(
    { stacks: ["quick"], runs: 1, failFast: false, ephemeral: false, store, newRunId: () => "20261126-1" },
    context(second.workspace),
  );

  t.deepEqual((await fs.readdir(store.stackDir("quick"))).sort(), [
    "all-runs.json",
    "run-20261126-1.2.json",
    "run-20261126-1.json",
  ]);
  t.is(
    (await readResultsFile(join(store.stackDir("quick"), "run-20261126-1.json"))).variants[0].workloads[0].summary.write
      ?.iops?.mean,
    1000,
  );
  t.deepEqual(outcome.gathered && { pooled: outcome.gathered.pooled, leftOut: outcome.gathered.leftOut }, {
    pooled: 2,
    leftOut: 0,
  });
  const pooled = await readResultsFile(outcome.gathered!.path);
  t.deepEqual(
    pooled.variants[0].workloads[0].runs.map((run) => run.write?.iops),
    [1000, 2000],
  );
});

test("one failing stack: the others still run, the failure names the stack and Pulumi's error, exit code 1", async (t) => {
  const store = await withStore(t);
  const pulumiError = new Error(
    "code: 255\n stdout: Updating (homelab)\n stderr: error: update failed\n  error: proxmoxve:index:VmLegacy resource 'layerbench-vm' has a problem: 500 storage 'local-zfs' does not exist\n",
  );
  const { workspace, calls } = fakeWorkspace((call) => (call.stack === "homelab" ? pulumiError : succeeding(call)));
  const ctx = context(workspace);
  const outcomes = await matrixUp(
    { stacks: ["homelab", "quick"], runs: 1, failFast: false, ephemeral: false, store, newRunId: runIds },
    ctx,
  );

  t.deepEqual(
    calls.map((call) => call.stack),
    ["homelab", "quick"],
  );
  t.like(outcomes[0], {
    status: "failed",
    error:
      "error: update failed | error: proxmoxve:index:VmLegacy resource 'layerbench-vm' has a problem: 500 storage 'local-zfs' does not exist",
  });
  t.like(outcomes[1], { status: "ok" });
  const summary = matrixSummary(outcomes);
  t.is(summary.exitCode, 1);
  t.deepEqual([summary.failed, summary.skipped], [["homelab"], []]);
  t.regex(summary.lines[0], /^homelab: failed: error: update failed/);
  t.regex(summary.lines[1], /^quick: ok, 1 run\(s\) kept, all runs: .*quick\/all-runs\.json$/);
  t.true(
    ctx.lines.some((line) => line.startsWith("[homelab] up, run 1/1 (run id r1) failed in 0s: error: update failed")),
  );

  const failFast = fakeWorkspace((call) => (call.stack === "homelab" ? pulumiError : succeeding(call)));
  const stopped = await matrixUp(
    { stacks: ["homelab", "quick"], runs: 1, failFast: true, ephemeral: false, store, newRunId: runIds },
    context(failFast.workspace),
  );
  t.deepEqual(
    failFast.calls.map((call) => call.stack),
    ["homelab"],
    "--fail-fast runs nothing after the failure",
  );
  t.like(stopped[1], { status: "skipped", error: "not run: --fail-fast after homelab failed" });
  t.deepEqual(
    [matrixSummary(stopped).failed, matrixSummary(stopped).skipped],
    [["homelab"], ["quick"]],
    "a stack never started is not said to have failed",
  );
});

test("a stack whose results output is missing or not a results document fails with its name", async (t) => {
  const store = await withStore(t);
  const broken: MatrixWorkspace = { ...fakeWorkspace(succeeding).workspace, up: async () => ({ vmAddresses: [] }) };
  const [missing] = await matrixUp(
    { stacks: ["quick"], runs: 1, failFast: false, ephemeral: false, store, newRunId: runIds },
    context(broken),
  );
  t.is(missing.error, 'stack quick has no "results" output (has it been brought up? outputs: vmAddresses)');
  const foreign: MatrixWorkspace = { ...broken, up: async () => ({ results: { schema: "other" } }) };
  const [wrong] = await matrixUp(
    { stacks: ["quick"], runs: 1, failFast: false, ephemeral: false, store, newRunId: runIds },
    context(foreign),
  );
  t.regex(wrong.error ?? "", /^the results output of stack quick is not a layerbench\/results@2 document: schema: /);
});

test("a missing Pulumi CLI: one clear error on the first stack, the others not tried, nothing to destroy", async (t) => {
  const store = await withStore(t);
  const { workspace, calls } = fakeWorkspace(() => new PulumiCliMissingError());
  const outcomes = await matrixUp(
    { stacks: ["homelab", "quick"], runs: 2, failFast: false, ephemeral: true, store, newRunId: runIds },
    context(workspace),
  );
  t.deepEqual(calls, [{ operation: "up", stack: "homelab", runId: "r1" }], "no destroy: nothing was created");
  t.like(outcomes[0], { status: "failed", error: new PulumiCliMissingError().message, destroyed: undefined });
  t.like(outcomes[1], { status: "skipped", error: "not run: the Pulumi CLI is missing" });
  t.regex(new PulumiCliMissingError().message, /Pulumi CLI is not installed .*get\.pulumi\.com/);
  t.is(matrixSummary(outcomes).exitCode, 1);
});

test("--ephemeral: each stack is destroyed after its runs, also when a run failed; a failed destroy is loud", async (t) => {
  const store = await withStore(t);
  const { workspace, calls } = fakeWorkspace((call) => {
    if (call.operation === "up" && call.stack === "homelab" && call.runId === "r2")
      return new Error("stderr: error: ssh: handshake failed");
    if (call.operation === "destroy" && call.stack === "quick") return new Error("stderr: error: VM 9100 is locked");
    return succeeding(call);
  });
  const outcomes = await matrixUp(
    { stacks: ["homelab", "quick"], runs: 2, failFast: false, ephemeral: true, store, newRunId: runIds },
    context(workspace),
  );

  t.deepEqual(
    calls.map((call) => `${call.operation} ${call.stack}${call.runId ? ` ${call.runId}` : ""}`),
    ["up homelab r1", "up homelab r2", "destroy homelab", "up quick r1", "up quick r2", "destroy quick"],
  );
  t.like(outcomes[0], { status: "failed", error: "error: ssh: handshake failed", destroyed: true });
  t.deepEqual(
    outcomes[0].runs.map((run) => run.runId),
    ["r1"],
    "the run measured before the failure is kept",
  );
  t.truthy(outcomes[0].gathered, "and pooled");
  t.like(outcomes[1], { status: "ok", destroyed: false });
  t.regex(matrixSummary(outcomes).lines[1], /DESTROY FAILED: resources are left on the node$/);
  t.is(matrixSummary(outcomes).exitCode, 1);
});

test("Ctrl-C during an update: that stack is still destroyed with --ephemeral, the next one does not start", async (t) => {
  const store = await withStore(t);
  const controller = new AbortController();
  const { workspace, calls } = fakeWorkspace((call, options) => {
    if (call.operation === "destroy") {
      t.is(options?.signal, undefined, "the cleanup does not listen to the Ctrl-C that stopped the update");
      return stackResults(call.stack, "", 0);
    }
    controller.abort();
    return new Error("stderr: error: update canceled");
  });
  const outcomes = await matrixUp(
    { stacks: ["homelab", "quick"], runs: 1, failFast: false, ephemeral: true, store, newRunId: runIds },
    context(workspace, controller.signal),
  );
  t.deepEqual(
    calls.map((call) => `${call.operation} ${call.stack}`),
    ["up homelab", "destroy homelab"],
  );
  t.like(outcomes[0], { status: "failed", destroyed: true });
  t.like(outcomes[1], { status: "skipped", error: "interrupted" });
});

test("destroy: every stack, going on after a failure; outputs: kept once however often they are read", async (t) => {
  const store = await withStore(t);
  const destroying = fakeWorkspace((call) =>
    call.stack === "homelab" ? new Error("stderr: error: 401 Unauthorized") : succeeding(call),
  );
  const destroyed = await matrixDestroy(
    { stacks: ["homelab", "quick"], failFast: false },
    context(destroying.workspace),
  );
  t.deepEqual(
    destroyed.map((outcome) => `${outcome.stack} ${outcome.status}`),
    ["homelab failed", "quick ok"],
  );
  t.is(destroyed[0].error, "error: 401 Unauthorized");

  const reading = fakeWorkspace((call) => stackResults(call.stack, "7", 1000));
  const ctx = context(reading.workspace);
  const [first] = await matrixOutputs({ stacks: ["quick"], store }, ctx);
  const [again] = await matrixOutputs({ stacks: ["quick"], store }, ctx);
  t.true(first.runs[0].isNew);
  t.false(again.runs[0].isNew);
  t.deepEqual((await fs.readdir(store.stackDir("quick"))).sort(), ["all-runs.json", "run-7.json"]);
  t.true(ctx.lines.includes(`[quick] results (kept already): ${join(store.stackDir("quick"), "run-7.json")}`));
});

test("progress: resource counts at most every 15 s, failures and errors at once", (t) => {
  let clock = 0;
  const lines: string[] = [];
  const progress = consoleMatrixProgress(
    (line) => lines.push(line),
    () => clock,
  );
  const urn = (name: string) => `urn:pulumi:quick::layerbench::proxmoxve:index/vmLegacy:VmLegacy::${name}`;
  const metadata = (name: string) => ({
    op: "create" as const,
    urn: urn(name),
    type: "proxmoxve:index/vmLegacy:VmLegacy",
    provider: "",
  });
  progress.operationStarted("quick", "up");
  progress.event("quick", { sequence: 1, timestamp: 0, resourcePreEvent: { metadata: metadata("a") } });
  progress.event("quick", { sequence: 2, timestamp: 0, resourcePreEvent: { metadata: metadata("b") } });
  clock = 16_000;
  progress.event("quick", { sequence: 3, timestamp: 0, resOutputsEvent: { metadata: metadata("a") } });
  clock = 20_000;
  progress.event("quick", {
    sequence: 4,
    timestamp: 0,
    resOpFailedEvent: { metadata: metadata("b"), status: 1, steps: 1 },
  });
  progress.event("quick", {
    sequence: 5,
    timestamp: 0,
    diagnosticEvent: {
      urn: urn("b"),
      message: "500 storage 'local-zfs' does not exist\nmore",
      color: "never",
      severity: "error",
    },
  });
  clock = 185_000;
  progress.operationFinished("quick", "up", { ok: false, message: "error: update failed" });
  t.deepEqual(lines, [
    "[quick] up…",
    "[quick] 1 resource done, 1 in progress",
    "[quick] create failed: b (proxmoxve:index/vmLegacy:VmLegacy)",
    "[quick] error: 500 storage 'local-zfs' does not exist",
    "[quick] up failed in 3m05s: error: update failed",
  ]);
});

test("up --parallel: stacks on different nodes overlap, stacks on one node run one after the other, in order", async (t) => {
  const store = await withStore(t);
  const spans = new Map<string, { start: number; end: number }>();
  const { workspace } = fakeWorkspace(async (call) => {
    const start = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 150));
    spans.set(call.stack, { start, end: performance.now() });
    return succeeding(call);
  });
  const ctx = context(workspace);
  const nodes: Record<string, string[]> = { a: ["pve1"], b: ["pve2"], c: ["pve1"], d: ["pve2", "pve3"] };
  const outcomes = await matrixUp(
    {
      stacks: ["a", "b", "c", "d"],
      runs: 1,
      failFast: false,
      ephemeral: false,
      store,
      newRunId: runIds,
      machinesOf: (stack) => nodes[stack],
    },
    ctx,
  );
  t.deepEqual(
    outcomes.map((outcome) => [outcome.stack, outcome.status]),
    [
      ["a", "ok"],
      ["b", "ok"],
      ["c", "ok"],
      ["d", "ok"],
    ],
  );
  const span = (stack: string) => spans.get(stack) ?? { start: Number.NaN, end: Number.NaN };
  const overlap = (x: string, y: string) => span(x).start < span(y).end && span(y).start < span(x).end;
  t.true(overlap("a", "b"), "two nodes, at once");
  t.false(overlap("a", "c"), "one node, one after the other");
  t.true(span("c").start >= span("a").end, "in the order given");
  t.false(overlap("b", "d"), "d shares pve2 with b");
  t.true(overlap("c", "d"));
  // Every progress line names its stack.
  t.true(ctx.lines.every((line) => /^\[(a|b|c|d)\] /.test(line)));
  t.true(ctx.lines.some((line) => line.startsWith("[b] up, run 1/1")));
});

test("a stack's machines: its node's address and its k3s nodes' addresses; a stack that does not parse, its own", async (t) => {
  const project = await scratchDir("layerbench-machines-");
  t.teardown(project.cleanup);
  await fs.mkdir(join(project.path, "stacks"));
  const quick = await fs.readFile(join(PROJECT, "stacks", "Pulumi.quick.yaml"), "utf8");
  await fs.writeFile(join(project.path, "stacks", "Pulumi.quick.yaml"), quick);
  await fs.writeFile(
    join(project.path, "stacks", "Pulumi.cluster.yaml"),
    `${quick.replace("vmId: 9100", "vmId: 9300")}  layerbench:k8s:\n    enabled: true\n    vm: { vmId: 9400 }\n    proxmoxNodes: [pve, { name: pve2, address: 10.0.0.2 }]\n`,
  );
  await fs.writeFile(join(project.path, "stacks", "Pulumi.broken.yaml"), "config:\n  layerbench:node: 'bad name'\n");
  const machines = await stackMachines(project.path, ["quick", "cluster", "broken"]);
  t.deepEqual(
    [...machines],
    [
      ["quick", ["pve.example.lan"]],
      ["cluster", ["pve.example.lan", "10.0.0.2"]],
      ["broken", ["unparsed stack broken"]],
    ],
  );
});
