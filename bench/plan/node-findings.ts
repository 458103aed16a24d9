// What the node's answers over SSH mean for the stack, one finding each: the Proxmox VE release, the pool's space,
// memory (the ZFS ARC counted), fio, the Debian release of the guests' fio, vmIds, storages, boot datastores.

import { formatGiB } from "../util/format.js";
import type { CephFacts } from "./ceph-check.js";
import type { Finding } from "./finding.js";
import type { Plan, PlannedVm } from "./plan.js";

/** A `plan --check` of one stack: its plan, and how the node and its API are reached. */
export interface CheckTarget {
  plan: Plan;
  sshUser: string;
  /** The datastore that takes the cloud image (import content) and the cloud-init snippets. */
  fileDatastore: string;
  /** Config key -> the guest or pod image whose Debian release gives that layer its fio. */
  fioSources?: Record<string, string>;
  endpoint?: string;
  insecure: boolean;
  apiToken?: string;
  /** ceph-csi's cephx key, to compare with its user's on the node (LAYERBENCH_CEPH_USER_KEY). */
  cephUserKey?: string;
}

/** What the node's answers say, as node-check.ts reads them. */
export interface Facts {
  values: Map<string, string>;
  /** Storages of this node with images content: pve-storage type, status (active, inactive, disabled), bytes available. */
  imageStorages: Map<string, { type: string; status: string; available: number }>;
  /** The cluster's VMs by vmId: name and node; undefined when pvesh could not list them. */
  vms?: Map<number, { name: string; node: string }>;
  storages: Set<string>;
  ceph: CephFacts;
}

/** "pve-manager/8.4.1/2a5fa54a8503f96d (running kernel: 6.8.12-9-pve)" -> [8, 4, 1]. */
function pveRelease(pveversion: string): number[] | undefined {
  const match = /pve-manager\/(\d+)\.(\d+)(?:\.(\d+))?/.exec(pveversion);
  return match ? match.slice(1).map((part) => Number(part ?? 0)) : undefined;
}

/** Proxmox VE 8.4 is the first that downloads .qcow2 images as import content (the provider's download_file docs). */
const MINIMUM_RELEASE = [8, 4];

function versionFinding(pveversion: string | undefined, host: string): Finding {
  if (!pveversion) return { level: "fail", message: `pveversion: not found on ${host}: is it a Proxmox VE node?` };
  const release = pveRelease(pveversion);
  if (!release)
    return { level: "fail", message: `pveversion: cannot read the release in ${JSON.stringify(pveversion)}` };
  const text = release.join(".");
  const tooOld =
    release[0] < MINIMUM_RELEASE[0] || (release[0] === MINIMUM_RELEASE[0] && release[1] < MINIMUM_RELEASE[1]);
  return tooOld
    ? {
        level: "fail",
        message: `Proxmox VE ${text}: importing the cloud image (content type import) needs ${MINIMUM_RELEASE.join(".")} or later`,
      }
    : { level: "ok", message: `Proxmox VE ${text}` };
}

/** The stack's vmIds against every VM of the cluster: free, this stack's own from an earlier up, or taken. */
function vmIdFindings(plan: Plan, vms: Facts["vms"]): Finding[] {
  if (!vms)
    return [
      {
        level: "warn",
        message: "vmIds: not checked: pvesh could not list the cluster's VMs (pvesh get /cluster/resources)",
      },
    ];
  const findings: Finding[] = [];
  for (const vm of plan.vms) {
    const existing = vms.get(vm.vmId);
    if (!existing) continue;
    if (existing.name === vm.name && existing.node === vm.node)
      findings.push({
        level: "ok",
        message: `vmId ${vm.vmId}: ${existing.name} exists already, from an earlier pulumi up of this stack`,
      });
    else
      findings.push({
        level: "fail",
        message: `vmId ${vm.vmId} is taken by VM ${JSON.stringify(existing.name)} on node ${existing.node}: choose other vmIds (layerbench:vm.vmId, k8s.vm.vmId)`,
      });
  }
  const free = plan.vms.filter((vm) => !vms.has(vm.vmId)).map((vm) => vm.vmId);
  if (free.length > 0) findings.push({ level: "ok", message: `vmIds ${free.join(", ")}: free in the cluster` });
  return findings;
}

/** The memory some VMs are given, in bytes. */
const memoryBytes = (vms: PlannedVm[]) => vms.reduce((sum, vm) => sum + vm.memoryMb, 0) * 1024 ** 2;

