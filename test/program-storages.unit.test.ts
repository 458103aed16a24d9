import { fileURLToPath } from "node:url";
import * as pulumi from "@pulumi/pulumi";
import test from "ava";
import { parseBenchConfig } from "../bench/config/stack-config.js";
import { readStackFile } from "../bench/config/stack-file.js";
import { planStack } from "../bench/plan/plan.js";
import { panelLayers } from "../bench/report/layer-steps.js";
import { collectReportData } from "../bench/report/rows.js";
import { createLayers } from "../components/layers.js";
import { byName, measuringState, outputValue, recordingMocks, withoutStackTraces } from "./helpers/pulumi-mocks.js";
import { shortArsOutput } from "./helpers/scripts.js";
import { StrictNode } from "./helpers/strict-node.js";
import { csiDriverNfsRules } from "./helpers/strict-rules/csi-driver-nfs.js";

// The storages stack (stacks/Pulumi.storages.yaml) on a strict mock node installed on ext4: its local-lvm thin
// pool and a directory storage the user added for disk images, beside the stack's own ZFS storage.

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const fioStdout = await shortArsOutput();
const node = new StrictNode("9.1.1", ["pve"]);
node.addStorage("local-lvm", "lvmthin", ["images", "rootdir"]);
node.addStorage("vm-files", "dir", ["images"]);
// The storages stack's own StorageClass is the NFS CSI driver's: the strict cluster knows its rules once registered.
node.register(csiDriverNfsRules());
const resources = recordingMocks(measuringState(fioStdout, "/dev/zvol/tank/layerbench/storages/baseline-zvol"), node);

const file = await readStackFile(ROOT, "storages");
const config = parseBenchConfig(file.raw);
const results = await withoutStackTraces(() =>
  outputValue(createLayers(config, pulumi.secret("key"), { project: "layerbench", stack: "storages" }).results),
);
const dataDisks = () =>
  resources
    .filter((resource) => /^bench-vm-\d+-vm$/.test(resource.name))
    .flatMap((vm) => vm.inputs.disks)
    .filter((disk) => disk.serial);

test("the storages stack under the strict mocks: each disk on its storage in the format it takes, none refused", (t) => {
  t.deepEqual(node.violations, []);
  t.deepEqual(
    dataDisks().map((disk) => [disk.serial, disk.datastoreId, disk.fileFormat]),
    [
      ["zfs-raw", "lb-storages-16k-lz4-standard", "raw"],
      ["lvmthin-raw", "local-lvm", "raw"],
      ["dir-raw", "vm-files", "raw"],
      ["dir-qcow2", "vm-files", "qcow2"],
    ],
  );
  // qcow2 where pve-storage has none: skipped before anything is declared, the plugin named.
  t.deepEqual(
    config.skippedVariants.map((skipped) => [skipped.id, /LvmThinPlugin\.pm|ZFSPoolPlugin\.pm/.test(skipped.reason)]),
    [
      ["zfs-qcow2", true],
      ["lvmthin-qcow2", true],
    ],
  );
});

test("a thin LV and a file are filled before they are measured; the stack's zvol follows layerbench:precondition", (t) => {
  const fills = (id: string) => /preconditioning/.test(byName(resources, `fio-vm-${id}-fio`).inputs.create);
  t.deepEqual(["zfs-raw", "lvmthin-raw", "dir-raw", "dir-qcow2"].map(fills), [false, true, true, true]);
});

