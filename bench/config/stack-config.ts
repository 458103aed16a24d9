import { z } from "zod";
import { jobFileProfile } from "../core/job-file-profile.js";
import { largestFootprint, type Profile, resolveProfile } from "../core/profiles.js";
import { AUTO_MAX_RUNS, AUTO_MIN_RUNS, DEFAULT_MAX_RSD_PCT } from "../core/repeat.js";
import type { DesignRecord } from "../core/results.js";
import { UserError } from "../util/errors.js";
import { formatFioSize } from "../util/size.js";
import { type DesignSpec, parseDesign } from "../variants/design.js";
import { expandK8sVariants, type K8sVariant, type K8sVariantMatrixInput } from "../variants/k8s-variants.js";
import { vmGroups } from "../variants/vm-groups.js";
import {
  COMPRESSIONS,
  expandVariants,
  SYNC_MODES,
  type VariantMatrixInput,
  type VmDiskVariant,
  validateVariant,
  type ZfsOptions,
} from "../variants/vm-variants.js";

/** fio on the node itself: on a zvol (the fair match for zvol-backed VM disks) or in a dataset. */
export type Baseline =
  | ({ kind: "zvol"; sizeGb: number } & ZfsOptions)
  | { kind: "dataset"; recordsize: string; compression: ZfsOptions["compression"]; sync: ZfsOptions["sync"] };

export interface VmSettings {
  vmId: number;
  name: string;
  cores: number;
  memoryMb: number;
  /** Storage of the boot disk (any type). */
  bootDatastore: string;
  bootSizeGb: number;
  /** Directory storage that takes the cloud image ("import" content) and the cloud-init snippet ("snippets"). */
  fileDatastore: string;
  imageUrl: string;
  bridge: string;
  /** "dhcp", or an address with prefix length such as 192.168.1.50/24 (the next VMs take the next addresses). */
  ip: string;
  gateway?: string;
  user: string;
  sshPublicKey: string;
}

/** The Kubernetes layer: k3s on guest VMs of their own, Longhorn, one volume per variant. */
export interface K8sSettings {
  nodeCount: number;
  /** The first node's VM (the k3s server); the others take the next vmIds, names and static addresses. */
  vm: VmSettings;
  k3sVersion: string;
  longhornVersion: string;
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

/** The guests' image: Debian 13, the release of Proxmox VE 9 (its fio is the host's). */
const DEBIAN_CLOUD_IMAGE = "https://cloud.debian.org/images/cloud/trixie/latest/debian-13-genericcloud-amd64.qcow2";

/** Pinned so that a stack gives the same cluster every time; both are checked together (Longhorn 1.9 supports Kubernetes 1.25+). */
const DEFAULT_K3S_VERSION = "v1.33.3+k3s1";
export const DEFAULT_LONGHORN_VERSION = "1.9.2";

export interface BenchConfig {
  node: string;
  nodeAddress: string;
  sshUser: string;
  /** Parent ZFS dataset everything is created under, e.g. rpool/layerbench. */
  dataset: string;
  profile: Profile;
  repeat: number;
  runId: string;
  baseline: Baseline;
  vm: VmSettings;
  variants: VmDiskVariant[];
  skippedVariants: Array<{ id: string; reason: string }>;
  /** How the axes' variants were chosen; absent without axes. */
  design?: DesignRecord;
  /** Absent when the Kubernetes layer is not enabled. */
  k8s?: K8sSettings;
}

/** Every config value as the stack file has it (objects already parsed from their JSON). */
export type RawConfig = Record<string, unknown>;

export class ConfigError extends UserError {}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** A host name or an IP address (v4 or v6), as SSH takes it. */
const ADDRESS = /^[A-Za-z0-9.:-]+$/;
const ZFS_NAME = /^[A-Za-z0-9][A-Za-z0-9._:/-]*[A-Za-z0-9]$/;
const IP_CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

const BaselineSchema = z.discriminatedUnion("kind", [
  z
    .object({
      kind: z.literal("zvol"),
      sizeGb: z.number().int().min(1).default(32),
      volblocksize: z.union([z.string(), z.number()]).default("16k"),
      compression: z.enum(COMPRESSIONS).default("lz4"),
      sync: z.enum(SYNC_MODES).default("standard"),
    })
    .strict(),
  z
    .object({
      kind: z.literal("dataset"),
      recordsize: z
        .string()
        .regex(/^\d+[kKmM]?$/, "use a size such as 128k")
        .default("128k"),
      compression: z.enum(COMPRESSIONS).default("lz4"),
      sync: z.enum(SYNC_MODES).default("standard"),
    })
    .strict(),
]);

const VmSchema = z
  .object({
    vmId: z.number().int().min(100).max(999_999_999).default(9100),
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9-]*$/, "use letters, digits and '-'")
      .default("layerbench"),
    cores: z.number().int().min(1).default(4),
    memoryMb: z.number().int().min(512).default(4096),
    bootDatastore: z.string().regex(NAME).default("local-zfs"),
    bootSizeGb: z.number().int().min(4).default(8),
    fileDatastore: z.string().regex(NAME).default("local"),
    imageUrl: z
      .url()
      .refine(
        (value) => /\.(qcow2|raw|vmdk)$/.test(new URL(value).pathname),
        "Proxmox imports .qcow2, .raw or .vmdk disk images (a Debian genericcloud .qcow2, say)",
      )
      // Proxmox VE 9 runs on Debian 13: the guests install the same fio as the host (on 8.4, Debian 12's image).
      .default(DEBIAN_CLOUD_IMAGE),
    bridge: z.string().regex(NAME).default("vmbr0"),
    ip: z
      .string()
      .refine(
        (value) => value === "dhcp" || validCidr(value),
        "use dhcp or an IPv4 address with prefix length, e.g. 192.168.1.50/24",
      )
      .default("dhcp"),
    gateway: z.ipv4().optional(),
    user: z
      .string()
      .regex(/^[a-z_][a-z0-9_-]*$/, "use a Linux user name")
      .default("layerbench"),
    sshPublicKey: z
      .string()
      .regex(/^(ssh-|ecdsa-)\S+ \S+/, "use an OpenSSH public key line, e.g. ssh-ed25519 AAAA... you@host"),
  })
  .strict();

