// The Kubernetes layer's part of a stack's config: its schema and the rules that tie it to the VM layer (vmIds,
// addresses), the profile (volume sizes) and Longhorn's scheduling (disk sizes).
import { z } from "zod";
import { largestFootprint, type Profile } from "../core/profiles.js";
import type { DesignRecord } from "../core/results.js";
import { VOLUME_KIND_DESCRIPTORS } from "../storage/k8s-volumes.js";
import { expandK8sVariants, type K8sVariant, type K8sVariantMatrixInput } from "../variants/k8s-variants.js";
import {
  ADDRESS,
  ConfigError,
  matrixDesign,
  NAME,
  parseWith,
  underKey,
  VariantMatrixSchema,
  validCidr,
} from "./schema-parts.js";
import type { VmSettings } from "./vm-settings.js";

/** The Kubernetes layer: k3s on guest VMs of their own, Longhorn, one volume per variant. */
export interface K8sSettings {
  nodeCount: number;
  /** The first node's VM (the k3s server); the others take the next vmIds, names and static addresses. */
  vm: VmSettings;
  k3sVersion: string;
  longhornVersion: string;
  /** The localpv-provisioner Helm chart version, for openebs-hostpath variants. */
  openebsVersion: string;
  /** GiB per benchmark volume. */
  volumeSizeGb: number;
  /** GiB of each node's second disk, which holds Longhorn's replicas (/var/lib/longhorn); 0 without Longhorn. */
  longhornDiskGb: number;
  /** Image of the fio pod; fio is installed from Debian when the image lacks it. */
  fioImage: string;
  namespace: string;
  variants: K8sVariant[];
  skippedVariants: Array<{ id: string; reason: string }>;
  /** The Proxmox nodes the k3s VMs go to in turn (the first holds the server, where fio's pod runs). */
  proxmoxNodes: ProxmoxNode[];
  /** How the axes' variants were chosen (design full, main-effects...); absent without axes. */
  design?: DesignRecord;
}

export interface ProxmoxNode {
  name: string;
  /** Where SSH reaches it. */
  address: string;
}

/** Pinned so that a stack gives the same cluster every time; both are checked together (Longhorn 1.9 supports Kubernetes 1.25+). */
const DEFAULT_K3S_VERSION = "v1.33.3+k3s1";
export const DEFAULT_LONGHORN_VERSION = "1.9.2";
/** OpenEBS's localpv-provisioner chart 4.0.0 (openebs/dynamic-localpv-provisioner deploy/helm/charts, tag v4.0.0). */
export const DEFAULT_OPENEBS_VERSION = "4.0.0";

/** A Proxmox node of the cluster: its name, and the address SSH reaches it at (the name itself by default). */
const ProxmoxNodeSchema = z.union([
  z.string().regex(NAME, "use a Proxmox node name, e.g. pve2"),
  z
    .object({
      name: z.string().regex(NAME, "use a Proxmox node name, e.g. pve2"),
      address: z.string().regex(ADDRESS, "use a host name or IP address"),
    })
    .strict(),
]);

const K8sSchema = z
  .object({
    enabled: z.boolean().default(false),
    nodeCount: z.number().int().min(1).max(9).default(3),
    proxmoxNodes: z.array(ProxmoxNodeSchema).min(1).optional(),
    vm: z
      .object({
        vmId: z.number().int().min(100).max(999_999_999).default(9200),
        name: z
          .string()
          .regex(/^[a-z0-9][a-z0-9-]*$/, "use lower-case letters, digits and '-' (it becomes the Kubernetes node name)")
          .default("layerbench-k3s"),
        cores: z.number().int().min(2).default(4),
        memoryMb: z.number().int().min(2048).default(8192),
        bootSizeGb: z.number().int().min(16).default(32),
        longhornDiskGb: z.number().int().min(1).optional(),
        ip: z
          .string()
          .refine(
            (value) => value === "dhcp" || validCidr(value),
            "use dhcp or an IPv4 address with prefix length, e.g. 192.168.1.60/24",
          )
          .default("dhcp"),
      })
      .strict()
      .default({ vmId: 9200, name: "layerbench-k3s", cores: 4, memoryMb: 8192, bootSizeGb: 32, ip: "dhcp" }),
    k3sVersion: z
      .string()
      .regex(/^v\d+\.\d+\.\d+\+k3s\d+$/, "use a k3s release tag, e.g. v1.33.3+k3s1")
      .default(DEFAULT_K3S_VERSION),
    longhornVersion: z
      .string()
      .regex(/^\d+\.\d+\.\d+$/, "use a Longhorn Helm chart version, e.g. 1.9.2")
      .default(DEFAULT_LONGHORN_VERSION),
    openebsVersion: z
      .string()
      .regex(/^\d+\.\d+\.\d+$/, "use a localpv-provisioner Helm chart version, e.g. 4.0.0")
      .default(DEFAULT_OPENEBS_VERSION),
    volumeSizeGb: z.number().int().min(1).optional(),
    // Debian 13's fio, as on a Proxmox VE 9 host and its guests.
    fioImage: z.string().min(1).default("debian:trixie-slim"),
    namespace: z
      .string()
      .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, "use a Kubernetes namespace name")
      .default("layerbench"),
    variants: VariantMatrixSchema.default({
      list: [
        { id: "local-path", kind: "local-path" },
        { id: "longhorn-r3", kind: "longhorn", replicas: 3 },
      ],
    }),
  })
  .strict();

