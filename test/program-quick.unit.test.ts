import { fileURLToPath } from "node:url";
import * as pulumi from "@pulumi/pulumi";
import test from "ava";
import { parse } from "yaml";
import { seedOf } from "../bench/core/measurement-order.js";
import type { ResultsDocument } from "../bench/core/results.js";
import { parseScriptOutput } from "../bench/remote/fio-script.js";
import { scratchDir } from "./helpers/fio.js";
import {
  byName,
  localFioState,
  outputValue,
  recordingMocks,
  stackConfig,
  withoutStackTraces,
} from "./helpers/pulumi-mocks.js";
import { runScript, shellcheck, withLocalTarget } from "./helpers/scripts.js";
import { StrictNode } from "./helpers/strict-node.js";
import { integrationTest } from "./helpers/tier.js";

const STACK = fileURLToPath(new URL("../stacks/Pulumi.quick.yaml", import.meta.url));
const PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\ntest-key-material\n-----END OPENSSH PRIVATE KEY-----";

// The fio Commands' scripts run for real on a local file: only their target block is swapped. The order in
// which they ran and their real outputs are kept for the assertions.
const executed: Array<{ name: string; started: number; finished: number; stdout: string; script: string }> = [];
const scratch = await scratchDir();
const node = new StrictNode();
const resources = recordingMocks(
  localFioState(async (name, script) => {
    const started = Date.now();
    const { stdout, stderr, code } = await runScript(withLocalTarget(script, `${scratch.path}/${name}.img`));
    if (code !== 0) throw new Error(`${name} failed: ${stderr}`);
    executed.push({ name, started, finished: Date.now(), stdout, script });
    return { stdout, stderr };
  }),
  node,
);
// Short runs for the test; everything else as the stack file says.
pulumi.runtime.setAllConfig(
  {
    ...(await stackConfig(STACK)),
    "layerbench:runtime": "1",
    "layerbench:size": "4m",
    "layerbench:sshPrivateKey": PRIVATE_KEY,
  },
  ["layerbench:sshPrivateKey"],
);
const { program, results } = await withoutStackTraces(async () => {
  const program = await import("../index.js");
  return { program, results: await outputValue<ResultsDocument>(program.results) };
});
test.after.always(() => scratch.cleanup());

test("one VM disk per variant with exactly its options, behind the boot disk", (t) => {
  const vm = byName(resources, "bench-vm-1-vm");
  t.is(vm.inputs.scsiHardware, "virtio-scsi-pci", "no SCSI variants");
  t.is(vm.inputs.vmId, 9100);
  t.deepEqual(vm.inputs.agent, { enabled: true });
  const [boot, ...data] = vm.inputs.disks;
  t.like(boot, { interface: "virtio0", datastoreId: "local-zfs", importFrom: "guest-image-id" });
  t.deepEqual(data, [
    {
      interface: "virtio1",
      datastoreId: "lb-test-16k-lz4-standard",
      size: 32,
      fileFormat: "raw",
      cache: "none",
      aio: "io_uring",
      iothread: true,
      discard: "ignore",
      serial: "blk-none",
      backup: false,
      replicate: false,
    },
    {
      interface: "virtio2",
      datastoreId: "lb-test-16k-lz4-standard",
      size: 32,
      fileFormat: "raw",
      cache: "writeback",
      aio: "io_uring",
      iothread: true,
      discard: "ignore",
      serial: "blk-writeback",
      backup: false,
      replicate: false,
    },
  ]);
  t.is(vm.inputs.initialization.userDataFileId, "bench-vm-1-user-data-id");
  t.deepEqual(vm.inputs.initialization.ipConfigs, [{ ipv4: { address: "dhcp" } }]);
});

