import test from "ava";
import { RuleViolation, StrictNode } from "./helpers/strict-node.js";

// Each rule of the strict mock node, broken once: the registration is refused with the reason, as the provider,
// Proxmox or Longhorn would refuse it. The example stacks run under the same node in program-*.test.ts.

const VM = "proxmoxve:index/vmLegacy:VmLegacy";
const ZFS = "proxmoxve:storage/zfspool:Zfspool";
const DOWNLOAD = "proxmoxve:download/file:File";
const SNIPPET = "proxmoxve:index/fileLegacy:FileLegacy";
const STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass";
const CLAIM = "kubernetes:core/v1:PersistentVolumeClaim";

const disk = (slot: string, extra: Record<string, unknown> = {}) => ({
  interface: slot,
  datastoreId: "local-zfs",
  size: 8,
  cache: "none",
  aio: "io_uring",
  discard: "ignore",
  serial: slot,
  ...extra,
});
const vm = (extra: Record<string, unknown> = {}) => ({
  nodeName: "pve",
  vmId: 9100,
  name: "bench",
  scsiHardware: "virtio-scsi-single",
  disks: [disk("virtio0"), disk("scsi0", { ssd: true })],
  ...extra,
});

function refusal(node: StrictNode, type: string, inputs: Record<string, unknown>, name = "r"): string {
  try {
    node.admit(type, name, inputs);
  } catch (error) {
    if (error instanceof RuleViolation) return error.message;
    throw error;
  }
  return "";
}

test("a VM within every rule is admitted", (t) => {
  t.is(refusal(new StrictNode(), VM, vm()), "");
});

test("a VM's replacement must delete the old one first: its vmId is fixed (vm.go ForceNew, Qemu.pm)", (t) => {
  const node = new StrictNode();
  t.regex(
    node.replacementProblem(VM, "bench-vm-1-vm", false) ?? "",
    /must delete the old VM first: set deleteBeforeReplace/,
  );
  t.is(node.replacementProblem(VM, "bench-vm-1-vm", true), undefined);
  t.is(
    node.replacementProblem("command:remote:Command", "fio", false),
    undefined,
    "other resources may be replaced either way",
  );
});