/**
 * Longhorn schedules a replica on a disk only while size + scheduled <= (maximum - reserved) x over-provisioning
 * (longhorn-manager scheduler/replica_scheduler.go, IsSchedulableToDisk), with 30 % reserved on the default disk
 * (types/setting.go storage-reserved-percentage-for-default-disk) and over-provisioning at 100 %
 * (storage-over-provisioning-percentage).
 */
export const LONGHORN_RESERVED = 0.3;
/** The file system on the Longhorn disk takes some of it: Longhorn's maximum is what statfs reports. */
export const FILE_SYSTEM_OVERHEAD = 0.05;
/** The OS and k3s's images on a node's boot disk. */
const GUEST_OS_GB = 6;

/**
 * GiB each k3s node's Longhorn disk needs: every Longhorn variant's volume lives until destroy, and each puts at
 * most one replica on a node (Longhorn's replica anti-affinity), so a node may hold one replica of every volume.
 */
export function longhornDiskNeededGb(longhornVariants: number, volumeSizeGb: number): number {
  if (longhornVariants === 0) return 0;
  return Math.ceil((longhornVariants * volumeSizeGb) / (1 - LONGHORN_RESERVED) / (1 - FILE_SYSTEM_OVERHEAD));
}

/** Inclusive ranges of vmIds, or of the last octet of static addresses, that two groups of VMs take. */
function overlaps(a: [number, number], b: [number, number]): boolean {
  return a[0] <= b[1] && b[0] <= a[1];
}

/** The k3s VMs' Proxmox nodes: the stack's own node by default; a bare name is its own address, but the stack's node is reached at nodeAddress. */
function proxmoxNodes(given: z.infer<typeof ProxmoxNodeSchema>[] | undefined, stackNode: ProxmoxNode): ProxmoxNode[] {
  const nodes = (given ?? [stackNode.name]).map((entry) =>
    typeof entry === "string" ? { name: entry, address: entry === stackNode.name ? stackNode.address : entry } : entry,
  );
  const repeated = nodes.find((entry, index) => nodes.findIndex((other) => other.name === entry.name) !== index);
  if (repeated)
    throw new ConfigError(`layerbench:k8s.proxmoxNodes names ${repeated.name} twice: list each Proxmox node once`);
  return nodes;
}

/** The k3s VMs take vmIds (and static addresses) after their first one: none may be a bench VM's. */
function checkK3sVmsApart(vm: VmSettings, vmCount: number, nodeVm: VmSettings, nodeCount: number): void {
  if (overlaps([vm.vmId, vm.vmId + vmCount - 1], [nodeVm.vmId, nodeVm.vmId + nodeCount - 1])) {
    throw new ConfigError(
      `layerbench:k8s.vm.vmId ${nodeVm.vmId} is not allowed: the ${nodeCount} k3s VMs (${nodeVm.vmId}-${nodeVm.vmId + nodeCount - 1}) would share vmIds with the bench VMs (${vm.vmId}-${vm.vmId + vmCount - 1})`,
    );
  }
  if (nodeVm.ip !== "dhcp") {
    if (vm.gateway === undefined)
      throw new ConfigError(`layerbench:vm.gateway is required with a static k8s.vm.ip (${nodeVm.ip})`);
    const last = (ip: string) => Number(ip.split("/")[0].split(".")[3]);
    if (last(nodeVm.ip) + nodeCount - 1 > 254)
      throw new ConfigError(
        `layerbench:k8s.vm.ip ${nodeVm.ip} is not allowed: ${nodeCount} nodes take the next addresses, past .254`,
      );
    if (
      vm.ip !== "dhcp" &&
      overlaps([last(vm.ip), last(vm.ip) + vmCount - 1], [last(nodeVm.ip), last(nodeVm.ip) + nodeCount - 1])
    ) {
      throw new ConfigError(
        `layerbench:k8s.vm.ip ${nodeVm.ip} is not allowed: the k3s VMs would take addresses of the bench VMs (from ${vm.ip})`,
      );
    }
  }
}

