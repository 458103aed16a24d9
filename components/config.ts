import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { UserError } from "../bench/errors.js";
import { resolveProfile, type Profile } from "../bench/profiles.js";
import { COMPRESSIONS, SYNC_MODES, expandVariants, validateVariant, type VariantMatrixInput, type VmDiskVariant, type ZfsOptions } from "../bench/vm-variants.js";

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
}

/** Every config value as the stack file has it (objects already parsed from their JSON). */
export type RawConfig = Record<string, unknown>;

export class ConfigError extends UserError {}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const ZFS_NAME = /^[A-Za-z0-9][A-Za-z0-9._:/-]*[A-Za-z0-9]$/;
const IP_CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

const BaselineSchema = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("zvol"),
    sizeGb: z.number().int().min(1).default(32),
    volblocksize: z.union([z.string(), z.number()]).default("16k"),
    compression: z.enum(COMPRESSIONS).default("lz4"),
    sync: z.enum(SYNC_MODES).default("standard"),
  }).strict(),
  z.object({
    kind: z.literal("dataset"),
    recordsize: z.string().regex(/^\d+[kKmM]?$/, "use a size such as 128k").default("128k"),
    compression: z.enum(COMPRESSIONS).default("lz4"),
    sync: z.enum(SYNC_MODES).default("standard"),
  }).strict(),
]);

const VmSchema = z.object({
  vmId: z.number().int().min(100).max(999_999_999).default(9100),
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9-]*$/, "use letters, digits and '-'").default("layerbench"),
  cores: z.number().int().min(1).default(4),
  memoryMb: z.number().int().min(512).default(4096),
  bootDatastore: z.string().regex(NAME).default("local-zfs"),
  bootSizeGb: z.number().int().min(4).default(8),
  fileDatastore: z.string().regex(NAME).default("local"),
  imageUrl: z
    .url()
    .refine((value) => /\.(qcow2|raw|vmdk)$/.test(new URL(value).pathname), "Proxmox imports .qcow2, .raw or .vmdk disk images (a Debian genericcloud .qcow2, say)")
    .default("https://cloud.debian.org/images/cloud/bookworm/latest/debian-12-genericcloud-amd64.qcow2"),
  bridge: z.string().regex(NAME).default("vmbr0"),
  ip: z.string().refine((value) => value === "dhcp" || validCidr(value), "use dhcp or an IPv4 address with prefix length, e.g. 192.168.1.50/24").default("dhcp"),
  gateway: z.ipv4().optional(),
  user: z.string().regex(/^[a-z_][a-z0-9_-]*$/, "use a Linux user name").default("layerbench"),
  sshPublicKey: z.string().regex(/^(ssh-|ecdsa-)\S+ \S+/, "use an OpenSSH public key line, e.g. ssh-ed25519 AAAA... you@host"),
}).strict();

function validCidr(value: string): boolean {
  const match = IP_CIDR.exec(value);
  return match !== null && match.slice(1, 5).every((octet) => Number(octet) <= 255) && Number(match[5]) <= 32;
}

function zodMessage(key: string, error: z.ZodError): string {
  const issue = error.issues[0];
  const path = [key, ...issue.path.map(String)].join(".");
  return `layerbench:${path}: ${issue.message}`;
}

function parseWith<T>(key: string, schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new ConfigError(zodMessage(key, parsed.error));
  return parsed.data;
}

function requireString(raw: RawConfig, key: string, pattern: RegExp, allowed: string): string {
  const value = raw[key];
  if (typeof value !== "string" || value === "") throw new ConfigError(`layerbench:${key} is required: ${allowed}`);
  if (!pattern.test(value)) throw new ConfigError(`layerbench:${key} ${JSON.stringify(value)} is not allowed: ${allowed}`);
  return value;
}

function optionalInteger(raw: RawConfig, key: string, fallback: number): number {
  const value = raw[key] ?? fallback;
  if (typeof value === "number" && Number.isInteger(value) && value >= 1) return value;
  throw new ConfigError(`layerbench:${key} ${JSON.stringify(value)} is not allowed: use a whole number, at least 1`);
}

