import { createHash } from "node:crypto";
import type { Point } from "../core/linear-model.js";
import type { DesignRecord } from "../core/results.js";
import {
  DISK_FORMATS,
  type DiskFormat,
  VM_STORAGE_KINDS,
  VM_STORAGES,
  type VmStorage,
} from "../storage/vm-storages.js";
import { UserError } from "../util/errors.js";
import { formatFioSize, sizeOrUndefined } from "../util/size.js";
import { crossProduct, repeatedId } from "./axes.js";
import { applyDesign, axisFactors, type DesignSpec, FULL_DESIGN } from "./design.js";

// One definition of a VM disk variant, validated once; Proxmox disk arguments (and a local QEMU guest later)
// are renderings of it.

export const BUSES = ["virtio-blk", "virtio-scsi-single"] as const;
export const CACHE_MODES = ["none", "directsync", "writethrough", "writeback", "unsafe"] as const;
export const AIO_MODES = ["io_uring", "native", "threads"] as const;
export const DISCARD_MODES = ["on", "ignore"] as const;
export const COMPRESSIONS = ["off", "on", "lz4", "zstd", "gzip", "zle"] as const;
export const SYNC_MODES = ["standard", "always", "disabled"] as const;
export type Bus = (typeof BUSES)[number];
export type CacheMode = (typeof CACHE_MODES)[number];
export type AioMode = (typeof AIO_MODES)[number];
export type DiscardMode = (typeof DISCARD_MODES)[number];
export type Compression = (typeof COMPRESSIONS)[number];
export type SyncMode = (typeof SYNC_MODES)[number];

/** The ZFS properties a zvol inherits from the dataset it is created in. */
export interface ZfsOptions {
  /** Bytes, a power of two from 4 KiB to 1 MiB. */
  volblocksize: number;
  compression: Compression;
  sync: SyncMode;
}

export interface VmDiskVariant extends ZfsOptions {
  id: string;
  bus: Bus;
  cache: CacheMode;
  aio: AioMode;
  iothread: boolean;
  discard: DiscardMode;
  ssd: boolean;
  /** GiB. */
  sizeGb: number;
  /** The kind of Proxmox storage the disk is on (bench/storage/vm-storages.ts); its ZFS options apply on zfs only. */
  storage: VmStorage;
  /** The disk image's format, as the storage takes it (qcow2 on file storages only). */
  format: DiskFormat;
  /** The VM's memory and cores for this variant; the stack's `vm` settings when absent. */
  memoryMb?: number;
  cores?: number;
}

/** What a variant may say in a stack file: every field but the id may come from the defaults. */
export type VariantInput = Partial<Record<keyof VmDiskVariant, unknown>>;

export interface VariantMatrixInput {
  defaults?: VariantInput;
  /** Explicit variants; each must be valid. */
  list?: VariantInput[];
  /** Values per option; their cross product is taken and invalid combinations are skipped. */
  axes?: Partial<Record<Exclude<keyof VmDiskVariant, "id">, unknown[]>>;
}

export const DEFAULT_VARIANT: Omit<VmDiskVariant, "id"> = {
  bus: "virtio-blk",
  cache: "none",
  aio: "io_uring",
  iothread: true,
  discard: "ignore",
  ssd: false,
  sizeGb: 32,
  storage: "zfs",
  format: "raw",
  volblocksize: 16 * 1024,
  compression: "lz4",
  sync: "standard",
};

// Slots per bus (proxmox/qemu-server src/PVE/QemuServer/Drive.pm: $MAX_VIRTIO_DISKS 16, $MAX_SCSI_DISKS 31)
// and per VM (bpg/terraform-provider-proxmox proxmoxtf/resource/vm/disk/schema.go: MaxItems 31 disks in all).
export const MAX_VIRTIO_BLK_DATA_DISKS = 15; // virtio0..15, with virtio0 the boot disk
export const MAX_SCSI_DISKS = 31; // scsi0..30
export const MAX_DISKS_PER_VM = 31; // boot disk included
const MAX_SERIAL_LENGTH = 20; // Proxmox and virtio-blk both cut serials at 20 bytes
const ID_PATTERN = /^[a-z0-9][a-z0-9-]*$/;

export class VariantError extends UserError {}

function oneOf<T extends string>(variant: string, field: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value === "string" && (allowed as readonly string[]).includes(value)) return value as T;
  throw new VariantError(
    `variant "${variant}": ${field} ${JSON.stringify(value)} is not allowed: use one of ${allowed.join(", ")}`,
  );
}

