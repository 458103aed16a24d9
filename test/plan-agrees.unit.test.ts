import { promises as fs } from "node:fs";
import { fileURLToPath } from "node:url";
import * as pulumi from "@pulumi/pulumi";
import test from "ava";
import { type BenchConfig, parseBenchConfig } from "../bench/config/stack-config.js";
import { readStackFile } from "../bench/config/stack-file.js";
import { planStack } from "../bench/plan/plan.js";
import { createLayers } from "../components/layers.js";
import {
  GRAPH_ONLY_STATE,
  outputValue,
  type RecordedResource,
  recordingMocks,
  withoutStackTraces,
} from "./helpers/pulumi-mocks.js";
import { StrictNode } from "./helpers/strict-node.js";
import { csiDriverNfsRules } from "./helpers/strict-rules/csi-driver-nfs.js";

// `layerbench plan` describes what `pulumi up` makes without running the program: for every example stack, its
// VMs (ids, names, nodes, size, every disk), datasets and zvols, storages and files must be those the program
// declares under the strict mock node.

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const STACKS = (await fs.readdir(`${ROOT}stacks`))
  .map((file) => /^Pulumi\.(.+)\.yaml$/.exec(file)?.[1])
  .filter((stack): stack is string => stack !== undefined)
  .sort();

// The ceph stack's k3s VMs go to pve1-3, and its RBD storages are the user's own (stacks/Pulumi.ceph.yaml), as
// are the storages stack's LVM-thin and directory storages (stacks/Pulumi.storages.yaml).
const node = new StrictNode("9.1.1", ["pve", "pve1", "pve2", "pve3"]);
node.addRbdStorage("ceph-vm", { pool: "ceph-vm", krbd: false });
node.addRbdStorage("ceph-vm-krbd", { pool: "ceph-vm", krbd: true });
node.addStorage("local-lvm", "lvmthin", ["images", "rootdir"]);
node.addStorage("vm-files", "dir", ["images"]);
// The storages stack's own StorageClass is the NFS CSI driver's: the strict cluster knows its rules once registered.
node.register(csiDriverNfsRules());
const resources = recordingMocks(GRAPH_ONLY_STATE, node);

/** The example stacks, and homelab with local-path alone: a Kubernetes layer whose k3s nodes get no backend disk. */
async function stackConfigs(): Promise<Array<[string, BenchConfig]>> {
  const configs: Array<[string, BenchConfig]> = [];
  for (const stack of STACKS) configs.push([stack, parseBenchConfig((await readStackFile(ROOT, stack)).raw)]);
  const homelab = (await readStackFile(ROOT, "homelab")).raw;
  // Its own vmIds: vmIds are unique in a cluster, and homelab's are on the strict node already.
  const k8s = homelab.k8s as { vm: object };
  configs.push([
    "homelab-local-path",
    parseBenchConfig({
      ...homelab,
      vm: { ...(homelab.vm as object), vmId: 9500 },
      k8s: { ...k8s, vm: { ...k8s.vm, vmId: 9600 }, variants: { list: [{ id: "local-path", kind: "local-path" }] } },
    }),
  ]);
  return configs;
}

const declared = new Map<string, { config: BenchConfig; resources: RecordedResource[] }>();
for (const [stack, config] of await stackConfigs()) {
  node.stack = stack;
  await withoutStackTraces(() =>
    outputValue(
      createLayers(config, pulumi.secret("key"), { project: "layerbench", stack }, pulumi.secret("cephx")).results,
    ),
  );
  declared.set(stack, { config, resources: resources.splice(0) });
}

const ofType = (all: RecordedResource[], type: string) => all.filter((resource) => resource.type === type);

test("every example stack is compared, and declared within the strict node's rules", (t) => {
  t.deepEqual(STACKS, ["ceph", "homelab", "quick", "storages", "vmsize"]);
  t.deepEqual(node.violations, []);
});