const VariantMatrixSchema = z
  .object({
    defaults: z.record(z.string(), z.unknown()).optional(),
    list: z.array(z.record(z.string(), z.unknown())).optional(),
    axes: z.record(z.string(), z.array(z.unknown())).optional(),
    // Checked by parseDesign against the axes, which it needs.
    design: z.unknown().optional(),
    interactions: z.unknown().optional(),
    confirm: z.unknown().optional(),
  })
  .strict();

/** The design a variant matrix asks for, its keys named under `key` in what it rejects. */
function matrixDesign(matrix: z.infer<typeof VariantMatrixSchema>, key: string): DesignSpec {
  return parseDesign(matrix, Object.keys(matrix.axes ?? {}), (name) => `layerbench:${key}.${name}`);
}

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

function parseK8s(
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
  // local-path volumes live on the first node's boot disk (k3s's /var/lib/rancher/k3s/storage).
  const minBootGb = variants.some((variant) => variant.kind === "local-path")
    ? volumeSizeGb + GUEST_OS_GB
    : GUEST_OS_GB;
  if (nodeVm.bootSizeGb < minBootGb) {
    throw new ConfigError(
      `layerbench:k8s.vm.bootSizeGb ${nodeVm.bootSizeGb} is not allowed: the OS and a ${volumeSizeGb} GiB local-path volume need at least ${minBootGb}`,
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

function validCidr(value: string): boolean {
  const match = IP_CIDR.exec(value);
  if (!match) return false;
  return match.slice(1, 5).every((octet) => Number(octet) <= 255) && Number(match[5]) <= 32;
}

function zodMessage(key: string | undefined, error: z.ZodError): string {
  const issue = error.issues[0];
  // A message that names its key itself (a top-level key's own check) is complete as it is.
  if (issue.message.startsWith("layerbench:")) return issue.message;
  const path = [...(key ? [key] : []), ...issue.path.map(String)].join(".");
  return `layerbench:${path}: ${issue.message}`;
}

function parseWith<T>(key: string, schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new ConfigError(zodMessage(key, parsed.error));
  return parsed.data;
}

/** Runs a check and names the config key in whatever it rejects. */
function underKey<T>(key: string, check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof UserError && !(error instanceof ConfigError))
      throw new ConfigError(`layerbench:${key}: ${error.message}`);
    throw error;
  }
}

/** What a top-level key is, for Pulumi.yaml's config schema (types string and integer there) and the README. */
export interface KeyDocumentation {
  description: string;
  /** Declared in Pulumi.yaml with this type; structured keys live in the stack files only. */
  pulumiType?: "string" | "integer" | "boolean";
  secret?: boolean;
  /** The default as the README says it, where it is not a plain value. */
  defaultText?: string;
}

function documented<T extends z.ZodType>(schema: T, documentation: KeyDocumentation): T {
  return schema.meta({ ...documentation });
}

/** A top-level string whose messages name the key and the value: "layerbench:node "pve 1" is not allowed: ...". */
function checkedString(key: string, pattern: RegExp, allowed: string, extra?: (value: string) => boolean) {
  return z.unknown().transform((value, context): string => {
    if (typeof value !== "string" || value === "") {
      context.addIssue({ code: "custom", message: `layerbench:${key} is required: ${allowed}` });
      return z.NEVER;
    }
    if (!pattern.test(value) || (extra && !extra(value))) {
      context.addIssue({
        code: "custom",
        message: `layerbench:${key} ${JSON.stringify(value)} is not allowed: ${allowed}`,
      });
      return z.NEVER;
    }
    return value;
  });
}

function wholeNumber(key: string, least = 1) {
  return z.unknown().transform((value, context): number => {
    if (typeof value === "number" && Number.isInteger(value) && value >= least) return value;
    context.addIssue({
      code: "custom",
      message: `layerbench:${key} ${JSON.stringify(value)} is not allowed: use a whole number, at least ${least}`,
    });
    return z.NEVER;
  });
}

/**
 * Every `layerbench:` key of a stack: the one description of the config, from which its validation, its defaults,
 * Pulumi.yaml's `config:` schema (configKeysForPulumiYaml) and the README's table (configKeysMarkdown) come.
 */
export const StackConfigSchema = z.object({
  node: documented(checkedString("node", NAME, "the Proxmox node's name, as in the web UI (e.g. pve)"), {
    description: "Name of the Proxmox node, as in the web UI (e.g. pve)",
    pulumiType: "string",
  }),
  nodeAddress: documented(checkedString("nodeAddress", ADDRESS, "the host name or IP address of the node for SSH"), {
    description: "Host name or IP address of the node, for SSH",
    pulumiType: "string",
  }),
  sshUser: documented(
    checkedString(
      "sshUser",
      /^[a-z_][a-z0-9_-]*$/,
      "a Linux user name on the node (root: it runs zfs, qm and udevadm)",
    ).default("root"),
    {
      description: "SSH user on the node (needs zfs and udevadm, so root)",
      pulumiType: "string",
    },
  ),
  // Read as a secret Output by components/config.ts; here so that Pulumi.yaml and the README declare it.
  sshPrivateKey: documented(z.unknown().optional(), {
    description:
      "SSH private key (set it as a secret: pulumi config set --secret layerbench:sshPrivateKey < ~/.ssh/id_ed25519); it logs in to the node and to the bench VM",
    pulumiType: "string",
    secret: true,
  }),
  dataset: documented(
    checkedString(
      "dataset",
      ZFS_NAME,
      "use a child dataset of a pool, e.g. rpool/layerbench (it is created and destroyed by layerbench)",
      (value) => value.includes("/"),
    ).default("rpool/layerbench"),
    {
      description: "Parent ZFS dataset that layerbench creates and destroys (an existing pool's child)",
      pulumiType: "string",
    },
  ),
  profile: documented(z.string().default("ars"), {
    description: "Workload profile, ars or kbench",
    pulumiType: "string",
  }),
  jobFile: documented(z.string().optional(), {
    description:
      'The text of a fio job file of yours, each section a workload, instead of profile (pulumi config set layerbench:jobFile -- "$(cat my.fio)")',
    pulumiType: "string",
    defaultText: "none",
  }),
  runtime: documented(z.number().optional(), {
    description: "Seconds per workload run (default, the profile's)",
    pulumiType: "integer",
    defaultText: "the profile's",
  }),
  size: documented(z.union([z.string(), z.number()]).transform(String).optional(), {
    description: "File or region size per fio job, e.g. 1g (default, the profile's)",
    pulumiType: "string",
    defaultText: "the profile's",
  }),
  ramp: documented(wholeNumber("ramp", 0).optional(), {
    description: "Seconds fio runs before it measures, fio's ramp_time (default, the profile's: 5 for kbench)",
    pulumiType: "integer",
    defaultText: "the profile's",
  }),
  repeat: documented(wholeNumber("repeat").default(1), {
    description: "Runs per workload, for mean and standard deviation",
    pulumiType: "integer",
  }),
  // `repeat: auto` of the CLI: Pulumi checks repeat against its declared type, integer, so auto is a key of its own.
  repeatAuto: documented(z.boolean().default(false), {
    description: `Runs per workload until their IOPS agree within maxRsd: ${AUTO_MIN_RUNS} to ${AUTO_MAX_RUNS} (instead of repeat)`,
    pulumiType: "boolean",
  }),
  maxRsd: documented(wholeNumber("maxRsd").default(DEFAULT_MAX_RSD_PCT), {
    description: "With repeatAuto, the relative standard deviation of IOPS to reach, in percent",
    pulumiType: "integer",
  }),
  precondition: documented(z.boolean().default(false), {
    description:
      "Fill each device (the baseline zvol, each VM disk) once, sequentially, before its first measurement: thin zvols read as zeros until written",
    pulumiType: "boolean",
  }),
  runId: documented(z.union([z.string(), z.number()]).transform(String).default("1"), {
    description: "Change it to run the benchmarks again without re-provisioning anything",
    pulumiType: "string",
  }),
  baseline: documented(BaselineSchema.prefault({ kind: "zvol" }), {
    description:
      "`{kind: zvol, volblocksize, compression, sync, sizeGb}` or `{kind: dataset, recordsize, compression, sync}`",
    defaultText: "a 32 GiB zvol, 16k, lz4, standard",
  }),
  vm: documented(
    z.unknown().transform((value, context) => {
      if (value === undefined) {
        context.addIssue({
          code: "custom",
          message: "layerbench:vm is required: at least { sshPublicKey: ... } for the bench VM's login",
        });
        return z.NEVER;
      }
      const parsed = VmSchema.safeParse(value);
      if (!parsed.success) {
        context.addIssue({ code: "custom", message: zodMessage("vm", parsed.error) });
        return z.NEVER;
      }
      return parsed.data;
    }),
    {
      description:
        "`{vmId, name, cores, memoryMb, bootDatastore, bootSizeGb, fileDatastore, imageUrl, bridge, ip (dhcp or CIDR), gateway, user, sshPublicKey}`",
      defaultText: "9100, 4 cores, 4 GiB, `local-zfs`, `local`, Debian 13 genericcloud, `vmbr0`, dhcp",
    },
  ),
  vmVariants: documented(VariantMatrixSchema.default({}), {
    description:
      "`{defaults, list, axes, design, interactions, confirm}`: an explicit list of variants and/or axes whose cross product is taken, or a designed subset of it (below)",
    defaultText: "–",
  }),
  // Checked by parseK8s, which needs the VM layer's settings.
  k8s: documented(z.unknown().optional(), { description: "the Kubernetes layer (below)", defaultText: "off" }),
});

function documentationOf(schema: z.ZodType): KeyDocumentation {
  return schema.meta() as unknown as KeyDocumentation;
}

function defaultOf(schema: z.ZodType): unknown {
  return schema instanceof z.ZodDefault ? schema.def.defaultValue : undefined;
}

/** Pulumi.yaml's `config:` section: every key Pulumi declares (its schema takes scalar types only). */
export function configKeysForPulumiYaml(): Record<string, { type: string; description: string; default?: unknown }> {
  return Object.fromEntries(
    Object.entries(StackConfigSchema.shape).flatMap(([key, schema]) => {
      const { pulumiType, description } = documentationOf(schema);
      if (!pulumiType) return [];
      const fallback = defaultOf(schema);
      return [[key, { type: pulumiType, description, ...(fallback !== undefined && { default: fallback }) }]];
    }),
  );
}

/** The README's table of the top-level keys. */
export function configKeysMarkdown(): string[] {
  return Object.entries(StackConfigSchema.shape).map(([key, schema]) => {
    const { description, defaultText, secret } = documentationOf(schema);
    const fallback = defaultOf(schema);
    const required = !schema.safeParse(undefined).success;
    const shown =
      defaultText ??
      (secret
        ? "required, a secret"
        : fallback !== undefined
          ? `\`${String(fallback)}\``
          : required
            ? "required"
            : "–");
    return `| \`${key}\` | ${description} | ${shown} |`;
  });
}

/**
 * On a device fio's jobs write side by side (offset_increment) and --precondition fills the same region. Past a block
 * device's end fio does less without a word (tried on a loop device with fio 3.33: size=16m on 8 MiB wrote 8 MiB, a
 * second job at offset 8m wrote nothing, error 0): the numbers would measure less than they say. So the baseline zvol
 * and every VM disk must hold the profile's largest workload.
 */
function checkDevicesHoldTheWorkloads(profile: Profile, baseline: Baseline, variants: VmDiskVariant[]): void {
  const footprint = largestFootprint(profile);
  const neededGb = Math.ceil(footprint / 1024 ** 3);
  const what = `the profile's largest workload writes ${formatFioSize(footprint)} on it`;
  if (baseline.kind === "zvol" && baseline.sizeGb * 1024 ** 3 < footprint)
    throw new ConfigError(
      `layerbench:baseline.sizeGb ${baseline.sizeGb} is not allowed: ${what}, use at least ${neededGb}`,
    );
  const small = variants.find((variant) => variant.sizeGb * 1024 ** 3 < footprint);
  if (small)
    throw new ConfigError(
      `layerbench:vmVariants: variant "${small.id}" sizeGb ${small.sizeGb} is not allowed: ${what}, use at least ${neededGb}`,
    );
}

/** Validates the whole configuration before any resource is declared; the first problem is named with its key. */
export function parseBenchConfig(raw: RawConfig): BenchConfig {
  const parsed = StackConfigSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(zodMessage(undefined, parsed.error));
  const { node, nodeAddress, sshUser, dataset, runId, repeatAuto, maxRsd } = parsed.data;
  // Pulumi fills in repeat's default (1), so only a count other than 1 conflicts with repeatAuto.
  if (repeatAuto && parsed.data.repeat !== 1)
    throw new ConfigError(
      `layerbench:repeat ${parsed.data.repeat} and layerbench:repeatAuto true: give a count, or repeatAuto`,
    );
  const stopWhenStable = repeatAuto ? { minRuns: AUTO_MIN_RUNS, maxRsdPct: maxRsd } : undefined;
  const precondition = parsed.data.precondition ? { precondition: true } : {};
  const { jobFile } = parsed.data;
  if (jobFile !== undefined) {
    const set = (["runtime", "ramp", "size"] as const).filter((key) => parsed.data[key] !== undefined);
    if (set.length > 0)
      throw new ConfigError(
        `layerbench:${set.join(", layerbench:")} cannot change layerbench:jobFile: set ${set.join(", ")} in the job file`,
      );
  }
  const profile =
    jobFile !== undefined
      ? underKey("jobFile", () => ({
          ...jobFileProfile(jobFile, "jobFile"),
          ...(stopWhenStable && { stopWhenStable }),
          ...precondition,
        }))
      : underKey("profile", () =>
          resolveProfile(parsed.data.profile, {
            runtimeSec: parsed.data.runtime,
            rampSec: parsed.data.ramp,
            size: parsed.data.size,
            ...(stopWhenStable && { stopWhenStable }),
            ...precondition,
          }),
        );
  const repeat = repeatAuto ? AUTO_MAX_RUNS : parsed.data.repeat;
  const { baseline } = parsed.data;
  if (baseline.kind === "zvol") {
    // The same checks as a VM disk's ZFS options, so that baseline and variants mean the same thing.
    const checked = underKey("baseline", () =>
      validateVariant({
        id: "baseline",
        volblocksize: baseline.volblocksize,
        compression: baseline.compression,
        sync: baseline.sync,
      }),
    );
    Object.assign(baseline, { volblocksize: checked.volblocksize });
  }
  const { vm } = parsed.data;
  if (vm.ip !== "dhcp" && vm.gateway === undefined)
    throw new ConfigError(`layerbench:vm.gateway is required with a static vm.ip (${vm.ip})`);
  const matrix = parsed.data.vmVariants;
  const design = matrixDesign(matrix, "vmVariants");
  const {
    variants,
    skipped,
    design: designRecord,
  } = underKey("vmVariants", () => expandVariants(matrix as VariantMatrixInput, design));
  if (variants.length === 0) throw new ConfigError("layerbench:vmVariants has no variants: give a list, axes, or both");
  checkDevicesHoldTheWorkloads(profile, baseline as Baseline, variants);
  const k8s = parseK8s(parsed.data.k8s, vm, vmGroups(variants).length, profile, { name: node, address: nodeAddress });
  return {
    node,
    nodeAddress,
    sshUser,
    dataset,
    profile,
    repeat,
    runId,
    baseline: baseline as Baseline,
    vm,
    variants,
    skippedVariants: skipped,
    ...(designRecord && { design: designRecord }),
    ...(k8s && { k8s }),
  };
}

const readableKeys = Object.entries(StackConfigSchema.shape).filter(([, schema]) => !documentationOf(schema).secret);
/** Keys Pulumi hands over as they are. */
export const STRING_KEYS = readableKeys
  .filter(([, schema]) => documentationOf(schema).pulumiType === "string")
  .map(([key]) => key);
/** Numbers and objects arrive from Pulumi as JSON text; parsing them before parseBenchConfig lets it name a bad value by key. */
export const STRUCTURED_KEYS = readableKeys
  .filter(([, schema]) => documentationOf(schema).pulumiType !== "string")
  .map(([key]) => key);