function flag(variant: string, field: string, value: unknown): boolean {
  if (typeof value === "boolean") return value;
  throw new VariantError(`variant "${variant}": ${field} ${JSON.stringify(value)} is not allowed: use true or false`);
}

/** A size given as bytes or as text ("16k"); NaN for anything else. */
function sizeBytes(value: unknown): number {
  return typeof value === "number" ? value : typeof value === "string" ? (sizeOrUndefined(value) ?? NaN) : NaN;
}

function volblocksize(variant: string, value: unknown): number {
  const bytes = sizeBytes(value);
  const powerOfTwo = Number.isInteger(Math.log2(bytes));
  if (!(powerOfTwo && bytes >= 4096 && bytes <= 1024 ** 2)) {
    throw new VariantError(
      `variant "${variant}": volblocksize ${JSON.stringify(value)} is not allowed: use a power of two from 4k to 1m, e.g. 16k`,
    );
  }
  return bytes;
}

// bpg/terraform-provider-proxmox proxmoxtf/resource/vm/vm.go: cpu.cores IntBetween(1, 2304), memory.dedicated
// IntBetween(64, 268435456); the guest needs 512 MiB for Debian's cloud image, cloud-init and fio.
const CORES = { min: 1, max: 2304 };
const MEMORY_MB = { min: 512, max: 268435456 };

function vmSize(variant: string, field: "memoryMb" | "cores", value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const { min, max } = field === "cores" ? CORES : MEMORY_MB;
  if (typeof value === "number" && Number.isInteger(value) && value >= min && value <= max) return value;
  throw new VariantError(
    `variant "${variant}": ${field} ${JSON.stringify(value)} is not allowed: use a whole number from ${min} to ${max}`,
  );
}

function sizeGb(variant: string, value: unknown): number {
  if (typeof value === "number" && Number.isInteger(value) && value >= 1) return value;
  throw new VariantError(
    `variant "${variant}": sizeGb ${JSON.stringify(value)} is not allowed: use a whole number of GiB, at least 1`,
  );
}

/**
 * Whether the disk bypasses the host's caches (qemu-server Drive.pm drive_uses_cache_direct: none and directsync
 * open with O_DIRECT); QEMU then also opens an RBD image with librbd's cache off (block/rbd.c qemu_rbd_connect).
 */
export const usesCacheDirect = (variant: Pick<VmDiskVariant, "cache">) =>
  variant.cache === "none" || variant.cache === "directsync";

/**
 * The aio qemu-server gives a disk that names none (Drive.pm aio_cmdline_option): io_uring where the storage
 * allows it by default (storage_allows_io_uring_default), else native with O_DIRECT and threads without.
 */
export function defaultAio(variant: Pick<VmDiskVariant, "storage" | "cache">): AioMode {
  if (VM_STORAGE_KINDS[variant.storage].ioUringRefusal(usesCacheDirect(variant)) === undefined) return "io_uring";
  return usesCacheDirect(variant) ? "native" : "threads";
}

/**
 * Whether the disk's aio reaches QEMU: a librbd disk's blockdev takes none (qemu-server Blockdev.pm
 * generate_file_blockdev gives aio to the file, host_device and host_cdrom drivers only), so its aio measures nothing.
 */
export const aioApplies = (variant: Pick<VmDiskVariant, "storage">) =>
  VM_STORAGE_KINDS[variant.storage].device !== "librbd";

/** What the results record for an option the variant's disk does not use. */
export const NOT_APPLICABLE = "n/a";

/** Proxmox's and QEMU's rules for a disk's options together; the message names what to change. */
export function combinationProblem(variant: Omit<VmDiskVariant, "id">): string | undefined {
  // An unknown storage is refused by validateVariant, naming the ones allowed.
  if (!VM_STORAGES.includes(variant.storage)) return undefined;
  const storage = VM_STORAGE_KINDS[variant.storage];
  if (!storage.formats.includes(variant.format))
    return `format ${variant.format} on storage ${variant.storage}: a ${storage.pveType} storage takes ${storage.formats.join(", ")} (${storage.source}, Plugin.pm get_formats)`;
  // QEMU's file-posix refuses aio=native without O_DIRECT; a librbd disk gets no aio to refuse.
  if (variant.aio === "native" && !usesCacheDirect(variant) && aioApplies(variant)) {
    return `aio=native needs cache none or directsync (O_DIRECT), not ${variant.cache}`;
  }
  const ioUringRefusal = storage.ioUringRefusal(usesCacheDirect(variant));
  if (variant.aio === "io_uring" && ioUringRefusal)
    return `aio=io_uring on storage ${variant.storage} with cache ${variant.cache}: ${ioUringRefusal} (qemu-server Drive.pm storage_allows_io_uring_default): use aio ${defaultAio(variant)}, or leave aio unset`;
  if (variant.ssd && variant.bus === "virtio-blk")
    return "ssd emulation is not supported on virtio-blk disks: use bus virtio-scsi-single";
  return undefined;
}