/** Runs a check and names the config key in whatever it rejects. */
function underKey<T>(key: string, check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof UserError && !(error instanceof ConfigError)) throw new ConfigError(`layerbench:${key}: ${error.message}`);
    throw error;
  }
}

/** Validates the whole configuration before any resource is declared; the first problem is named with its key. */
export function parseBenchConfig(raw: RawConfig): BenchConfig {
  const node = requireString(raw, "node", NAME, "the Proxmox node's name, as in the web UI (e.g. pve)");
  const nodeAddress = requireString(raw, "nodeAddress", /^[A-Za-z0-9.:-]+$/, "the host name or IP address of the node for SSH");
  const sshUser = typeof raw.sshUser === "string" ? raw.sshUser : "root";
  const dataset = typeof raw.dataset === "string" ? raw.dataset : "rpool/layerbench";
  if (!ZFS_NAME.test(dataset) || !dataset.includes("/")) {
    throw new ConfigError(`layerbench:dataset ${JSON.stringify(dataset)} is not allowed: use a child dataset of a pool, e.g. rpool/layerbench (it is created and destroyed by layerbench)`);
  }
  const profile = underKey("profile", () =>
    resolveProfile(typeof raw.profile === "string" ? raw.profile : "ars", {
      runtimeSec: raw.runtime === undefined ? undefined : (raw.runtime as number),
      size: raw.size === undefined ? undefined : String(raw.size),
    }),
  );
  const repeat = optionalInteger(raw, "repeat", 1);
  const runId = raw.runId === undefined ? "1" : String(raw.runId);
  const baseline = parseWith("baseline", BaselineSchema, raw.baseline ?? { kind: "zvol" });
  if (baseline.kind === "zvol") {
    // The same checks as a VM disk's ZFS options, so that baseline and variants mean the same thing.
    const checked = underKey("baseline", () => validateVariant({ id: "baseline", volblocksize: baseline.volblocksize, compression: baseline.compression, sync: baseline.sync }));
    Object.assign(baseline, { volblocksize: checked.volblocksize });
  }
  if (raw.vm === undefined) throw new ConfigError("layerbench:vm is required: at least { sshPublicKey: ... } for the bench VM's login");
  const vm = parseWith("vm", VmSchema, raw.vm);
  if (vm.ip !== "dhcp" && vm.gateway === undefined) throw new ConfigError(`layerbench:vm.gateway is required with a static vm.ip (${vm.ip})`);
  const matrix = parseWith("vmVariants", z.object({ defaults: z.record(z.string(), z.unknown()).optional(), list: z.array(z.record(z.string(), z.unknown())).optional(), axes: z.record(z.string(), z.array(z.unknown())).optional() }).strict(), raw.vmVariants ?? {});
  const { variants, skipped } = underKey("vmVariants", () => expandVariants(matrix as VariantMatrixInput));
  if (variants.length === 0) throw new ConfigError("layerbench:vmVariants has no variants: give a list, axes, or both");
  return { node, nodeAddress, sshUser, dataset, profile, repeat, runId, baseline: baseline as Baseline, vm, variants, skippedVariants: skipped };
}

const STRING_KEYS = ["node", "nodeAddress", "sshUser", "dataset", "profile", "size", "runId"];
// Numbers and objects arrive as JSON text; parsing them here lets parseBenchConfig name a bad value by key.
const JSON_KEYS = ["runtime", "repeat", "baseline", "vm", "vmVariants"];

/** Reads the stack's configuration; the SSH private key stays a secret Output. */
export function readBenchConfig(): { config: BenchConfig; sshPrivateKey: pulumi.Output<string> } {
  const config = new pulumi.Config("layerbench");
  const raw: RawConfig = {};
  for (const key of STRING_KEYS) {
    const value = config.get(key);
    if (value !== undefined) raw[key] = value;
  }
  for (const key of JSON_KEYS) {
    const value = config.get(key);
    if (value === undefined) continue;
    try {
      raw[key] = JSON.parse(value);
    } catch {
      raw[key] = value;
    }
  }
  return { config: parseBenchConfig(raw), sshPrivateKey: config.requireSecret("sshPrivateKey") };
}