/**
 * The datastores of this node's VMs that are not the stack's own ZFS storages nor the user's RBD storages (the
 * boot disks, the k3s nodes' Longhorn disk, VM disks on layerbench:storages, the host-level run's writes there):
 * each must exist on the node, take
 * images content, be of the type its disks' kind needs, be active, and have room for what the plan puts there
 * (the disks of VMs that exist already are there already; a thin pool's free space is what pvesm status says).
 * A node installed on ext4/LVM has no local-zfs.
 */
function datastoreFindings(plan: Plan, facts: Facts): Finding[] {
  if (facts.storages.size === 0) return [];
  // The user's RBD storages are checked by the Ceph findings (plan/ceph-check.ts).
  const ceph = plan.cephPlan?.settings;
  const own = new Set([...plan.storageIds, ...(ceph ? [ceph.storage, ceph.krbdStorage ?? ""] : [])]);
  // What goes on each datastore: the disks of this node's VMs (none for a VM that exists already: its disks are
  // there), and the host-level run's volume or files on the user's storages.
  const writes = [
    ...plan.vms
      .filter((vm) => vm.node === plan.node)
      .flatMap((vm) => {
        const exists = facts.vms?.get(vm.vmId)?.node === plan.node;
        return vm.disks.map((disk) => ({ ...disk, bytes: exists ? 0 : disk.sizeGb * 1024 ** 3 }));
      }),
    ...plan.hostWrites,
  ];
  const needs = new Map<string, { bytes: number; keys: Set<string>; pveType?: string }>();
  for (const write of writes.filter((candidate) => !own.has(candidate.datastore))) {
    const need = needs.get(write.datastore) ?? { bytes: 0, keys: new Set<string>() };
    need.bytes += write.bytes;
    need.keys.add(write.key);
    if (write.pveType) need.pveType = write.pveType;
    needs.set(write.datastore, need);
  }
  return [...needs].map(([id, need]): Finding => {
    const storage = facts.imageStorages.get(id);
    const keys = [...need.keys].join(", ");
    if (!facts.storages.has(id))
      return {
        level: "fail",
        message: `datastore ${id} (${keys}) does not exist on ${plan.node}: name one that pvesm status lists`,
      };
    if (!storage)
      return {
        level: "fail",
        message: `datastore ${id} (${keys}) does not take VM disks (images content) on ${plan.node}`,
      };
    if (need.pveType && storage.type !== need.pveType)
      return {
        level: "fail",
        message: `datastore ${id} (${keys}) is a ${storage.type} storage, not ${need.pveType}: name a ${need.pveType} storage there`,
      };
    if (storage.status !== "active")
      return { level: "fail", message: `datastore ${id} (${keys}) is ${storage.status} on ${plan.node}` };
    return storage.available >= need.bytes
      ? {
          level: "ok",
          message: `datastore ${id}: ${formatGiB(storage.available)} free, the stack's disks there take up to ${formatGiB(need.bytes)}`,
        }
      : {
          level: "fail",
          message: `datastore ${id}: ${formatGiB(storage.available)} free, the stack's disks there take up to ${formatGiB(need.bytes)}: free space or choose another (${keys})`,
        };
  });
}

/** Proxmox VE's major release -> the Debian release it runs on, and that release's names in image URLs and tags. */
const DEBIAN_OF_PVE: Record<number, { release: number; codename: string }> = {
  8: { release: 12, codename: "bookworm" },
  9: { release: 13, codename: "trixie" },
};

/**
 * The host runs its Debian's fio; the guests and pods install theirs from their images' Debian. A guest or pod of
 * another release measures with another fio: said here, and flagged by the report when it happened.
 */
function fioReleaseFinding(pveversion: string | undefined, sources: Record<string, string>): Finding[] {
  const debian = DEBIAN_OF_PVE[pveRelease(pveversion ?? "")?.[0] ?? 0];
  if (!debian) return [];
  const other = Object.entries(sources).filter(([, image]) => {
    const named = Object.values(DEBIAN_OF_PVE).find(
      ({ release, codename }) => image.includes(`debian-${release}-`) || image.includes(codename),
    );
    return named !== undefined && named.release !== debian.release;
  });
  return other.length === 0
    ? [{ level: "ok", message: `fio: the host, guests and pods all run Debian ${debian.release}'s` }]
    : [
        {
          level: "warn",
          message: `fio: the host runs Debian ${debian.release}'s, ${other.map(([key, image]) => `${key} (${image}) another release's`).join(", ")}: set them to Debian ${debian.release} (${debian.codename}) to compare layers with one fio`,
        },
      ];
}