/** A variant's fields as given over the defaults; an aio nobody gave is the one qemu-server would choose. */
function mergedInput(input: VariantInput, defaults: VariantInput): VariantInput {
  const merged: VariantInput = { ...DEFAULT_VARIANT, ...defaults, ...input };
  if (input.aio === undefined && defaults.aio === undefined && VM_STORAGES.includes(merged.storage as VmStorage))
    merged.aio = defaultAio(merged as Pick<VmDiskVariant, "storage" | "cache">);
  return merged;
}

/** Validates one variant, every field checked against what is allowed. */
export function validateVariant(input: VariantInput, defaults: VariantInput = {}): VmDiskVariant {
  const merged = mergedInput(input, defaults);
  const id = merged.id;
  if (typeof id !== "string" || !ID_PATTERN.test(id)) {
    throw new VariantError(
      `variant id ${JSON.stringify(id)} is not allowed: use lower-case letters, digits and '-', starting with a letter or digit`,
    );
  }
  const known = new Set<string>(["id", ...Object.keys(DEFAULT_VARIANT), "memoryMb", "cores"]);
  const unknown = Object.keys({ ...defaults, ...input }).find((key) => !known.has(key));
  if (unknown) throw new VariantError(`variant "${id}": unknown option "${unknown}": use ${[...known].join(", ")}`);
  const variant: VmDiskVariant = {
    id,
    bus: oneOf(id, "bus", merged.bus, BUSES),
    cache: oneOf(id, "cache", merged.cache, CACHE_MODES),
    aio: oneOf(id, "aio", merged.aio, AIO_MODES),
    iothread: flag(id, "iothread", merged.iothread),
    discard: oneOf(id, "discard", merged.discard, DISCARD_MODES),
    ssd: flag(id, "ssd", merged.ssd),
    sizeGb: sizeGb(id, merged.sizeGb),
    storage: oneOf(id, "storage", merged.storage, VM_STORAGES),
    format: oneOf(id, "format", merged.format, DISK_FORMATS),
    volblocksize: volblocksize(id, merged.volblocksize),
    compression: oneOf(id, "compression", merged.compression, COMPRESSIONS),
    sync: oneOf(id, "sync", merged.sync, SYNC_MODES),
  };
  const memoryMb = vmSize(id, "memoryMb", merged.memoryMb);
  const cores = vmSize(id, "cores", merged.cores);
  if (memoryMb !== undefined) variant.memoryMb = memoryMb;
  if (cores !== undefined) variant.cores = cores;
  const problem = combinationProblem(variant);
  if (problem) throw new VariantError(`variant "${id}": ${problem}`);
  return variant;
}

const SHORT_VALUES: Record<string, string> = {
  "virtio-blk": "blk",
  "virtio-scsi-single": "scsi",
  directsync: "dsync",
  writethrough: "wt",
  writeback: "wb",
  io_uring: "uring",
};

function axisLabel(field: string, value: unknown): string {
  if (field === "iothread") return value ? "iot" : "noiot";
  if (field === "ssd") return value ? "ssd" : "nossd";
  if (field === "discard") return value === "on" ? "discard" : "nodiscard";
  if (field === "volblocksize") return typeof value === "number" ? formatFioSize(value) : String(value);
  if (field === "sizeGb") return `${String(value)}g`;
  if (field === "memoryMb")
    return typeof value === "number" && value % 1024 === 0 ? `mem${value / 1024}g` : `mem${String(value)}m`;
  if (field === "cores") return `${String(value)}c`;
  return SHORT_VALUES[String(value)] ?? String(value);
}

export interface ExpandedMatrix {
  /** The list's, then the design's choice among the axes' (every valid one for design full). */
  variants: VmDiskVariant[];
  /** Cross-product combinations left out, with the reason. */
  skipped: Array<{ id: string; reason: string }>;
  /** How the axes' variants were chosen; absent without axes. */
  design?: DesignRecord;
}

