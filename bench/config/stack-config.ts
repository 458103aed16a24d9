import { z } from "zod";
import { jobFileProfile } from "../core/job-file-profile.js";
import { seedOf } from "../core/measurement-order.js";
import { largestFootprint, type Profile, resolveProfile } from "../core/profiles.js";
import { AUTO_MAX_RUNS, AUTO_MIN_RUNS, STACK_MAX_RSD_PCT } from "../core/repeat.js";
import type { DesignRecord } from "../core/results.js";
import type { UserStorages } from "../storage/vm-storages.js";
import { formatFioSize } from "../util/size.js";
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
import { type CephSettings, parseCeph } from "./ceph-config.js";
import { type K8sSettings, parseK8s } from "./k8s-config.js";
import {
  ADDRESS,
  ConfigError,
  checkedString,
  documentationOf,
  documented,
  matrixDesign,
  NAME,
  underKey,
  VariantMatrixSchema,
  wholeNumber,
  ZFS_NAME,
  zodMessage,
} from "./schema-parts.js";
import { checkStorageUsers, STORAGES_KEY } from "./storages-config.js";
import { VmSchema, type VmSettings } from "./vm-settings.js";

/** fio on the node itself: on a zvol (the fair match for zvol-backed VM disks) or in a dataset. */
export type Baseline =
  | ({ kind: "zvol"; sizeGb: number } & ZfsOptions)
  | { kind: "dataset"; recordsize: string; compression: ZfsOptions["compression"]; sync: ZfsOptions["sync"] };

export interface BenchConfig {
  node: string;
  nodeAddress: string;
  sshUser: string;
  /** Parent ZFS dataset everything is created under, e.g. rpool/layerbench. */
  dataset: string;
  profile: Profile;
  repeat: number;
  runId: string;
  /** Shuffles the order of measurement (core/measurement-order.ts); absent: the order given. */
  orderSeed?: number;
  baseline: Baseline;
  vm: VmSettings;
  variants: VmDiskVariant[];
  skippedVariants: Array<{ id: string; reason: string }>;
  /** How the axes' variants were chosen; absent without axes. */
  design?: DesignRecord;
  /** Absent when the Kubernetes layer is not enabled. */
  k8s?: K8sSettings;
  /** The user's Ceph RBD storage; absent without layerbench:ceph. */
  ceph?: CephSettings;
  /** The user's storages VM disks go on, by kind (layerbench:storages). */
  storages: UserStorages;
}

/** Every config value as the stack file has it (objects already parsed from their JSON). */
export type RawConfig = Record<string, unknown>;

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
    description: `Runs per workload until their IOPS agree within maxRsd, by the Phoronix Test Suite's rule: ${AUTO_MIN_RUNS} to ${AUTO_MAX_RUNS} (instead of repeat)`,
    pulumiType: "boolean",
  }),
  // A whole number: Pulumi.yaml's config types have no fraction (string, integer, boolean, array), so a stack's
  // default is 3 where the CLI's, the Phoronix Test Suite's, is 2.5.
  maxRsd: documented(wholeNumber("maxRsd").default(STACK_MAX_RSD_PCT), {
    description: "With repeatAuto, the relative standard deviation of IOPS to get below, in percent (a whole number)",
    pulumiType: "integer",
  }),
  precondition: documented(z.boolean().default(false), {
    description:
      "Fill each device (the baseline zvol, each VM disk) once, sequentially, before its first measurement: thin zvols read as zeros until written",
    pulumiType: "boolean",
  }),
  steady: documented(z.boolean().default(false), {
    description:
      "End each run once fio's steadystate criterion holds (the IOPS trend over a quarter of the runtime within 10 %), at most the runtime",
    pulumiType: "boolean",
  }),
  order: documented(z.enum(["random", "given"]).default("random"), {
    description:
      "The order the VM and Kubernetes variants are measured in: random (seeded by orderSeed, recorded in the results, so that drift over hours of runs cannot pass for a setting's effect) or given. Either way the baseline is measured again after the VM variants (from 2 of them) and in their middle (from 4), to show drift",
    pulumiType: "string",
  }),
  orderSeed: documented(wholeNumber("orderSeed", 0).optional(), {
    description: "The seed of the random order, to measure in a run's order again",
    defaultText: "one made from runId: a new runId, a new order",
    pulumiType: "integer",
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
  storages: STORAGES_KEY,
  // Checked by parseCeph, and against the variants that use it.
  ceph: documented(z.unknown().optional(), {
    description:
      "`{storage, krbdStorage, pool, size, minSize, csi}`: your Proxmox RBD storage, for a Ceph baseline, VM disks with `storage: rbd` or `krbd`, and ceph-csi volumes (below)",
    defaultText: "off",
  }),
  // Read as a secret Output by components/config.ts; here so that Pulumi.yaml and the README declare it.
  cephUserKey: documented(z.unknown().optional(), {
    description:
      "The cephx key of ceph.csi.userId, for ceph-csi: set it as a secret, pulumi config set --secret layerbench:cephUserKey KEY, with the KEY that ceph auth print-key client.USERID prints",
    pulumiType: "string",
    secret: true,
    defaultText: "with ceph.csi, a secret",
  }),
});

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

/** The workloads (a profile or a job file, with --steady and preconditioning) and the runs each gets. */
function profileAndRepeat(data: z.infer<typeof StackConfigSchema>): { profile: Profile; repeat: number } {
  const { repeatAuto, maxRsd } = data;
  // Pulumi fills in repeat's default (1), so only a count other than 1 conflicts with repeatAuto.
  if (repeatAuto && data.repeat !== 1)
    throw new ConfigError(
      `layerbench:repeat ${data.repeat} and layerbench:repeatAuto true: give a count, or repeatAuto`,
    );
  const stopWhenStable = repeatAuto ? { minRuns: AUTO_MIN_RUNS, maxRsdPct: maxRsd } : undefined;
  const precondition = {
    ...(data.precondition && { precondition: true }),
    ...(data.steady && { steady: true }),
  };
  const { jobFile } = data;
  if (jobFile !== undefined) {
    const set = (["runtime", "ramp", "size"] as const).filter((key) => data[key] !== undefined);
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
          resolveProfile(data.profile, {
            runtimeSec: data.runtime,
            rampSec: data.ramp,
            size: data.size,
            ...(stopWhenStable && { stopWhenStable }),
            ...precondition,
          }),
        );
  return { profile, repeat: repeatAuto ? AUTO_MAX_RUNS : data.repeat };
}

/** Validates the whole configuration before any resource is declared; the first problem is named with its key. */
export function parseBenchConfig(raw: RawConfig): BenchConfig {
  const parsed = StackConfigSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(zodMessage(undefined, parsed.error));
  const { node, nodeAddress, sshUser, dataset, runId } = parsed.data;
  const { profile, repeat } = profileAndRepeat(parsed.data);
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
  const ceph = parseCeph(parsed.data.ceph);
  const k8s = parseK8s(parsed.data.k8s, vm, vmGroups(variants).length, profile, { name: node, address: nodeAddress });
  const storages = parsed.data.storages as UserStorages;
  checkStorageUsers(variants, storages, ceph, k8s);
  return {
    node,
    nodeAddress,
    sshUser,
    dataset,
    profile,
    repeat,
    runId,
    ...(parsed.data.order === "random" && { orderSeed: parsed.data.orderSeed ?? seedOf(runId) }),
    baseline: baseline as Baseline,
    vm,
    variants,
    skippedVariants: skipped,
    ...(designRecord && { design: designRecord }),
    storages,
    ...(k8s && { k8s }),
    ...(ceph && { ceph }),
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