/** The ZFS pool: there, with room for what the stack writes (what it wrote before counted as its own). */
function poolFinding(plan: Plan, facts: Facts): Finding {
  const available = Number(facts.values.get("pool_available") || NaN);
  if (!Number.isFinite(available))
    return { level: "fail", message: `pool ${plan.pool}: no such ZFS pool on the node (layerbench:dataset names it)` };
  // What this stack wrote in an earlier `pulumi up` is already counted as used.
  const usable = available + (Number(facts.values.get("stack_used")) || 0);
  const told = `pool ${plan.pool}: ${formatGiB(available)} free, the stack writes up to ${formatGiB(plan.spaceBytes)}`;
  return usable >= plan.spaceBytes
    ? { level: "ok", message: told }
    : { level: "fail", message: `${told}: free space or use a smaller size/fewer variants` };
}

/** Memory for the VMs this node runs: what is free, with what ZFS's ARC gives back, against what they take. */
function memoryFindings(plan: Plan, facts: Facts): Finding[] {
  const memFree = Number(facts.values.get("mem_available_kib") || NaN) * 1024;
  // What the ARC holds above its minimum, the kernel gets back under pressure (zfs arcstats: size, c_min).
  const arcReclaimable = Math.max(
    0,
    Number(facts.values.get("arc_size") || 0) - Number(facts.values.get("arc_min") || 0),
  );
  const memAvailable = memFree + arcReclaimable;
  const memText =
    arcReclaimable > 0
      ? `${formatGiB(memAvailable)} available (MemAvailable ${formatGiB(memFree)} + ${formatGiB(arcReclaimable)} of ZFS ARC above its minimum, which ZFS gives back)`
      : `${formatGiB(memAvailable)} available`;
  // Only the VMs this node runs need its memory; those of this stack that already run hold theirs already.
  const here = plan.vms.filter((vm) => vm.node === plan.node);
  const running = memoryBytes(here.filter((vm) => facts.vms?.get(vm.vmId)?.node === plan.node));
  const needed = memoryBytes(here);
  if (!Number.isFinite(memAvailable)) return [];
  const told = `memory: ${memText}, the stack's VMs take ${formatGiB(needed)}`;
  return [
    memAvailable + running >= needed
      ? { level: "ok", message: told }
      : { level: "fail", message: `${told}: give them less memory (vm.memoryMb, k8s.vm.memoryMb) or stop other VMs` },
  ];
}

export function sshFindings(target: CheckTarget, facts: Facts): Finding[] {
  const { plan } = target;
  const findings: Finding[] = [
    versionFinding(facts.values.get("pveversion"), plan.nodeAddress),
    poolFinding(plan, facts),
    ...memoryFindings(plan, facts),
  ];
  if (facts.values.get("fio")) findings.push({ level: "ok", message: `fio: ${facts.values.get("fio")}` });
  else if (facts.values.get("apt_get"))
    findings.push({ level: "ok", message: "fio: not installed; pulumi up installs it with apt-get" });
  else
    findings.push({
      level: "fail",
      message: "fio: not installed, and no apt-get to install it with: install fio on the node",
    });
  const others = [...new Set(plan.vms.map((vm) => vm.node).filter((node) => node !== plan.node))];
  if (others.length > 0)
    findings.push({
      level: "warn",
      message: `nodes ${others.join(", ")}: not asked (only ${plan.node} is); their VMs take ${others
        .map((node) => `${formatGiB(memoryBytes(plan.vms.filter((vm) => vm.node === node)))} on ${node}`)
        .join(", ")}`,
    });
  findings.push(
    ...fioReleaseFinding(facts.values.get("pveversion"), target.fioSources ?? {}),
    ...vmIdFindings(plan, facts.vms),
    ...datastoreFindings(plan, facts),
  );
  for (const id of plan.storageIds.filter((storage) => facts.storages.has(storage))) {
    findings.push({
      level: "warn",
      message: `storage ${id} exists already: from an earlier pulumi up of this stack, or pulumi up fails with "storage ID '${id}' already defined"`,
    });
  }
  if (facts.storages.size > 0 && !facts.storages.has(target.fileDatastore)) {
    findings.push({
      level: "fail",
      message: `datastore ${target.fileDatastore} (vm.fileDatastore) does not exist on the node`,
    });
  }
  return findings;
}
