import { fileURLToPath } from "node:url";
import * as pulumi from "@pulumi/pulumi";
import test from "ava";
import { parseBenchConfig } from "../bench/config/stack-config.js";
import { readStackFile } from "../bench/config/stack-file.js";
import { deriveWarnings } from "../bench/core/warnings.js";
import { removeRbdImageScript } from "../bench/remote/node-scripts.js";
import { panelEffects } from "../bench/report/effects.js";
import { panelLayers } from "../bench/report/layer-steps.js";
import { renderMarkdown } from "../bench/report/markdown.js";
import { collectReportData } from "../bench/report/rows.js";
import { backendsOf } from "../components/backends/index.js";
import { k3sNodeRole } from "../components/k3s-cluster.js";
import { createLayers } from "../components/layers.js";
import { byName, measuringState, outputValue, recordingMocks, withoutStackTraces } from "./helpers/pulumi-mocks.js";
import { shortArsOutput } from "./helpers/scripts.js";
import { StrictNode } from "./helpers/strict-node.js";

// The ceph stack (stacks/Pulumi.ceph.yaml) on a strict mock cluster of three nodes that has the user's two RBD
// storages of pool ceph-vm (one with krbd), as `pveceph pool create --add_storages` and Datacenter > Storage make them.

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const fioStdout = await shortArsOutput();
const DEFAULT_FEATURES = "layering,exclusive-lock,object-map,fast-diff,deep-flatten";
const cluster = new StrictNode("9.1.1", ["pve1", "pve2", "pve3"]);
cluster.addRbdStorage("ceph-vm", { pool: "ceph-vm", krbd: false });
cluster.addRbdStorage("ceph-vm-krbd", { pool: "ceph-vm", krbd: true });
// The host-level Ceph run's script reports the cache librbd ran with, as it does on a node (remote/fio-script.ts).
const resources = recordingMocks(
  measuringState(fioStdout, "/dev/zvol/rpool/layerbench/ceph/baseline-zvol", {
    "fio-host-ceph-fio": `${fioStdout}@@layerbench environment rbdCache writearound\n`,
    // The node's release of a VM disk on Ceph says what its image is (remote/node-scripts.ts).
    ...Object.fromEntries(
      ["rbd-none", "rbd-wb", "krbd-none", "krbd-wb"].map((id) => [
        `fio-vm-${id}-release`,
        [
          `@@layerbench environment imageFeatures ${DEFAULT_FEATURES}`,
          ...(id === "rbd-wb" ? ["@@layerbench environment rbdCache writearound"] : []),
          ...(id === "rbd-none" ? ["@@layerbench environment rbdCache off"] : []),
          "",
        ].join("\n"),
      ]),
    ),
  }),
  cluster,
);

const file = await readStackFile(ROOT, "ceph");
const config = parseBenchConfig(file.raw);
const results = await withoutStackTraces(() =>
  outputValue(
    createLayers(config, pulumi.secret("key"), { project: "layerbench", stack: "ceph" }, pulumi.secret("AQBcephx=="))
      .results,
  ),
);

test("the ceph stack under the strict mocks: no rule broken; VM disks on the ZFS group, the RBD storage or its krbd twin", (t) => {
  t.deepEqual(cluster.violations, []);
  const disks = resources
    .filter((resource) => /^bench-vm-\d+-vm$/.test(resource.name))
    .flatMap((vm) => vm.inputs.disks)
    .filter((disk) => disk.serial)
    .map((disk) => [disk.serial, disk.datastoreId, disk.cache]);
  t.deepEqual(disks, [
    ["zfs-none", "lb-ceph-16k-lz4-standard", "none"],
    ["zfs-wb", "lb-ceph-16k-lz4-standard", "writeback"],
    ["rbd-none", "ceph-vm", "none"],
    ["rbd-wb", "ceph-vm", "writeback"],
    ["krbd-none", "ceph-vm-krbd", "none"],
    ["krbd-wb", "ceph-vm-krbd", "writeback"],
  ]);
  // A disk on Ceph is filled before its first run (a thin image reads zeros without the OSDs); the stack's ZFS
  // disks only with layerbench:precondition, which this stack leaves off.
  // qemu-server's aio where the stack names none: threads for krbd through the host's cache (io_uring hangs
  // there, Drive.pm storage_allows_io_uring_default), io_uring elsewhere.
  const aio = resources
    .filter((resource) => /^bench-vm-\d+-vm$/.test(resource.name))
    .flatMap((vm) => vm.inputs.disks)
    .filter((disk) => disk.serial)
    .map((disk) => [disk.serial, disk.aio]);
  t.deepEqual(aio, [
    ["zfs-none", "io_uring"],
    ["zfs-wb", "io_uring"],
    ["rbd-none", "io_uring"],
    ["rbd-wb", "io_uring"],
    ["krbd-none", "io_uring"],
    ["krbd-wb", "threads"],
  ]);
  const fills = (id: string) => /preconditioning/.test(byName(resources, `fio-vm-${id}-fio`).inputs.create);
  t.deepEqual(["zfs-none", "rbd-none", "krbd-wb"].map(fills), [false, true, true]);
  // One ZFS storage: the RBD variants' ZFS options (defaults) make no dataset of their own.
  t.is(resources.filter((resource) => resource.type === "proxmoxve:storage/zfspool:Zfspool").length, 1);
});