const vmRules: Array<[string, Record<string, unknown>, RegExp]> = [
  [
    "31 disks at most, boot disk included",
    vm({
      disks: [
        ...Array.from({ length: 16 }, (_, i) => disk(`virtio${i}`)),
        ...Array.from({ length: 16 }, (_, i) => disk(`scsi${i}`)),
      ],
    }),
    /32 disks: the provider allows at most 31/,
  ],
  ["virtio slots 0 to 15", vm({ disks: [disk("virtio16")] }), /disk interface virtio16 does not exist/],
  ["scsi slots 0 to 30", vm({ disks: [disk("scsi31")] }), /disk interface scsi31 does not exist/],
  ["one disk per slot", vm({ disks: [disk("virtio1"), disk("virtio1", { serial: "b" })] }), /virtio1 is used twice/],
  ["cache modes", vm({ disks: [disk("virtio0", { cache: "fast" })] }), /cache fast is not one of/],
  ["aio modes", vm({ disks: [disk("virtio0", { aio: "uring" })] }), /aio uring is not one of/],
  ["discard values", vm({ disks: [disk("virtio0", { discard: "off" })] }), /discard off is not one of ignore, on/],
  ["no ssd on virtio-blk", vm({ disks: [disk("virtio1", { ssd: false })] }), /virtio-blk disks have no ssd option/],
  [
    "serial up to 20 bytes",
    vm({ disks: [disk("virtio1", { serial: "a".repeat(21) })] }),
    /serial "a{21}" is not up to 20 url-safe bytes/,
  ],
  [
    "serial characters that need no url-encoding",
    vm({ disks: [disk("virtio1", { serial: "a b" })] }),
    /serial "a b" is not up to 20 url-safe bytes/,
  ],
  ["SCSI controller models", vm({ scsiHardware: "virtio-scsi" }), /scsiHardware virtio-scsi is not one of/],
  ["vmId format", vm({ vmId: 99 }), /vmId 99: value does not look like a valid VM ID/],
  ["cores from 1 to 2304", vm({ cpu: { cores: 0 } }), /cpu\.cores 0: expected to be in the range \(1 - 2304\)/],
  [
    "memory from 64 MiB",
    vm({ memory: { dedicated: 32 } }),
    /memory\.dedicated 32: expected to be in the range \(64 - /,
  ],
  [
    "disks on storages that exist",
    vm({ disks: [disk("virtio0", { datastoreId: "lb-quick-16k-lz4-standard" })] }),
    /storage 'lb-quick-16k-lz4-standard' does not exist/,
  ],
  [
    "disks on storages that take images",
    vm({ disks: [disk("virtio0", { datastoreId: "local" })] }),
    /storage 'local' does not support vm images/,
  ],
];

test("VM rule: no disk on a disabled storage (pve-storage Storage.pm storage_check_enabled)", (t) => {
  const node = new StrictNode();
  node.addRbdStorage("ceph-vm", { pool: "ceph-vm", krbd: false, disabled: true });
  t.regex(
    refusal(node, VM, vm({ disks: [disk("virtio0", { datastoreId: "ceph-vm" })] })),
    /storage 'ceph-vm' is disabled/,
  );
  node.addRbdStorage("ceph-on", { pool: "ceph-vm", krbd: false });
  t.is(refusal(node, VM, vm({ disks: [disk("virtio0", { datastoreId: "ceph-on" })], vmId: 9101 }), "b"), "");
});

for (const [rule, inputs, message] of vmRules) {
  test(`VM rule: ${rule}`, (t) => {
    const node = new StrictNode();
    t.regex(refusal(node, VM, inputs), message);
    t.is(node.violations.length, 1);
  });
}

test("vmIds are unique in the cluster: a second stack's VM with the same vmId is refused", (t) => {
  const node = new StrictNode();
  node.stack = "quick";
  t.is(refusal(node, VM, vm(), "bench-vm-vm"), "");
  t.is(refusal(node, VM, vm(), "bench-vm-vm"), "", "the same stack's same VM, declared again, is itself");
  node.stack = "quick-copy";
  t.regex(
    refusal(node, VM, vm(), "bench-vm-vm"),
    /unable to create VM 9100: config file already exists \(qemu-server API2\/Qemu\.pm\) \(made by quick\/bench-vm-vm\)/,
  );
});

test("storage ids: pve-storage's format, unique in the cluster, and a new one takes VM disks", (t) => {
  const node = new StrictNode();
  t.regex(
    refusal(node, ZFS, { resourceId: "1-bad", contents: ["images"] }),
    /storage ID '1-bad' contains illegal characters/,
  );
  node.stack = "quick";
  t.is(refusal(node, ZFS, { resourceId: "lb-16k-lz4-standard", contents: ["images"] }, "node-zfs-16k"), "");
  t.is(refusal(node, VM, vm({ disks: [disk("virtio0", { datastoreId: "lb-16k-lz4-standard" })] })), "");
  node.stack = "homelab";
  t.regex(
    refusal(node, ZFS, { resourceId: "lb-16k-lz4-standard", contents: ["images"] }, "node-zfs-16k"),
    /storage ID 'lb-16k-lz4-standard' already defined \(made by quick\/node-zfs-16k\)/,
  );
});

test("files: one name per datastore and content type, on a datastore that allows the content type", (t) => {
  const node = new StrictNode();
  const image = { nodeName: "pve", datastoreId: "local", contentType: "import", fileName: "layerbench-debian.qcow2" };
  node.stack = "quick";
  t.is(refusal(node, DOWNLOAD, image, "guest-image"), "");
  node.stack = "homelab";
  t.regex(refusal(node, DOWNLOAD, image, "guest-image"), /file local:import\/layerbench-debian\.qcow2 already exists/);
  t.regex(
    refusal(node, DOWNLOAD, { ...image, datastoreId: "local-zfs" }, "guest-image"),
    /storage 'local-zfs' does not allow content type 'import'/,
  );
  t.regex(
    refusal(node, SNIPPET, {
      nodeName: "pve",
      datastoreId: "local-zfs",
      contentType: "snippets",
      sourceRaw: { fileName: "a.yaml" },
    }),
    /does not allow content type 'snippets'/,
  );
});

test("a cluster of nodes: things go to members only; `local` is each node's own; a storage for some nodes is theirs", (t) => {
  const cluster = new StrictNode("8.4.1", ["pve1", "pve2"]);
  const image = { nodeName: "pve1", datastoreId: "local", contentType: "import", fileName: "layerbench-debian.qcow2" };
  t.regex(refusal(cluster, VM, vm({ nodeName: "pve9" })), /: no such cluster node 'pve9'$/);
  t.regex(refusal(cluster, DOWNLOAD, { ...image, nodeName: "pve9" }), /: no such cluster node 'pve9'$/);
  t.is(refusal(cluster, DOWNLOAD, image, "image-1"), "");
  t.is(refusal(cluster, DOWNLOAD, { ...image, nodeName: "pve2" }, "image-2"), "", "another node's local");
  t.regex(refusal(cluster, DOWNLOAD, image, "image-3"), /file local:import\/layerbench-debian\.qcow2 already exists/);
  t.is(refusal(cluster, ZFS, { resourceId: "lb-x", contents: ["images"], nodes: ["pve1"] }, "zfs"), "");
  const onStorage = vm({ nodeName: "pve2", vmId: 9101, disks: [disk("virtio0", { datastoreId: "lb-x" })] });
  t.regex(refusal(cluster, VM, onStorage), /: virtio0: storage 'lb-x' is not available on node 'pve2'$/);
});

test("import content needs Proxmox VE 8.4", (t) => {
  const image = { nodeName: "pve", datastoreId: "local", contentType: "import", fileName: "layerbench-debian.qcow2" };
  t.regex(
    refusal(new StrictNode("8.3.5"), DOWNLOAD, image),
    /content type import needs Proxmox VE 8\.4 or later; this node runs 8\.3\.5/,
  );
  t.is(refusal(new StrictNode("9.0.3"), DOWNLOAD, image), "");
});

/** Three k3s nodes whose Longhorn disks have `diskGb` each. */
function longhornCluster(diskGb: number): StrictNode {
  const node = new StrictNode();
  for (let index = 1; index <= 3; index += 1) {
    refusal(
      node,
      VM,
      {
        nodeName: "pve",
        vmId: 9199 + index,
        name: `k3s-${index}`,
        disks: [disk("virtio0"), disk("virtio1", { serial: "longhorn", size: diskGb })],
      },
      `k3s-node-${index}-vm`,
    );
  }
  return node;
}

const longhornClass = (name: string, replicas: number) => ({
  metadata: { name },
  provisioner: "driver.longhorn.io",
  parameters: { numberOfReplicas: String(replicas), mkfsParams: "-E lazy_itable_init=0,lazy_journal_init=0" },
});
const longhornClaim = (storageClassName: string, gib: number) => ({
  spec: { storageClassName, resources: { requests: { storage: `${gib}Gi` } } },
});

test("Longhorn: at most one replica of a volume per node", (t) => {
  const lazy = { ...longhornClass("lazy", 1), parameters: { numberOfReplicas: "1", fsType: "ext4" } };
  t.regex(refusal(longhornCluster(100), STORAGE_CLASS, lazy), /ext4 without mkfsParams .*csi\/node_server\.go/);
  t.regex(refusal(longhornCluster(100), STORAGE_CLASS, longhornClass("r4", 4)), /numberOfReplicas 4 with 3 nodes/);
});

test("Longhorn: a replica is scheduled only where size + scheduled fits in 70 % of the disk", (t) => {
  const node = longhornCluster(100);
  refusal(node, STORAGE_CLASS, longhornClass("r3", 3));
  // 70 GiB schedulable per node: two 35 GiB volumes with a replica on every node fit, a third does not.
  t.is(refusal(node, CLAIM, longhornClaim("r3", 35), "a"), "");
  t.is(refusal(node, CLAIM, longhornClaim("r3", 35), "b"), "");
  t.regex(
    refusal(node, CLAIM, longhornClaim("r3", 1), "c"),
    /Longhorn cannot schedule 3 replicas of 1 GiB \(k3s-1: 70 of 70 GiB scheduled/,
  );
  // The same claim declared again (a new run id: deleteBeforeReplace) takes its old replicas' place.
  t.is(refusal(node, CLAIM, longhornClaim("r3", 35), "b"), "");
  t.is(refusal(node, CLAIM, longhornClaim("local-path", 50), "d"), "", "claims of other classes are not Longhorn's");
});

test("Kubernetes products: a StorageClass or chart no rule module knows is refused, a claim on a missing class too", (t) => {
  const node = longhornCluster(100);
  t.regex(
    refusal(node, STORAGE_CLASS, { metadata: { name: "nfs" }, provisioner: "nfs.csi.k8s.io" }),
    /provisioner nfs\.csi\.k8s\.io: no rule module knows it/,
  );
  t.regex(
    refusal(node, "kubernetes:helm.sh/v3:Release", { chart: "csi-driver-nfs", values: {} }),
    /chart csi-driver-nfs: no rule module knows it/,
  );
  t.regex(refusal(node, CLAIM, longhornClaim("nfs", 1)), /storageclass\.storage\.k8s\.io "nfs" not found/);
  node.register({ name: "NFS CSI", provisioners: ["nfs.csi.k8s.io"], charts: ["csi-driver-nfs"] });
  t.is(refusal(node, STORAGE_CLASS, { metadata: { name: "nfs" }, provisioner: "nfs.csi.k8s.io" }), "");
  t.is(refusal(node, CLAIM, longhornClaim("nfs", 1)), "");
});

test("OpenEBS LocalPV: a hostpath class needs its config annotation's StorageType and BasePath, and WaitForFirstConsumer", (t) => {
  const node = new StrictNode();
  const annotated = (config: string, mode = "WaitForFirstConsumer") => ({
    metadata: { name: "h", annotations: { "cas.openebs.io/config": config } },
    provisioner: "openebs.io/local",
    volumeBindingMode: mode,
  });
  const good = '- name: StorageType\n  value: "hostpath"\n- name: BasePath\n  value: "/var/openebs/local"\n';
  t.is(refusal(node, STORAGE_CLASS, annotated(good)), "");
  t.regex(
    refusal(node, STORAGE_CLASS, annotated('- name: StorageType\n  value: "hostpath"\n')),
    /no absolute BasePath/,
  );
  t.regex(refusal(node, STORAGE_CLASS, annotated(good, "Immediate")), /needs WaitForFirstConsumer/);
});
