import type { CephSettings } from "../config/ceph-config.js";
import { type NodeNames, nodeNames, zfsGroups } from "../config/node-names.js";
import type { BenchConfig } from "../config/stack-config.js";
import { groupVmSettings, nthVmSettings, type VmSettings } from "../config/vm-settings.js";
import { baselinePassCount } from "../core/measurement-order.js";
import { largestFootprint, type Profile, secondsPerRun, totalFootprint } from "../core/profiles.js";
import { diskStorageId, type StorageSettings, userStoragesUsed } from "../storage/placement.js";
import { onCephPool, type PveStorageType, VM_STORAGE_KINDS } from "../storage/vm-storages.js";
import { vmGroups } from "../variants/vm-groups.js";
import { diskSlots, type VmDiskVariant } from "../variants/vm-variants.js";
import { backendPlans, type SpaceItem } from "./backend-plans.js";
import type { CephPlan } from "./ceph-check.js";

// What `pulumi up` of a stack will make, what it needs of the node, and how long it takes: from the stack's
// config alone, before anything exists.

const GiB = 1024 ** 3;

/**
 * What a fio run costs beyond its runtime: start-up, end_fsync, the JSON: 0.47-0.50 s measured on this project's
 * machine (3 runs of the ars script, 6 runs each of 2 s on 16 MiB files, fio 3.33). Rounded up.
 */
export const FIXED_SEC_PER_RUN = 0.5;
/** fio lays out a directory target's files before the first run of a workload: assumed at this rate. */
export const ASSUMED_LAYOUT_BYTES_PER_SEC = 500 * 1024 ** 2;
/** A Kubernetes measurement's pod: scheduling, the volume's attachment, fio installed in the pod. A rough guess. */
export const POD_OVERHEAD_SEC = 60;
/** Rough guesses for provisioning, in seconds: not measured (no Proxmox node here). A backend's is its own. */
export const PROVISIONING_GUESS_SEC = { image: 120, benchVms: 180, k3sVms: 180, k3s: 240 } as const;

export interface PlannedDisk {
  slot: string;
  sizeGb: number;
  datastore: string;
  /** The config key that names its datastore, e.g. vm.bootDatastore or storages.lvmthin. */
  key: string;
  /** The pve-storage type the datastore must be, where the disk's kind asks for one. */
  pveType?: PveStorageType;
}

export interface PlannedVm {
  role: "bench" | "k3s";
  /** The Proxmox node it runs on. */
  node: string;
  vmId: number;
  name: string;
  cores: number;
  memoryMb: number;
  /** Disks with their size in GiB, boot disk first. */
  disks: PlannedDisk[];
}

export interface Plan {
  stack: string;
  node: string;
  nodeAddress: string;
  /** The pool that holds the stack's datasets: what its free space is checked against. */
  pool: string;
  vms: PlannedVm[];
  /** Datasets and zvols on the node, the stack's own. */
  datasets: string[];
  storageIds: string[];
  files: string[];
  /** What the stack does on the user's Ceph RBD storage (none without layerbench:ceph). */
  ceph: string[];
  /** What the stack puts on the storages of layerbench:storages, a line per storage (none without such variants). */
  userStorages: string[];
  /** What the host-level run writes on each of those storages: its largest workload, on its node. */
  hostWrites: Array<{ datastore: string; key: string; bytes: number; pveType: PveStorageType }>;
  /** What `plan --check` asks of the Ceph pool; absent without layerbench:ceph. */
  cephPlan?: CephPlan;
  /** The Kubernetes layer's storage backends, each with its part of the plan. */
  backends: Array<{ name: string; lines: string[]; provisioningSec: number }>;
  space: SpaceItem[];
  spaceBytes: number;
  memoryMb: number;
  duration: { runs: number; measurementSec: number; provisioningSec: number; totalSec: number };
}

function targetRunSec(profile: Profile, repeat: number, directory: boolean): number {
  const runs = profile.workloads.length * repeat;
  const layout = directory ? totalFootprint(profile) / ASSUMED_LAYOUT_BYTES_PER_SEC : 0;
  return runs * (secondsPerRun(profile) + FIXED_SEC_PER_RUN) + layout;
}

function plannedVm(
  role: PlannedVm["role"],
  node: string,
  settings: VmSettings,
  dataDisks: PlannedVm["disks"],
): PlannedVm {
  return {
    role,
    node,
    vmId: settings.vmId,
    name: settings.name,
    cores: settings.cores,
    memoryMb: settings.memoryMb,
    disks: [
      {
        slot: "virtio0",
        sizeGb: settings.bootSizeGb,
        datastore: settings.bootDatastore,
        key: role === "bench" ? "vm.bootDatastore" : "k8s.vm.bootDatastore",
      },
      ...dataDisks,
    ],
  };
}

