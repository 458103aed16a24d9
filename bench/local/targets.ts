import { basename, resolve } from "node:path";
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
}

/** A disk of the local QEMU guest. */
export type VmTarget = LocalTarget & { vm: VmDiskVariant; pve: DiskShape };

export function isVmTarget(target: LocalTarget): target is VmTarget {
  return target.vm !== undefined && target.pve !== undefined;
}

export class TargetSpecError extends UserError {}

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** The options a VM target may set: the disk's, as on Proxmox; ZFS options have no meaning for an image file. */
export const VM_TARGET_OPTIONS = ["bus", "cache", "aio", "iothread", "discard", "ssd"] as const;
export const VM_FLAG_VALUES: Record<string, boolean> = { on: true, off: false, true: true, false: false };

/** "vm:bus=virtio-blk,cache=none,iothread=on[,dir=DIR][,pve=8|9]": a variant validated as the Proxmox stacks validate it. */
function parseVmTarget(name: string, options: string, spec: string): LocalTarget {
  const input: Record<string, unknown> = { id: name };
  let dir = ".";
  let pve = DEFAULT_DISK_SHAPE;
  for (const pair of options.split(",").filter(Boolean)) {
    const [key, value] = pair.split("=", 2);
    if (value === undefined) throw new TargetSpecError(`bad VM target "${spec}": "${pair}" is not KEY=VALUE`);
    if (key === "dir") dir = value;
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
        `VM target "${name}": unknown option "${key}": use ${[...VM_TARGET_OPTIONS, "dir", "pve"].join(", ")}`,
      );
  }
  try {
    return { name, path: resolve(dir), vm: validateVariant(input), pve };
  } catch (error) {
    throw new TargetSpecError(`VM target ${(error as Error).message.replace(/^variant /, "")}`);
  }
}

/** Parses "NAME=DIR" (or a bare DIR, named after its last component), or "NAME=vm:OPTIONS". */
export function parseTargetSpec(spec: string): LocalTarget {
  const vm = /^([^=]+)=vm:(.*)$/.exec(spec);
  if (vm) return parseVmTarget(vm[1], vm[2], spec);
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