test("the host-level Ceph run: fio's rbd engine on the node, on an image of the pool it makes and removes, after the ZFS baseline", (t) => {
  const fio = byName(resources, "fio-host-ceph-fio");
  const script: string = fio.inputs.create;
  t.regex(script, /^LAYERBENCH_TARGET="layerbench-ceph-host"$/m);
  t.regex(script, /^LAYERBENCH_RBD_POOL="ceph-vm"$/m);
  t.regex(script, /^LAYERBENCH_RBD_CLIENT="admin"$/m, "pveceph's client.admin, whose keyring every node has");
  // ars with size 1g: 16 jobs of 1 GiB side by side in the image.
  t.regex(script, /rbd --id "\$LAYERBENCH_RBD_CLIENT" create --size 16384M/);
  t.regex(script, /^ioengine=rbd$/m);
  t.true(fio.dependencies.includes(byName(resources, "fio-host-release").urn), "after the ZFS baseline's run");
  // A run killed past its trap leaves the image: destroy removes it (the script is run in ceph.test.ts).
  const release = byName(resources, "fio-host-ceph-release").inputs;
  t.is(release.create, "true");
  t.is(release.delete, removeRbdImageScript("ceph-vm", "layerbench-ceph-host"));
  // The VM variants run in the seed's order: the first of them, whichever it is, waits for this run's release.
  const cephReleased = byName(resources, "fio-host-ceph-release").urn;
  const vmFio = resources.filter((resource) => /^fio-vm-.*-fio$/.test(resource.name));
  t.is(vmFio.filter((resource) => resource.dependencies.includes(cephReleased)).length, 1, "and before the first VM's");
});

test("the ceph-csi volume is filled before it is measured, as the VM disks on Ceph are; Longhorn's is not", (t) => {
  const scripts = byName(resources, "k8s-fio-script").inputs.data as Record<string, string>;
  t.deepEqual(Object.keys(scripts).sort(), ["fill-and-run.sh", "run.sh"]);
  t.regex(scripts["fill-and-run.sh"], /--fill_device=1/);
  t.notRegex(scripts["run.sh"], /--fill_device=1/);
  const scriptOf = (id: string) =>
    byName(resources, `fio-k8s-${id}-job`).inputs.spec.template.spec.containers[0].env.find(
      (entry: { name: string }) => entry.name === "LAYERBENCH_SCRIPT",
    )?.value;
  t.deepEqual(["ceph-rbd", "longhorn-r3", "local-path"].map(scriptOf), [
    "/layerbench/fill-and-run.sh",
    "/layerbench/run.sh",
    "/layerbench/run.sh",
  ]);
});