/** The Ceph pool's part: the host-level run's image and the VM disks on the RBD storages, each written `size` times. */
function cephLines(ceph: CephSettings, variants: VmDiskVariant[], footprint: number, names: NodeNames): string[] {
  const onRbd = variants.filter((variant) => onCephPool(variant.storage));
  const gib = (bytes: number) => `${(bytes / GiB).toFixed(1)} GiB`;
  return [
    `Ceph: pool ${ceph.pool} (size ${ceph.size}, min_size ${ceph.minSize}): the host-level run's image ${names.rbdImage("host")} of ${gib(footprint)} (${gib(footprint * ceph.size)} raw), filled, measured and removed`,
    ...(onRbd.length > 0
      ? [
          `Ceph: ${onRbd.length} VM disk(s) on ${[...new Set(onRbd.map((variant) => diskStorageId(variant, names, { ceph, storages: {} })))].join(", ")}, up to ${gib(footprint)} written each (${gib(footprint * ceph.size)} raw): krbd disks released after their runs, librbd ones kept until destroy`,
        ]
      : []),
  ];
}

/** The VM disks on each storage of layerbench:storages, what is done with them, and until when they keep their writes. */
function userStorageLines(variants: VmDiskVariant[], placement: StorageSettings, names: NodeNames): string[] {
  const byStorage = new Map<string, VmDiskVariant[]>();
  for (const variant of variants.filter((candidate) => VM_STORAGE_KINDS[candidate.storage].placement === "user")) {
    const id = diskStorageId(variant, names, placement);
    byStorage.set(id, [...(byStorage.get(id) ?? []), variant]);
  }
  return [...byStorage].map(([id, onIt]) => {
    const kind = VM_STORAGE_KINDS[onIt[0].storage];
    const sizes = [...new Set(onIt.map((variant) => `${variant.sizeGb} GiB`))].join(", ");
    const formats = [...new Set(onIt.map((variant) => variant.format))].join(", ");
    const after =
      kind.device === "block"
        ? "discarded after their runs"
        : "what fio wrote kept until destroy (a file is not hole-punched)";
    const host =
      kind.device === "file"
        ? "fio from the node in a directory of the stack's there"
        : "fio from the node on a raw volume pve-storage makes there (pvesm alloc), freed on destroy";
    return `${kind.label} storage ${id} (storages.${onIt[0].storage}): ${host}; ${onIt.length} VM disk(s) of ${sizes} (${formats}), each filled before its runs, ${after}; plan --check checks its type and room`;
  });
}

/** The VMs that hold the VM variants' disks, each disk on the datastore its storage places it on. */
function plannedBenchVms(config: BenchConfig, names: NodeNames, placement: StorageSettings): PlannedVm[] {
  const groups = vmGroups(config.variants);
  return groups.map((variants, index) =>
    plannedVm(
      "bench",
      config.node,
      groupVmSettings(config.vm, variants, index, groups.length),
      variants.map((variant): PlannedDisk => {
        const kind = VM_STORAGE_KINDS[variant.storage];
        return {
          slot: diskSlots(variants).get(variant.id) ?? "",
          sizeGb: variant.sizeGb,
          datastore: diskStorageId(variant, names, placement),
          key: kind.placement === "user" ? `storages.${variant.storage}` : "vmVariants",
          ...(kind.placement === "user" && { pveType: kind.pveType }),
        };
      }),
    ),
  );
}

/** The k3s VMs across the nodes and the storage backends under them; none without a k8s layer. */
function plannedCluster(config: BenchConfig) {
  const k8s = config.k8s;
  if (!k8s) return { backends: [], k3sVms: [] };
  // k3s node i runs on Proxmox node i modulo their count (components/k3s-cluster.ts places them so).
  const k3sNodeOf = (index: number) => k8s.proxmoxNodes[index % k8s.proxmoxNodes.length].name;
  const k3sHere = Array.from({ length: k8s.nodeCount }, (_, index) => k3sNodeOf(index)).filter(
    (node) => node === config.node,
  ).length;
  const backends = backendPlans(k8s, config.profile, { name: config.node, k3sNodes: k3sHere });
  const backendDisks = backends.flatMap((backend) =>
    backend.nodeDisk ? [{ ...backend.nodeDisk, datastore: k8s.vm.bootDatastore, key: "k8s.vm.bootDatastore" }] : [],
  );
  const k3sVms = Array.from({ length: k8s.nodeCount }, (_, index) =>
    plannedVm("k3s", k3sNodeOf(index), nthVmSettings(k8s.vm, index, k8s.nodeCount), backendDisks),
  );
  return { backends, k3sVms };
}

/** The runs and how long they take: every target's, then the provisioning's guesses. */
function plannedDuration(
  config: BenchConfig,
  hostStorages: ReturnType<typeof userStoragesUsed>,
  backends: ReturnType<typeof backendPlans>,
): Plan["duration"] {
  const { profile, repeat, k8s } = config;
  // The baseline's passes among the VM variants (components/vm-layer.ts, core/measurement-order.ts).
  const targets = [
    ...Array.from({ length: baselinePassCount(config.variants.length) }, () =>
      targetRunSec(profile, repeat, config.baseline.kind === "dataset"),
    ),
    ...(config.ceph ? [targetRunSec(profile, repeat, false)] : []),
    ...hostStorages.map(({ storage }) => targetRunSec(profile, repeat, VM_STORAGE_KINDS[storage].device === "file")),
    ...config.variants.map(() => targetRunSec(profile, repeat, false)),
    ...(k8s?.variants ?? []).map(() => targetRunSec(profile, repeat, true) + POD_OVERHEAD_SEC),
  ];
  const measurementSec = targets.reduce((sum, seconds) => sum + seconds, 0);
  const guess = PROVISIONING_GUESS_SEC;
  const provisioningSec =
    guess.image +
    guess.benchVms +
    (k8s ? guess.k3sVms + guess.k3s : 0) +
    backends.reduce((sum, backend) => sum + backend.provisioningSec, 0);
  return {
    runs: targets.length * profile.workloads.length * repeat,
    measurementSec,
    provisioningSec,
    totalSec: measurementSec + provisioningSec,
  };
}