/** The explicit list followed by the cross product of the axes; ids are unique; invalid combinations of axes are skipped. */
export function expandVariants(matrix: VariantMatrixInput, design: DesignSpec = FULL_DESIGN): ExpandedMatrix {
  const defaults = matrix.defaults ?? {};
  const listed = (matrix.list ?? []).map((input) => validateVariant(input, defaults));
  const skipped: ExpandedMatrix["skipped"] = [];
  const axes = Object.entries(matrix.axes ?? {});
  const combinations = crossProduct(
    axes,
    (field) => new VariantError(`axis "${field}" needs a list of at least one value`),
  );
  const axisVariants: Array<{ variant: VmDiskVariant; point: Point }> = [];
  const librbdIds = new Set<string>();
  for (const combination of combinations) {
    const fullId = combination.map(([field, value]) => axisLabel(field, value)).join("-");
    const merged = mergedInput(Object.fromEntries(combination), defaults) as Omit<VmDiskVariant, "id">;
    const problem = combinationProblem(merged);
    if (problem) {
      skipped.push({ id: fullId, reason: problem });
      continue;
    }
    // A librbd disk is the same disk whatever its aio: measured once, named without it.
    const id = aioApplies(merged)
      ? fullId
      : combination.flatMap(([field, value]) => (field === "aio" ? [] : [axisLabel(field, value)])).join("-");
    if (id !== fullId) {
      if (librbdIds.has(id)) {
        skipped.push({
          id: fullId,
          reason: `aio does not reach a librbd disk (qemu-server Blockdev.pm): measured as ${id}`,
        });
        continue;
      }
      librbdIds.add(id);
    }
    const input: VariantInput = { ...Object.fromEntries(combination), id };
    const point = Object.fromEntries(combination.map(([field, value]) => [field, levelLabel(field, value)]));
    axisVariants.push({ variant: validateVariant(input, defaults), point });
  }
  const factors = axisFactors(axes as Array<[string, unknown[]]>, levelLabel, { ...DEFAULT_VARIANT, ...defaults });
  const { variants, design: record } = applyDesign("vm", listed, axisVariants, factors, design);
  const repeated = repeatedId(variants);
  if (repeated !== undefined)
    throw new VariantError(`variant id "${repeated}" is used twice: every variant needs its own id`);
  return { variants, skipped, ...(record && { design: record }) };
}

/**
 * An axis value as a design's factor level and the report's tables show it: volblocksize "16k", not 16384;
 * iothread and ssd "on"/"off", as `run --axes` takes them and Proxmox's GUI says, not true/false.
 */
export function levelLabel(field: string, value: unknown): string {
  if (typeof value === "boolean") return value ? "on" : "off";
  if (field === "volblocksize") {
    const bytes = sizeBytes(value);
    return Number.isFinite(bytes) ? formatFioSize(bytes) : String(value);
  }
  return String(value);
}

/** The disk serial the guest finds the variant by: the id when it fits in 20 characters, else a stable hash of it. */
export function diskSerial(variant: Pick<VmDiskVariant, "id">): string {
  if (variant.id.length <= MAX_SERIAL_LENGTH) return variant.id;
  return `lb-${createHash("sha256")
    .update(variant.id)
    .digest("hex")
    .slice(0, MAX_SERIAL_LENGTH - 3)}`;
}

/**
 * The options that define a variant, as the results document records them: ZFS options on ZFS only, aio where it
 * reaches QEMU, the format where the storage offers a choice.
 */
export function variantOptions(variant: VmDiskVariant): Record<string, string | number | boolean> {
  const { id: _id, volblocksize: vbs, storage, format, compression, sync, aio, ...rest } = variant;
  const kind = VM_STORAGE_KINDS[storage];
  return {
    ...rest,
    aio: aioApplies(variant) ? aio : NOT_APPLICABLE,
    ...(kind.placement === "stack-zfs" && { volblocksize: formatFioSize(vbs), compression, sync }),
    ...(kind.formats.length > 1 && { format }),
    storage,
  };
}

/** Proxmox's slot names: virtio1.. for virtio-blk data disks (virtio0 is the boot disk), scsi0.. for SCSI. */
export function diskSlots(variants: VmDiskVariant[]): Map<string, string> {
  let virtio = 1;
  let scsi = 0;
  return new Map(
    variants.map((variant) => [variant.id, variant.bus === "virtio-blk" ? `virtio${virtio++}` : `scsi${scsi++}`]),
  );
}