test("the guest: cloud-init installs fio and the agent for the bench key's user; its address comes from the agent", async (t) => {
  const userData = byName(resources, "bench-vm-1-user-data").inputs;
  t.like(userData, { contentType: "snippets", datastoreId: "local", nodeName: "pve" });
  t.regex(
    userData.sourceRaw.fileName,
    /^layerbench-test-9100-[0-9a-f]{12}\.yaml$/,
    "named after the stack and the content",
  );
  t.regex(userData.sourceRaw.data, /^#cloud-config\n/);
  t.regex(userData.sourceRaw.data, /packages:\n {2}- fio\n {2}- qemu-guest-agent\n/);
  t.regex(userData.sourceRaw.data, /name: layerbench\n\s+sudo: ALL=\(ALL\) NOPASSWD:ALL/);
  const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIReplaceWithYourOwnPublicKeyxxxxxxxxxxxxxx you@example";
  t.true(userData.sourceRaw.data.includes(`- ${key}\n`), "the key on one line");
  t.deepEqual(parse(userData.sourceRaw.data).users[0].ssh_authorized_keys, [key]);
  t.like(byName(resources, "guest-image").inputs, {
    contentType: "import",
    fileName: "layerbench-test-debian-13-genericcloud-amd64.qcow2",
  });
  // The address the agent reports, read through the node once per run id; not the VM's refreshable ipv4Addresses.
  const address = byName(resources, "bench-vm-1-address");
  t.regex(address.inputs.create, /qm guest cmd 9100 network-get-interfaces/);
  t.deepEqual(address.inputs.triggers, [
    "1",
    byName(resources, "bench-vm-1-disks").inputs.environment.LAYERBENCH_DISKS,
  ]);
  t.is(address.inputs.connection.host, "pve.example.lan");
  t.deepEqual(await Promise.all(program.vmAddresses.map(outputValue)), ["192.168.1.77"]);
  t.is(byName(resources, "fio-vm-blk-none-fio").inputs.connection.host, "192.168.1.77");
});

test("ZFS: one storage per volblocksize/compression/sync, on its own dataset of the stack's; the baseline zvol matches", (t) => {
  const pools = resources.filter((resource) => resource.type === "proxmoxve:storage/zfspool:Zfspool");
  t.deepEqual(
    pools.map((pool) => pool.inputs),
    [
      {
        resourceId: "lb-test-16k-lz4-standard",
        zfsPool: "rpool/layerbench/test/16k-lz4-standard",
        blocksize: "16k",
        contents: ["images"],
        nodes: ["pve"],
        thinProvision: true,
      },
    ],
  );
  t.regex(byName(resources, "node-zfs-dataset").inputs.create, /zfs create -p 'rpool\/layerbench\/test'/);
  const group = byName(resources, "node-zfs-group-16k-lz4-standard");
  t.regex(group.inputs.create, /zfs set compression=lz4 sync=standard 'rpool\/layerbench\/test\/16k-lz4-standard'/);
  t.is(
    group.inputs.delete,
    "zfs destroy -r 'rpool/layerbench/test/16k-lz4-standard' 2>/dev/null || true\n",
    "its delete touches its own dataset only",
  );
  t.true(group.deleteBeforeReplace, "old and new share dataset names");
  t.regex(
    byName(resources, "node-zfs-baseline").inputs.create,
    /zfs create -s -V 32G -b 16k -o compression=lz4 -o sync=standard 'rpool\/layerbench\/test\/baseline-zvol'/,
  );
});

test("fio on the node: installed before the baseline runs; what each measurement wrote is released before the next", (t) => {
  const urn = (name: string) => byName(resources, name).urn;
  t.regex(byName(resources, "node-fio").inputs.create, /apt-get install -y -qq fio/);
  t.true(byName(resources, "fio-host-fio").dependencies.includes(urn("node-fio")));
  t.is(
    byName(resources, "fio-host-release").inputs.create.includes(
      "device='/dev/zvol/rpool/layerbench/test/baseline-zvol'",
    ),
    true,
  );
  t.regex(byName(resources, "fio-vm-blk-none-release").inputs.create, /qm config 9100 \| sed -n 's\/\^virtio1: /);
  t.regex(byName(resources, "fio-vm-blk-writeback-release").inputs.create, /qm config 9100 \| sed -n 's\/\^virtio2: /);
  for (const step of ["fio-host", "fio-vm-blk-none", "fio-vm-blk-writeback"]) {
    const release = byName(resources, `${step}-release`);
    t.true(release.dependencies.includes(urn(`${step}-fio`)), `${step}: released after its runs`);
    t.is(release.inputs.connection.host, "pve.example.lan", `${step}: on the node`);
    t.deepEqual(release.inputs.triggers, ["1"]);
  }
});

test("the fio Commands form one chain across layers, and ran one after the other", (t) => {
  const urn = (name: string) => byName(resources, name).urn;
  const fioUrns = new Set(
    resources.filter((resource) => resource.name.startsWith("fio-")).map((resource) => resource.urn),
  );
  // The VM variants in the order the runId's seed gives (recorded in the results), the baseline again after them.
  const vmOrder = results.order?.sequence.slice(1, -1) ?? [];
  t.deepEqual([...vmOrder].sort(), ["blk-none", "blk-writeback"]);
  t.deepEqual(results.order?.sequence.at(-1), "host-zvol");
  t.is(results.order?.seed, seedOf("1"));
  const chain = ["fio-host-fio", ...vmOrder.map((id) => `fio-vm-${id}-fio`), "fio-host-pass-2-fio"];
  for (const [index, name] of chain.entries()) {
    const fioDependencies = byName(resources, name).dependencies.filter((dependency) => fioUrns.has(dependency));
    t.deepEqual(
      fioDependencies,
      index === 0 ? [] : [urn(chain[index - 1].replace(/-fio$/, "-release"))],
      `${name} waits for exactly the measurement before it`,
    );
  }
  t.true(byName(resources, "fio-host-fio").dependencies.includes(urn("node-zfs-baseline")));
  t.true(
    byName(resources, "fio-host-fio").dependencies.includes(urn("bench-vm-1-ready")),
    "the baseline waits until no guest is booting or installing",
  );
  t.true(
    chain.slice(1, -1).every((name) => byName(resources, name).dependencies.includes(urn("bench-vm-1-ready"))),
    "VM runs wait for cloud-init",
  );
  t.deepEqual(
    executed.map((run) => run.name),
    chain,
  );
  for (let index = 1; index < executed.length; index += 1)
    t.true(executed[index].started >= executed[index - 1].finished, "no overlap");
  t.deepEqual(byName(resources, "fio-host-fio").inputs.triggers, ["1"]);
  t.regex(byName(resources, "fio-host-fio").createTimeout, /^\d+m$/);
});

test("destroy order: the VM before its storages, the storages before their datasets", (t) => {
  const urn = (name: string) => byName(resources, name).urn;
  t.true(byName(resources, "bench-vm-1-vm").dependencies.includes(urn("node-zfs-16k-lz4-standard")));
  t.true(byName(resources, "node-zfs-16k-lz4-standard").dependencies.includes(urn("node-zfs-group-16k-lz4-standard")));
  t.true(byName(resources, "node-zfs-group-16k-lz4-standard").dependencies.includes(urn("node-zfs-dataset")));
  t.true(byName(resources, "node-zfs-baseline").dependencies.includes(urn("node-zfs-dataset")));
});

test("results: every variant's real fio runs, the host zvol as baseline", (t) => {
  t.is(results.schema, "layerbench/results@2");
  t.deepEqual(results.source, { kind: "pulumi", project: "layerbench", stack: "test", runId: "1" });
  t.deepEqual(
    results.variants.map((variant) => [variant.id, variant.layer, variant.baseline]),
    [
      ["host-zvol", "host", true],
      ["blk-none", "vm", false],
      ["blk-writeback", "vm", false],
    ],
  );
  t.like(results.variants[1].options, {
    bus: "virtio-blk",
    cache: "none",
    aio: "io_uring",
    iothread: true,
    volblocksize: "16k",
  });
  // The baseline's two passes, before and after the VM variants, are its runs in that order.
  const ranFor = (id: string) =>
    executed.filter((run) =>
      id === "host-zvol" ? /^fio-host(-pass-\d+)?-fio$/.test(run.name) : run.name === `fio-vm-${id}-fio`,
    );
  t.is(ranFor("host-zvol").length, 2);
  for (const variant of results.variants) {
    const expected = ranFor(variant.id).flatMap((run) => parseScriptOutput(run.stdout, "expected").runs);
    for (const workload of variant.workloads)
      t.deepEqual(
        workload.runs,
        expected.filter((entry) => entry.workload === workload.id).map((entry) => entry.run),
        `${variant.id}/${workload.id}: the runs are fio's own numbers`,
      );
    t.deepEqual(
      variant.workloads.map((workload) => workload.id),
      ["randwrite-4k-qd1", "randwrite-64k-16x16", "randwrite-1m-qd1"],
    );
  }
  t.is(results.failures, undefined);
});

test("the private key is a secret everywhere it goes and appears in no output", async (t) => {
  const commands = resources.filter((resource) => resource.type === "command:remote:Command");
  t.true(commands.length >= 6);
  t.true(
    commands.every((command) => command.secretInputs.includes("connection")),
    "every Command's connection is a secret",
  );
  t.is(
    byName(resources, "fio-vm-blk-none-fio").inputs.connection.proxy.host,
    "pve.example.lan",
    "the guest is reached through the node",
  );
  const outputs = JSON.stringify({
    results,
    variants: program.variants,
    vmAddresses: await Promise.all(program.vmAddresses.map(outputValue)),
  });
  t.false(outputs.includes("test-key-material"));
  t.false(executed.some((run) => run.stdout.includes("test-key-material")));
});

integrationTest("every script a Command carries passes shellcheck", async (t) => {
  const scripts = resources
    .filter((resource) => resource.type === "command:remote:Command")
    .flatMap((resource) => [resource.inputs.create, resource.inputs.delete].filter(Boolean));
  for (const script of scripts as string[]) t.is(await shellcheck(script), "", script.slice(0, 80));
});

test("the resource tree reads like the architecture: a component per layer; what moved under one keeps an alias to its old place", (t) => {
  const urn = (name: string) => byName(resources, name).urn;
  const host = byName(resources, "host");
  const vm = byName(resources, "vm");
  t.deepEqual(
    [host.type, host.custom, vm.type, vm.custom],
    ["layerbench:layer:Host", false, "layerbench:layer:Vm", false],
  );
  for (const name of ["node-zfs", "node-fio", "guest-image", "fio-host"])
    t.is(byName(resources, name).parent, urn("host"), `${name} is the host layer's`);
  for (const name of ["bench-vm-1", "fio-vm-blk-none", "fio-vm-blk-writeback"])
    t.is(byName(resources, name).parent, urn("vm"), `${name} is the VM layer's`);
  t.is(byName(resources, "fio-vm-blk-none-fio").parent, urn("fio-vm-blk-none"));
  for (const name of ["node-zfs", "node-fio", "guest-image", "fio-host", "bench-vm-1", "fio-vm-blk-none"]) {
    const { aliases, type } = byName(resources, name);
    t.true(
      aliases.includes(`urn:pulumi:test::layerbench::${type}::${name}`) || aliases.includes("noParent"),
      `${name}: an alias to where it was made before the layers, at the root: ${aliases.join(", ")}`,
    );
  }
  // The one VM was "bench-vm" before VM names stopped depending on the VM count; its children follow its aliases.
  const { aliases } = byName(resources, "bench-vm-1");
  t.true(aliases.includes(`name bench-vm, parent ${urn("vm")}`) || aliases.includes("name bench-vm, noParent"));
  t.true(
    aliases.some((alias) =>
      /^name bench-vm, (noParent|parent urn:pulumi:test::layerbench::pulumi:pulumi:Stack)/.test(alias),
    ),
    aliases.join(", "),
  );
});