/**
 * What the stack writes to the Ceph pool: the host run's image, then every librbd disk's writes kept until destroy
 * (krbd disks are released), and every ceph-csi volume, filled to its end before its runs.
 */
function plannedCeph(config: BenchConfig, footprint: number): Plan["cephPlan"] {
  if (!config.ceph) return undefined;
  const librbdDisks = config.variants.filter((variant) => VM_STORAGE_KINDS[variant.storage].device === "librbd");
  const cephCsiVolumes = config.k8s?.variants.filter((variant) => variant.kind === "ceph-rbd").length ?? 0;
  return {
    settings: config.ceph,
    bytes: footprint * (1 + librbdDisks.length) + cephCsiVolumes * (config.k8s?.volumeSizeGb ?? 0) * GiB,
  };
}

export function planStack(config: BenchConfig, stack: string): Plan {
  const names = nodeNames(config.dataset, stack);
  const placement: StorageSettings = { storages: config.storages, ...(config.ceph && { ceph: config.ceph }) };
  // The user's storages the VM disks go on: each has a host-level run too.
  const hostStorages = userStoragesUsed(config.variants, placement);
  const footprint = largestFootprint(config.profile);
  const { backends, k3sVms } = plannedCluster(config);
  const vms = [...plannedBenchVms(config, names, placement), ...k3sVms];
  const groupOptions = zfsGroups(config.variants);
  // The pool counted is the stack's node's: VMs on the other nodes write to theirs.
  const vmsHere = vms.filter((vm) => vm.node === config.node);
  const space: SpaceItem[] = [
    {
      what: `boot disks of ${vmsHere.length} VM(s) on ${config.node} (thin; at most their size)`,
      bytes: vmsHere.reduce((sum, vm) => sum + vm.disks[0].sizeGb * GiB, 0),
    },
    {
      what: "the measurement running: one target's largest workload (each zvol is released after its runs)",
      bytes: footprint,
    },
    ...backends.flatMap((backend) => backend.space),
  ];
  const cephPlan = plannedCeph(config, footprint);
  return {
    stack,
    node: config.node,
    nodeAddress: config.nodeAddress,
    pool: config.dataset.split("/")[0],
    vms,
    datasets: [
      names.stackDataset,
      ...groupOptions.map((options) => names.groupDataset(options)),
      names.baseline(config.baseline.kind),
    ],
    storageIds: groupOptions.map((options) => names.storageId(options)),
    // `local` is each node's own: every node with a VM gets the image, and the snippets of its VMs.
    files: [
      ...[...new Set(vms.map((vm) => vm.node))].map(
        (node) => `${config.vm.fileDatastore}:import/${names.imageFile(config.vm.imageUrl)} on ${node}`,
      ),
      `${config.vm.fileDatastore}:snippets/ one cloud-init file per VM, on its node`,
    ],
    backends: backends.map(({ name, lines, provisioningSec }) => ({ name, lines, provisioningSec })),
    ceph: config.ceph ? cephLines(config.ceph, config.variants, footprint, names) : [],
    userStorages: userStorageLines(config.variants, placement, names),
    hostWrites: hostStorages.map(({ storage, id }) => ({
      datastore: id,
      key: `storages.${storage}`,
      bytes: footprint,
      pveType: VM_STORAGE_KINDS[storage].pveType,
    })),
    ...(cephPlan && { cephPlan }),
    space,
    spaceBytes: space.reduce((sum, item) => sum + item.bytes, 0),
    memoryMb: vms.reduce((sum, vm) => sum + vm.memoryMb, 0),
    duration: plannedDuration(config, hostStorages, backends),
  };
}

/** Other stacks on the same node whose vmIds overlap this one's: two `pulumi up`s would fight over the VMs. */
export function vmIdClashes(plan: Plan, others: Plan[]): string[] {
  const ids = new Set(plan.vms.map((vm) => vm.vmId));
  return others.flatMap((other) => {
    if (other.stack === plan.stack || other.node !== plan.node || other.nodeAddress !== plan.nodeAddress) return [];
    const shared = other.vms.map((vm) => vm.vmId).filter((id) => ids.has(id));
    return shared.length > 0
      ? [
          `stack ${other.stack} uses vmIds ${shared.join(", ")} on node ${plan.node} too: give one of them other vmIds (layerbench:vm.vmId, k8s.vm.vmId)`,
        ]
      : [];
  });
}