test("every Ceph variant names its pool's replicas; librbd's cache is said and flagged, krbd and cache=none are not", (t) => {
  const byId = new Map(results.variants.map((variant) => [variant.id, variant]));
  t.like(byId.get("host-ceph")?.options, { kind: "rbd", engine: "rbd", pool: "ceph-vm", replicas: 3, minSize: 2 });
  t.is(byId.get("host-ceph")?.environment?.rbdCache, "writearound");
  t.like(byId.get("rbd-wb")?.options, { storage: "rbd", pool: "ceph-vm", replicas: 3 });
  // What the node's release says of a Ceph disk's image reaches its record (its script is run in ceph.test.ts).
  t.like(byId.get("rbd-wb")?.environment, { rbdCache: "writearound", imageFeatures: DEFAULT_FEATURES });
  t.like(byId.get("rbd-none")?.environment, { rbdCache: "off" });
  t.is(byId.get("krbd-wb")?.environment?.rbdCache, undefined, "krbd: the host's page cache, as ZFS's disks");
  const release = (id: string) => byName(resources, `fio-vm-${id}-release`).inputs.create as string;
  t.regex(release("rbd-wb"), /rbd --id admin config image list 'ceph-vm'\/"\$\{volume#\*:\}"/);
  t.regex(release("rbd-none"), /environment rbdCache \$value/);
  t.notRegex(release("krbd-wb"), /rbdCache/);
  t.notRegex(release("zfs-wb"), /imageFeatures/);
  // qemu-server gives a librbd blockdev no aio (Blockdev.pm): recorded as not applicable, not as io_uring.
  t.deepEqual(
    ["rbd-wb", "krbd-wb", "zfs-wb"].map((id) => byId.get(id)?.options.aio),
    ["n/a", "threads", "io_uring"],
  );
  t.is(byId.get("rbd-none")?.options.volblocksize, undefined, "no ZFS options on an RBD disk");
  t.like(byId.get("k8s-ceph-rbd")?.options, {
    kind: "ceph-rbd",
    storageClass: "lb-ceph-rbd",
    replicas: 3,
    pool: "ceph-vm",
    // What the StorageClass asks ceph-csi for, recorded beside the numbers.
    imageFeatures: byName(resources, "ceph-csi-sc-ceph-rbd").inputs.parameters.imageFeatures,
  });
  t.is(byId.get("k8s-ceph-rbd")?.options.imageFeatures, "layering");
  t.like(byId.get("k8s-longhorn-r3")?.options, { replicas: 3 }, "beside Longhorn with as many replicas");
  const flagged = new Set(
    deriveWarnings(results)
      .filter((warning) => warning.code === "client-cache")
      .map((warning) => warning.variant),
  );
  t.deepEqual([...flagged].sort(), ["host-ceph", "rbd-wb"]);
});

test("ceph-csi: its chart with the user's monitors, the cephx key a Pulumi secret in a Secret of its own, a StorageClass per variant", (t) => {
  const release = byName(resources, "ceph-csi-release");
  t.like(release.inputs, {
    chart: "ceph-csi-rbd",
    version: "3.12.2",
    repositoryOpts: { repo: "https://ceph.github.io/csi-charts" },
  });
  t.deepEqual(release.inputs.values.csiConfig, [
    {
      clusterID: "3e5b2c1a-9f0d-4c6b-8a7e-1d2f3a4b5c6d",
      monitors: ["10.0.0.11:6789", "10.0.0.12:6789", "10.0.0.13:6789"],
    },
  ]);
  t.notRegex(JSON.stringify(release.inputs), /AQBcephx/, "the key never enters Helm's values");
  const secret = byName(resources, "ceph-csi-user");
  t.deepEqual(secret.inputs.stringData, { userID: "kubernetes", userKey: "AQBcephx==" });
  t.true(secret.secretInputs.includes("stringData"), "sent as a secret");
  const storageClass = byName(resources, "ceph-csi-sc-ceph-rbd");
  t.like(storageClass.inputs, {
    provisioner: "rbd.csi.ceph.com",
    parameters: { pool: "ceph-vm", imageFeatures: "layering" },
  });
  t.true(storageClass.dependencies.includes(release.urn));
  // Measured after ceph-csi is ready, as after Longhorn: nothing starts up beside fio.
  const job = byName(resources, "fio-k8s-ceph-rbd-job");
  t.true(job.dependencies.includes(storageClass.urn));
  const role = k3sNodeRole(
    backendsOf(config.k8s?.variants ?? []).map((backend) => backend.nodeNeeds(config.k8s ?? ({} as never))),
  );
  t.true(
    role.checks.some((check) => check.startsWith("modinfo rbd")),
    "the node kernel maps the images",
  );
});