export function parseK8s(
  raw: unknown,
  vm: VmSettings,
  vmCount: number,
  profile: Profile,
  stackNode: ProxmoxNode,
): K8sSettings | undefined {
  const parsed = parseWith("k8s", K8sSchema, raw ?? {});
  if (!parsed.enabled) return undefined;
  const { nodeCount } = parsed;
  const nodeVm = { ...vm, ...parsed.vm };
  checkK3sVmsApart(vm, vmCount, nodeVm, nodeCount);
  const footprintGb = largestFootprint(profile) / 1024 ** 3;
  const neededGb = Math.ceil(footprintGb * 1.1) + 1;
  const volumeSizeGb = parsed.volumeSizeGb ?? neededGb;
  if (volumeSizeGb < neededGb) {
    throw new ConfigError(
      `layerbench:k8s.volumeSizeGb ${volumeSizeGb} is not allowed: the profile's largest workload writes ${footprintGb.toFixed(1)} GiB, use at least ${neededGb}`,
    );
  }
  const design = matrixDesign(parsed.variants, "k8s.variants");
  const {
    variants,
    skipped,
    design: designRecord,
  } = underKey("k8s.variants", () => expandK8sVariants(parsed.variants as K8sVariantMatrixInput, nodeCount, design));
  if (variants.length === 0)
    throw new ConfigError("layerbench:k8s.variants has no variants: give a list, axes, or both");
  // local-path and OpenEBS hostpath volumes are directories on the first node's boot disk (k3s's
  // /var/lib/rancher/k3s/storage, OpenEBS's BasePath), one at a time: each is deleted with its claim.
  const onBootDisk = variants.find((variant) => VOLUME_KIND_DESCRIPTORS[variant.kind].onBootDisk);
  const minBootGb = onBootDisk ? volumeSizeGb + GUEST_OS_GB : GUEST_OS_GB;
  if (nodeVm.bootSizeGb < minBootGb) {
    throw new ConfigError(
      `layerbench:k8s.vm.bootSizeGb ${nodeVm.bootSizeGb} is not allowed: the OS and a ${volumeSizeGb} GiB ${onBootDisk?.kind} volume need at least ${minBootGb}`,
    );
  }
  const longhornVariants = variants.filter((variant) => variant.kind === "longhorn").length;
  const neededDiskGb = longhornDiskNeededGb(longhornVariants, volumeSizeGb);
  const { longhornDiskGb = neededDiskGb, ...vmSettings } = nodeVm;
  if (longhornDiskGb < neededDiskGb) {
    throw new ConfigError(
      `layerbench:k8s.vm.longhornDiskGb ${longhornDiskGb} is not allowed: ${longhornVariants} Longhorn volumes of ${volumeSizeGb} GiB may each put a replica on one node; with Longhorn's 30 % reserve that needs at least ${neededDiskGb} GiB per node (or set a smaller k8s.volumeSizeGb)`,
    );
  }
  return {
    nodeCount,
    vm: vmSettings,
    k3sVersion: parsed.k3sVersion,
    longhornVersion: parsed.longhornVersion,
    openebsVersion: parsed.openebsVersion,
    volumeSizeGb,
    longhornDiskGb: longhornVariants === 0 ? 0 : longhornDiskGb,
    fioImage: parsed.fioImage,
    namespace: parsed.namespace,
    variants,
    skippedVariants: skipped,
    proxmoxNodes: proxmoxNodes(parsed.proxmoxNodes, stackNode),
    ...(designRecord && { design: designRecord }),
  };
}
