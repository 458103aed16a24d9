import { fileURLToPath } from "node:url";
import * as pulumi from "@pulumi/pulumi";
import test from "ava";
import { parseBenchConfig } from "../bench/config/stack-config.js";
import { readStackFile } from "../bench/config/stack-file.js";
import { createLayers } from "../components/layers.js";
import {
  GRAPH_ONLY_STATE,
  outputValue,
  type RecordedResource,
  recordingMocks,
  withoutStackTraces,
} from "./helpers/pulumi-mocks.js";
import { StrictNode } from "./helpers/strict-node.js";

// The example stacks on one strict mock node, as stacks of one project: nothing they name on the node may
// collide (storage ids, datasets, files, vmIds), and destroying one must not touch the other's.

const node = new StrictNode();
const resources = recordingMocks(GRAPH_ONLY_STATE, node);

async function declare(stack: string, file = stack.replace(/-copy$/, "")): Promise<RecordedResource[]> {
  const config = parseBenchConfig((await readStackFile(fileURLToPath(new URL("..", import.meta.url)), file)).raw);
  node.stack = stack;
  await withoutStackTraces(() =>
    outputValue(createLayers(config, pulumi.secret("key"), { project: "layerbench", stack }).results),
  );
  return resources.splice(0);
}

const homelab = await declare("homelab");
const quick = await declare("quick");
const vmsize = await declare("vmsize");

/** Everything a stack's resources name on the node. */
function namesOnNode(declared: RecordedResource[]): string[] {
  return declared.flatMap((resource) => {
    const { inputs } = resource;
    if (resource.type === "proxmoxve:storage/zfspool:Zfspool")
      return [`storage ${inputs.resourceId}`, `dataset ${inputs.zfsPool}`];
    if (resource.type === "proxmoxve:download/file:File") return [`file ${inputs.fileName}`];
    if (resource.type === "proxmoxve:index/fileLegacy:FileLegacy") return [`file ${inputs.sourceRaw.fileName}`];
    if (resource.type === "proxmoxve:index/vmLegacy:VmLegacy") return [`vm ${inputs.vmId}`];
    // Datasets and zvols that Commands create and destroy.
    if (resource.type === "command:remote:Command")
      return [...`${inputs.create}\n${inputs.delete ?? ""}`.matchAll(/zfs (?:create|destroy)[^']*'([^']+)'/g)].map(
        (match) => `dataset ${match[1]}`,
      );
    return [];
  });
}

test.serial(
  "homelab, quick and vmsize side by side on one node: every rule holds, and they share nothing but the parent dataset",
  (t) => {
    t.deepEqual(node.violations, []);
    for (const [a, b] of [
      [homelab, quick],
      [homelab, vmsize],
      [quick, vmsize],
    ]) {
      const shared = namesOnNode(a).filter((name) => namesOnNode(b).includes(name));
      t.deepEqual(
        [...new Set(shared)],
        ["dataset rpool/layerbench"],
        "only the shared parent, which each stack leaves while another lives in it",
      );
    }
    t.true(namesOnNode(quick).includes("storage lb-quick-16k-lz4-standard"));
    t.true(namesOnNode(homelab).includes("storage lb-homelab-16k-lz4-standard"));
  },
);

test.serial(
  "vmsize: memoryMb [2048, 4096, 8192] as an axis gives three VMs of those sizes, each with its variant's disk",
  (t) => {
    const vms = vmsize
      .filter((resource) => resource.type === "proxmoxve:index/vmLegacy:VmLegacy")
      .sort((a, b) => a.inputs.vmId - b.inputs.vmId);
    t.deepEqual(
      vms.map((vm) => [
        vm.inputs.vmId,
        vm.inputs.memory.dedicated,
        vm.inputs.cpu.cores,
        vm.inputs.disks.slice(1).map((disk: { serial: string }) => disk.serial),
      ]),
      [
        [9110, 2048, 4, ["mem2g"]],
        [9111, 4096, 4, ["mem4g"]],
        [9112, 8192, 4, ["mem8g"]],
      ],
    );
  },
);

test.serial(
  "only the parent dataset's delete can touch what another stack made, and it never destroys recursively",
  (t) => {
    const parentDeletes = quick.filter((resource) =>
      /zfs destroy 'rpool\/layerbench' /.test(resource.inputs.delete ?? ""),
    );
    t.is(parentDeletes.length, 1);
    t.false(quick.some((resource) => /zfs destroy -r 'rpool\/layerbench'( |')/.test(resource.inputs.delete ?? "")));
  },
);

test.serial(
  "the same stack file as a second stack on the same node collides only in its vmIds, which plan refuses first",
  async (t) => {
    node.recordOnly = true;
    await declare("quick-copy");
    t.deepEqual(node.violations, [
      "bench-vm-1-vm (proxmoxve:index/vmLegacy:VmLegacy): unable to create VM 9100: config file already exists (qemu-server API2/Qemu.pm) (made by quick/bench-vm-1-vm)",
    ]);
  },
);
