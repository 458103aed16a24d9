import { fileURLToPath } from "node:url";
import * as pulumi from "@pulumi/pulumi";
import test from "ava";
import { parseBenchConfig } from "../bench/config/stack-config.js";
import { readStackFile } from "../bench/config/stack-file.js";
import { createLayers } from "../components/layers.js";
import { byName, measuringState, outputValue, recordingMocks, withoutStackTraces } from "./helpers/pulumi-mocks.js";
import { shortArsOutput } from "./helpers/scripts.js";
import { StrictNode } from "./helpers/strict-node.js";

// The homelab's Kubernetes layer spread over a cluster of three Proxmox nodes (k8s.proxmoxNodes), on a strict
// mock cluster that knows those three nodes, each with its own `local` and `local-zfs`.

const fioStdout = await shortArsOutput();
const cluster = new StrictNode("8.4.1", ["pve1", "pve2", "pve3"]);
const resources = recordingMocks(
  measuringState(fioStdout, "/dev/zvol/rpool/layerbench/homelab/baseline-zvol"),
  cluster,
);

const file = await readStackFile(fileURLToPath(new URL("..", import.meta.url)), "homelab");
const config = parseBenchConfig({
  ...file.raw,
  node: "pve1",
  nodeAddress: "pve1.lan",
  vmVariants: { list: [{ id: "blk-none" }] },
  k8s: { ...(file.raw.k8s as object), proxmoxNodes: ["pve1", { name: "pve2", address: "10.0.0.2" }, "pve3"] },
});
const results = await withoutStackTraces(() =>
  outputValue(createLayers(config, pulumi.secret("key"), { project: "layerbench", stack: "homelab" }).results),
);

test("k8s.proxmoxNodes: the three k3s VMs on three nodes, each with the cloud image and its snippet on its own node", (t) => {
  t.deepEqual(cluster.violations, []);
  const vms = resources.filter((resource) => /^k3s-node-\d-vm$/.test(resource.name));
  t.deepEqual(
    vms.map((vm) => [vm.name, vm.inputs.nodeName, vm.inputs.vmId, vm.inputs.disks[0].importFrom]),
    [
      ["k3s-node-1-vm", "pve1", 9200, "guest-image-id"],
      ["k3s-node-2-vm", "pve2", 9201, "k3s-image-pve2-id"],
      ["k3s-node-3-vm", "pve3", 9202, "k3s-image-pve3-id"],
    ],
  );
  const images = resources.filter((resource) => resource.type === "proxmoxve:download/file:File");
  t.deepEqual(
    images.map((image) => [image.name, image.inputs.nodeName, image.inputs.datastoreId, image.inputs.contentType]),
    [
      ["guest-image", "pve1", "local", "import"],
      ["k3s-image-pve2", "pve2", "local", "import"],
      ["k3s-image-pve3", "pve3", "local", "import"],
    ],
  );
  for (const index of [1, 2, 3]) {
    t.is(byName(resources, `k3s-node-${index}-user-data`).inputs.nodeName, `pve${index}`, "the snippet beside its VM");
  }
  // The guest's address is asked of `qm` on the node that runs the guest.
  t.deepEqual(
    [1, 2, 3].map((index) => byName(resources, `k3s-node-${index}-address`).inputs.connection.host),
    ["pve1.lan", "10.0.0.2", "pve3"],
  );
  t.is(byName(resources, "bench-vm-1-vm").inputs.nodeName, "pve1", "the bench VM stays on the stack's node");
});

test("the fio pod stays on the first k3s node; the results name every variant's Proxmox node and where replicas go", (t) => {
  const jobs = resources.filter((resource) => resource.type === "kubernetes:batch/v1:Job");
  t.true(jobs.length > 0);
  for (const job of jobs)
    t.deepEqual(job.inputs.spec.template.spec.nodeSelector, { "kubernetes.io/hostname": "layerbench-k3s-1" });
  t.deepEqual(results.variants.map((variant) => [variant.id, variant.proxmoxNode]).slice(0, 3), [
    ["host-zvol", "pve1"],
    ["blk-none", "pve1"],
    ["k8s-local-path", "pve1"],
  ]);
  const longhorn = results.variants.find((variant) => variant.id === "k8s-longhorn-r3-nolocal");
  t.is(longhorn?.options.replicaPlacement, "one per k3s node (Longhorn's anti-affinity); k3s VMs on pve1, pve2, pve3");
});

test("a k3s node on a Proxmox node the cluster does not have is refused as Proxmox would", (t) => {
  const lone = new StrictNode("8.4.1", ["pve1"]);
  const vm = byName(resources, "k3s-node-2-vm");
  t.throws(() => lone.admit(vm.type, vm.name, vm.inputs), { message: /no such cluster node 'pve2'/ });
});