for (const stack of declared.keys()) {
  test(`${stack}: plan's VMs, disks, datasets, storages and files are the program's`, (t) => {
    const { config, resources: all } = declared.get(stack) ?? { config: undefined, resources: [] };
    if (!config) return t.fail(`${stack} was not declared`);
    const plan = planStack(config, stack);

    const vms = ofType(all, "proxmoxve:index/vmLegacy:VmLegacy").map(({ inputs }) => ({
      vmId: inputs.vmId,
      name: inputs.name,
      node: inputs.nodeName,
      cores: inputs.cpu.cores,
      memoryMb: inputs.memory.dedicated,
      disks: inputs.disks.map((disk: { interface: string; size: number; datastoreId: string; serial?: string }) => ({
        // plan names the k3s nodes' Longhorn disk by what it is for.
        slot: disk.serial === "longhorn" ? "longhorn" : disk.interface,
        sizeGb: disk.size,
        datastore: disk.datastoreId,
      })),
    }));
    const sortById = <T extends { vmId: number }>(list: T[]) => [...list].sort((a, b) => a.vmId - b.vmId);
    // The plan's own notes of a disk (the key naming its datastore, the type it must be) are not the provider's.
    const planned = plan.vms.map(({ role: _role, disks, ...vm }) => ({
      ...vm,
      disks: disks.map(({ key: _key, pveType: _type, ...disk }) => disk),
    }));
    t.deepEqual(sortById(planned), sortById(vms), "VMs and their disks");

    const pools = ofType(all, "proxmoxve:storage/zfspool:Zfspool").map(({ inputs }) => inputs);
    t.deepEqual([...plan.storageIds].sort(), pools.map((pool) => pool.resourceId).sort(), "storages");
    // Datasets and zvols: the storages' own, and those the node's Commands create.
    const made = ofType(all, "command:remote:Command").flatMap(({ inputs }) =>
      [...String(inputs.create).matchAll(/zfs create[^']*'([^'/][^']*)'/g)].map((match) => match[1]),
    );
    t.deepEqual(
      [...plan.datasets].sort(),
      [...new Set([...made, ...pools.map((pool) => pool.zfsPool)])].sort(),
      "datasets and zvols",
    );

    const images = ofType(all, "proxmoxve:download/file:File").map(
      ({ inputs }) => `${inputs.datastoreId}:${inputs.contentType}/${inputs.fileName} on ${inputs.nodeName}`,
    );
    t.deepEqual(plan.files.slice(0, -1).sort(), images.sort(), "the cloud image on every node with a VM");
    const snippets = ofType(all, "proxmoxve:index/fileLegacy:FileLegacy").map(
      ({ inputs }) => `${inputs.datastoreId}:${inputs.contentType} on ${inputs.nodeName}`,
    );
    t.is(plan.files.at(-1), `${config.vm.fileDatastore}:snippets/ one cloud-init file per VM, on its node`);
    t.deepEqual(
      snippets.sort(),
      plan.vms.map((vm) => `${config.vm.fileDatastore}:snippets on ${vm.node}`).sort(),
      "one cloud-init snippet per VM, on its node",
    );
  });
}

test("a Kubernetes layer on local-path alone: no backend disk on its k3s nodes, no Longhorn in the plan", (t) => {
  const { config } = declared.get("homelab-local-path") ?? {};
  if (!config) return t.fail("homelab-local-path was not declared");
  const plan = planStack(config, "homelab-local-path");
  t.deepEqual(
    plan.backends.map((backend) => [backend.name, backend.lines, backend.provisioningSec]),
    [["local-path", [], 0]],
  );
  const k3s = plan.vms.filter((vm) => vm.role === "k3s");
  t.is(k3s.length, 3);
  t.true(k3s.every((vm) => vm.disks.length === 1));
  t.false(plan.space.some((item) => /Longhorn/.test(item.what)));
});