test("results name each disk's storage, the user's storage id, and the format where the storage offers a choice", (t) => {
  const byId = new Map(results.variants.map((variant) => [variant.id, variant.options]));
  t.like(byId.get("lvmthin-raw"), { storage: "lvmthin", datastore: "local-lvm" });
  t.is(byId.get("lvmthin-raw")?.format, undefined, "LVM-thin takes raw alone: no format to compare");
  t.is(byId.get("lvmthin-raw")?.volblocksize, undefined, "no ZFS options off ZFS");
  t.like(byId.get("dir-qcow2"), { storage: "dir", format: "qcow2", datastore: "vm-files" });
  t.like(byId.get("dir-raw"), { storage: "dir", format: "raw" });
  t.like(byId.get("zfs-raw"), { storage: "zfs", volblocksize: "16k" });
  // The report steps through the VM layer per storage, each named.
  const labels = panelLayers(collectReportData([results]))[0].steps.map((step) => step.label);
  t.deepEqual(labels, [
    "host on LVM-thin",
    "host on directory",
    "vm on ZFS",
    "vm on LVM-thin",
    "vm on directory",
    "k8s on local-path",
    "k8s on OpenEBS hostpath",
    "k8s on StorageClass nfs-csi",
  ]);
});

test("plan: the VM disks on the user's storages are counted there, with the key that names each", (t) => {
  const plan = planStack(config, "storages");
  const disks = plan.vms[0].disks.slice(1).map((disk) => [disk.datastore, disk.key, disk.pveType]);
  t.deepEqual(disks, [
    ["lb-storages-16k-lz4-standard", "vmVariants", undefined],
    ["local-lvm", "storages.lvmthin", "lvmthin"],
    ["vm-files", "storages.dir", "dir"],
    ["vm-files", "storages.dir", "dir"],
  ]);
  t.deepEqual(plan.storageIds, ["lb-storages-16k-lz4-standard"]);
  t.deepEqual(
    plan.userStorages.map((line) =>
      /^(.*?) \(storages\.\w+\): [^;]*; (\d) VM disk\(s\) of 32 GiB \(([\w, ]+)\)/.exec(line)?.slice(1),
    ),
    [
      ["LVM-thin storage local-lvm", "1", "raw"],
      ["directory storage vm-files", "2", "raw, qcow2"],
    ],
  );
  t.regex(plan.userStorages[0], /discarded after their runs/);
  t.regex(plan.userStorages[1], /kept until destroy/);
});

test("the strict node refuses what pve-storage refuses: qcow2 on LVM-thin, a directory storage without disk images", async (t) => {
  const strict = new StrictNode("9.1.1", ["pve"]);
  strict.addStorage("local-lvm", "lvmthin", ["images", "rootdir"]);
  strict.addStorage("isos", "dir", ["iso"]);
  const disk = (datastoreId: string, fileFormat: string) => ({
    nodeName: "pve",
    vmId: 9400,
    disks: [{ interface: "scsi0", datastoreId, fileFormat, serial: "x" }],
  });
  t.throws(() => strict.admit("proxmoxve:index/vmLegacy:VmLegacy", "a", disk("local-lvm", "qcow2")), {
    message: /unsupported format 'qcow2' for storage type lvmthin/,
  });
  t.throws(() => strict.admit("proxmoxve:index/vmLegacy:VmLegacy", "b", disk("isos", "raw")), {
    message: /storage 'isos' does not support vm images/,
  });
  t.throws(() => strict.addStorage("nas", "nfs", ["images", "none"]), { message: /cannot take content none/ });
});

test("each storage of the user's is measured from the node too: a thin LV pve-storage makes, a directory on the file storage", (t) => {
  const volume = byName(resources, "host-lvmthin-target").inputs;
  // ars with size 1g: 16 jobs of 1 GiB side by side.
  t.regex(volume.create, /pvesm alloc 'local-lvm' 9400 'vm-9400-layerbench-storages-host' 16384M --format raw/);
  t.regex(volume.delete, /pvesm free 'local-lvm:vm-9400-layerbench-storages-host'/);
  // Made again per run id: the provider's VM delete takes a volume carrying its vmId with it (vm.go).
  t.deepEqual(volume.triggers, ["1"]);
  const directory = byName(resources, "host-dir-target").inputs;
  t.regex(directory.create, /pvesh get \/storage\/'vm-files' --output-format json/);
  t.regex(directory.create, /mkdir -p "\$path\/layerbench-storages-host"/);
  t.regex(directory.delete, /rm -rf "\$path\/layerbench-storages-host"/);
  const fio = byName(resources, "fio-host-lvmthin-fio");
  t.true(fio.dependencies.includes(byName(resources, "host-lvmthin-target").urn));
  const byId = new Map(results.variants.map((variant) => [variant.id, variant]));
  t.like(byId.get("host-lvmthin"), {
    layer: "host",
    baseline: false,
    options: { storage: "lvmthin", datastore: "local-lvm" },
  });
  t.like(byId.get("host-dir"), { layer: "host", baseline: false, options: { storage: "dir", datastore: "vm-files" } });
  t.is(byId.get("host-zvol")?.baseline, true, "the ZFS zvol stays the baseline");
});

