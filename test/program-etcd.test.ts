import { fileURLToPath } from "node:url";
import * as pulumi from "@pulumi/pulumi";
import test from "ava";
import type { ResultsDocument } from "../bench/core/results.js";
import { scratchDir } from "./helpers/fio.js";
import { localFioState, outputValue, recordingMocks, stackConfig, withoutStackTraces } from "./helpers/pulumi-mocks.js";
import { runScript, withLocalTarget } from "./helpers/scripts.js";
import { StrictNode } from "./helpers/strict-node.js";

// The quick stack with `profile: etcd` under the strict mocks: the fio Commands' scripts carry etcd's job and run
// for real on a local file, and the results keep each variant's fdatasync latency.

const STACK = fileURLToPath(new URL("../stacks/Pulumi.quick.yaml", import.meta.url));
const scripts: Array<{ name: string; script: string }> = [];
const scratch = await scratchDir();
const node = new StrictNode();
recordingMocks(
  localFioState(async (name, script) => {
    scripts.push({ name, script });
    const { stdout, stderr, code } = await runScript(withLocalTarget(script, `${scratch.path}/${name}.img`));
    if (code !== 0) throw new Error(`${name} failed: ${stderr}`);
    return { stdout, stderr };
  }),
  node,
);
pulumi.runtime.setAllConfig(
  {
    ...(await stackConfig(STACK)),
    "layerbench:profile": "etcd",
    // 256 KiB of etcd's 2300-byte writes: 113 fdatasyncs a run.
    "layerbench:size": "256k",
    "layerbench:sshPrivateKey": "-----BEGIN OPENSSH PRIVATE KEY-----\nk\n-----END OPENSSH PRIVATE KEY-----",
  },
  ["layerbench:sshPrivateKey"],
);
const results = await withoutStackTraces(async () => {
  const program = await import("../index.js");
  return outputValue<ResultsDocument>(program.results);
});
test.after.always(() => scratch.cleanup());

test("a stack with profile etcd: every layer's script runs etcd's job, and the results keep the fdatasync p99", (t) => {
  // The VM variants in the seed's order, the baseline again after them.
  t.deepEqual(
    scripts.map(({ name }) => name),
    [
      "fio-host-fio",
      ...(results.order?.sequence.slice(1, -1) ?? []).map((id) => `fio-vm-${id}-fio`),
      "fio-host-pass-2-fio",
    ],
  );
  t.is(scripts.length, 4);
  for (const { name, script } of scripts) {
    for (const line of ["ioengine=sync", "fdatasync=1", "bs=2300", "rw=write"])
      t.regex(script, new RegExp(`^${line}$`, "m"), `${name}: ${line}`);
    t.notRegex(script, /^time_based/m, `${name}: ends at its size`);
  }
  t.is(results.profile.id, "etcd");
  t.true(results.profile.syncEveryWrite);
  for (const variant of results.variants) {
    const [workload] = variant.workloads;
    t.is(workload.id, "etcd-fdatasync");
    t.true((workload.runs[0]?.write?.syncLatencyNs?.p99 ?? 0) > 0, `${variant.id}: fio's fdatasync p99`);
  }
});
