import { basename, resolve } from "node:path";
import { RbdError, type RbdImage, validateRbdImage } from "../ceph/rbd-image.js";
import { DEFAULT_DISK_SHAPE, DISK_SHAPES, type DiskShape } from "../qemu/disk-args.js";
import { UserError } from "../util/errors.js";
import { type VmDiskVariant, validateVariant } from "../variants/vm-variants.js";

export interface LocalTarget {
  name: string;
  /** Absolute directory the fio files go into; for a VM target, where its raw disk image goes. */
  path: string;
  /** For a scratch directory: the directory it was made in, which results record (its own name is random). */
  scratchIn?: string;
  /** A VM target: a disk of a local QEMU guest with these options. */
  vm?: VmDiskVariant;
  /** A VM target's disk arguments: as Proxmox VE 9's qemu-server writes them, or 8.4's. */
  pve?: DiskShape;
  /** An RBD image: measured with fio's rbd engine or, for a VM target, the guest's disk (made and removed by the run). */
  rbd?: RbdImage;
}

/** A disk of the local QEMU guest. */
export type VmTarget = LocalTarget & { vm: VmDiskVariant; pve: DiskShape };

export function isVmTarget(target: LocalTarget): target is VmTarget {
  return target.vm !== undefined && target.pve !== undefined;
}

export class TargetSpecError extends UserError {}

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** The options a VM target may set: the disk's, as on Proxmox; ZFS options have no meaning for an image file. */
export const VM_TARGET_OPTIONS = ["bus", "cache", "aio", "iothread", "discard", "ssd", "format"] as const;
/** The Proxmox storage a local VM target's image file stands for: a directory storage's file. */
export const LOCAL_FILE_STORAGE = "dir";
export const VM_FLAG_VALUES: Record<string, boolean> = { on: true, off: false, true: true, false: false };

/** "POOL/IMAGE": the image part of an RBD target. */
function parseRbdName(text: string, what: string): { pool: string; image: string } {
  const match = /^([^/]+)\/([^/]+)$/.exec(text);
  if (!match) throw new TargetSpecError(`${what}: "${text}" is not POOL/IMAGE, e.g. rbd/layerbench-test`);
  return { pool: match[1], image: match[2] };
}

function checkedRbdImage(image: RbdImage, what: string): RbdImage {
  try {
    return validateRbdImage(image, what);
  } catch (error) {
    throw error instanceof RbdError ? new TargetSpecError(error.message) : error;
  }
}

/** "NAME=rbd:POOL/IMAGE[:id=USER][:conf=PATH]", as QEMU's rbd: file names write it. */
function parseRbdTarget(name: string, text: string, spec: string): LocalTarget {
  const [poolImage, ...options] = text.split(":");
  const what = `RBD target "${name}"`;
  const image: RbdImage = parseRbdName(poolImage, what);
  for (const pair of options) {
    const [key, value] = pair.split("=", 2);
    if (value === undefined || value === "")
      throw new TargetSpecError(`bad RBD target "${spec}": "${pair}" is not KEY=VALUE: use id=USER or conf=PATH`);
    if (key === "id") image.id = value;
    else if (key === "conf") image.conf = resolve(value);
    else throw new TargetSpecError(`${what}: unknown option "${key}": use id=USER or conf=PATH`);
  }
  return { name, path: `rbd:${poolImage}`, rbd: checkedRbdImage(image, what) };
}

/**
 * "vm:bus=virtio-blk,cache=none,iothread=on[,dir=DIR][,pve=8|9][,rbd=POOL/IMAGE,id=USER,conf=PATH]": a variant
 * validated as the Proxmox stacks validate it; with rbd= its disk is an RBD image, as on a Proxmox RBD storage.
 */