test("OpenEBS LocalPV hostpath: its chart pinned without its own class or analytics, a class per variant, ready before fio", (t) => {
  const release = byName(resources, "openebs-release");
  t.like(release.inputs, {
    chart: "localpv-provisioner",
    version: "4.0.0",
    repositoryOpts: { repo: "https://openebs.github.io/dynamic-localpv-provisioner" },
    values: { hostpathClass: { enabled: false }, analytics: { enabled: false } },
  });
  const storageClass = byName(resources, "openebs-sc-openebs");
  t.like(storageClass.inputs, { provisioner: "openebs.io/local", volumeBindingMode: "WaitForFirstConsumer" });
  t.regex(
    storageClass.inputs.metadata.annotations["cas.openebs.io/config"],
    /BasePath\n {2}value: "\/var\/openebs\/local"/,
  );
  const ready = byName(resources, "openebs-ready");
  t.regex(ready.inputs.create, /rollout status -n 'openebs' "\$workload"/);
  t.regex(ready.inputs.create, /'deployment\/localpv-provisioner'/);
  // The layer's first measurement waits for every backend: OpenEBS's provisioner is not starting beside fio.
  t.true(byName(resources, "fio-k8s-local-path-job").dependencies.includes(ready.urn));
});

test("kind storageclass: the user's chart and manifest, the class checked before fio, the claim on it, recorded", (t) => {
  const release = byName(resources, "storageclass-nfs-release");
  t.like(release.inputs, { chart: "csi-driver-nfs", version: "4.13.4", namespace: "kube-system" });
  const made = byName(resources, "storageclass-nfs");
  t.like(made.inputs, { metadata: { name: "nfs-csi" }, provisioner: "nfs.csi.k8s.io", mountOptions: ["nfsvers=4.1"] });
  t.is(made.inputs.apiVersion, "storage.k8s.io/v1", "the SDK's own apiVersion, not the manifest's field");
  t.true(made.dependencies.includes(release.urn), "deleted before its driver");
  const ready = byName(resources, "storageclass-nfs-ready");
  t.regex(ready.inputs.create, /'deployment\/csi-nfs-controller' 'daemonset\/csi-nfs-node'/);
  t.regex(ready.inputs.create, /k3s kubectl get storageclass 'nfs-csi'/);
  const claim = byName(resources, "fio-k8s-nfs-pvc");
  t.is(claim.inputs.spec.storageClassName, "nfs-csi");
  t.true(byName(resources, "fio-k8s-nfs-job").dependencies.includes(ready.urn));
  const byId = new Map(results.variants.map((variant) => [variant.id, variant]));
  t.like(byId.get("k8s-nfs")?.options, {
    kind: "storageclass",
    storageClass: "nfs-csi",
    provisioner: "nfs.csi.k8s.io",
    chart: "csi-driver-nfs 4.13.4",
    filled: false,
  });
  t.like(byId.get("k8s-openebs")?.options, { kind: "openebs-hostpath", basePath: "/var/openebs/local" });
  t.is(byId.get("k8s-openebs")?.environment?.openebs, "4.0.0");
});