test("the strict cluster refuses what a real one would: a disk on an RBD storage it lacks or not raw, more provisioners than nodes, a cluster ceph-csi was not told of", (t) => {
  const bare = new StrictNode("9.1.1", ["pve1", "pve2", "pve3"]);
  const vm = byName(resources, "bench-vm-1-vm");
  const zfs = resources.filter((resource) => resource.type === "proxmoxve:storage/zfspool:Zfspool");
  for (const storage of zfs) bare.admit(storage.type, storage.name, storage.inputs);
  t.throws(() => bare.admit(vm.type, vm.name, vm.inputs), { message: /storage 'ceph-vm' does not exist/ });
  bare.addRbdStorage("ceph-vm", { pool: "ceph-vm", krbd: false });
  const qcow2 = vm.inputs.disks.map((disk: { datastoreId: string }) =>
    disk.datastoreId === "ceph-vm" ? { ...disk, fileFormat: "qcow2" } : disk,
  );
  t.throws(() => bare.admit(vm.type, vm.name, { ...vm.inputs, vmId: 9399, disks: qcow2 }), {
    message: /unsupported format 'qcow2' for storage type rbd/,
  });
  const strict = new StrictNode("9.1.1", ["pve1"]);
  strict.addRbdStorage("other", { pool: "other-pool", krbd: false });
  const release = byName(resources, "ceph-csi-release");
  t.throws(() => strict.admit(release.type, release.name, { ...release.inputs, values: { csiConfig: [] } }), {
    message: /provisioner\.replicaCount 3 with 0 k3s nodes/,
  });
  const storageClass = byName(resources, "ceph-csi-sc-ceph-rbd");
  t.throws(() => strict.admit(storageClass.type, storageClass.name, storageClass.inputs), {
    message: /clusterID 3e5b2c1a-9f0d-4c6b-8a7e-1d2f3a4b5c6d is not in ceph-csi's csiConfig/,
  });
});

test("a stack's Ceph settings are checked before anything is declared", async (t) => {
  const base = (await readStackFile(ROOT, "ceph")).raw;
  const refused = (raw: Record<string, unknown>) => t.throws(() => parseBenchConfig(raw))?.message ?? "";
  t.regex(
    refused({ ...base, ceph: undefined, k8s: undefined }),
    /variant "rbd-none" storage rbd needs layerbench:ceph: name your Proxmox RBD storage/,
  );
  const { krbdStorage: _, ...withoutKrbd } = base.ceph as Record<string, unknown>;
  t.regex(
    refused({ ...base, ceph: withoutKrbd }),
    /variant "krbd-none" storage krbd needs layerbench:ceph\.krbdStorage/,
  );
  const { csi: __, ...withoutCsi } = base.ceph as Record<string, unknown>;
  t.regex(refused({ ...base, ceph: withoutCsi }), /variant "ceph-rbd" kind ceph-rbd needs layerbench:ceph\.csi/);
  t.regex(
    refused({ ...base, ceph: { ...(base.ceph as object), size: 2, minSize: 3 } }),
    /layerbench:ceph\.minSize: minSize is larger than size/,
  );
  t.regex(
    refused({ ...base, ceph: { ...(base.ceph as object), csi: { clusterId: "abc", monitors: ["10.0.0.1:6789"] } } }),
    /layerbench:ceph\.csi\.clusterId: use the cluster's fsid/,
  );
  t.regex(
    refused({ ...base, vmVariants: { list: [{ id: "x", storage: "ceph" }] } }),
    /storage "ceph" is not allowed: use one of zfs, rbd, krbd/,
  );
});

test("the report steps through the layers per storage: Ceph host then VM on RBD beside ZFS, ceph-csi beside Longhorn", (t) => {
  const [first] = panelLayers(collectReportData([results]));
  t.deepEqual(
    first.steps.map((step) => step.label),
    [
      "host on Ceph RBD",
      "vm on ZFS",
      "vm on Ceph RBD (librbd)",
      "vm on Ceph RBD (krbd)",
      "k8s on local-path",
      "k8s on Longhorn",
      "k8s on ceph-csi RBD",
    ],
  );
  t.deepEqual(
    first.steps.map((step) => step.n),
    [1, 2, 2, 2, 1, 1, 1],
  );
  t.regex(renderMarkdown(collectReportData([results])), /^\| +\| k8s on ceph-csi RBD \| k8s-ceph-rbd \| /m);
  // The stack's storage axis is an effect like cache: ZFS, librbd and krbd against each other.
  const vm = panelEffects(collectReportData([results])).find((effects) => effects.layer === "vm");
  t.deepEqual(vm?.axes.map((axis) => axis.axis).sort(), ["cache", "storage"]);
  t.deepEqual(
    vm?.axes
      .find((axis) => axis.axis === "storage")
      ?.values.map((value) => value.value)
      .sort(),
    ["krbd", "rbd", "zfs"],
  );
});