function parseVmTarget(name: string, options: string, spec: string): LocalTarget {
  const input: Record<string, unknown> = { id: name };
  let dir = ".";
  let pve = DEFAULT_DISK_SHAPE;
  let rbd: RbdImage | undefined;
  const rbdOptions: { id?: string; conf?: string } = {};
  for (const pair of options.split(",").filter(Boolean)) {
    const [key, value] = pair.split("=", 2);
    if (value === undefined) throw new TargetSpecError(`bad VM target "${spec}": "${pair}" is not KEY=VALUE`);
    if (key === "dir") dir = value;
    else if (key === "rbd") rbd = parseRbdName(value, `VM target "${name}": rbd=`);
    else if (key === "id") rbdOptions.id = value;
    else if (key === "conf") rbdOptions.conf = resolve(value);
    else if (key === "pve") {
      if (!(DISK_SHAPES as readonly string[]).includes(value))
        throw new TargetSpecError(
          `VM target "${name}": pve=${value} is not allowed: use ${DISK_SHAPES.join(" or ")} (the Proxmox VE release whose disk arguments the guest gets)`,
        );
      pve = value as DiskShape;
    } else if (key === "iothread" || key === "ssd") {
      if (!(value in VM_FLAG_VALUES))
        throw new TargetSpecError(`VM target "${name}": ${key}=${value} is not allowed: use on or off`);
      input[key] = VM_FLAG_VALUES[value];
    } else if ((VM_TARGET_OPTIONS as readonly string[]).includes(key)) input[key] = value;
    else
      throw new TargetSpecError(
        `VM target "${name}": unknown option "${key}": use ${[...VM_TARGET_OPTIONS, "dir", "pve", "rbd", "id", "conf"].join(", ")}`,
      );
  }
  if (!rbd && (rbdOptions.id || rbdOptions.conf))
    throw new TargetSpecError(`VM target "${name}": id= and conf= belong to a disk on RBD: add rbd=POOL/IMAGE`);
  // qemu-server 8.4 passed RBD disks as rbd: file names with storage-specific options; only 9's -blockdev is modelled.
  if (rbd && pve !== "9")
    throw new TargetSpecError(
      `VM target "${name}": pve=${pve} with rbd= is not supported: an RBD disk takes Proxmox VE 9's -blockdev shape, pve=9`,
    );
  const image = rbd && checkedRbdImage({ ...rbd, ...rbdOptions }, `VM target "${name}"`);
  // A disk on RBD is QEMU's librbd, as on a Proxmox RBD storage without krbd: its rules, not a file's, apply. An
  // image file in a directory is a disk of a Proxmox directory storage: raw or qcow2.
  input.storage = image ? "rbd" : LOCAL_FILE_STORAGE;
  try {
    return { name, path: resolve(dir), vm: validateVariant(input), pve, ...(image && { rbd: image }) };
  } catch (error) {
    throw new TargetSpecError(`VM target ${(error as Error).message.replace(/^variant /, "")}`);
  }
}

/** Parses "NAME=DIR" (or a bare DIR, named after its last component), "NAME=vm:OPTIONS" or "NAME=rbd:POOL/IMAGE". */
export function parseTargetSpec(spec: string): LocalTarget {
  const vm = /^([^=]+)=vm:(.*)$/.exec(spec);
  if (vm) return parseVmTarget(vm[1], vm[2], spec);
  const rbd = /^([^=]+)=rbd:(.*)$/.exec(spec);
  if (rbd) return parseRbdTarget(rbd[1], rbd[2], spec);
  const separator = spec.indexOf("=");
  if (separator === 0)
    throw new TargetSpecError(
      `bad --target "${spec}": the name before "=" is empty: give NAME=DIR, e.g. --target nvme=/mnt/nvme`,
    );
  const name = separator > 0 ? spec.slice(0, separator) : basename(resolve(spec));
  const dir = separator > 0 ? spec.slice(separator + 1) : spec;
  if (dir === "") throw new TargetSpecError(`bad --target "${spec}": give NAME=DIR, e.g. --target nvme=/mnt/nvme`);
  if (!NAME_PATTERN.test(name)) {
    throw new TargetSpecError(
      `bad target name "${name}" in --target "${spec}": use letters, digits, '.', '_' and '-', starting with a letter or digit`,
    );
  }
  return { name, path: resolve(dir) };
}

export function checkDistinctNames(targets: LocalTarget[]): void {
  const seen = new Set<string>();
  for (const target of targets) {
    if (seen.has(target.name))
      throw new TargetSpecError(`target name "${target.name}" is given twice: each --target needs its own NAME`);
    seen.add(target.name);
  }
}
