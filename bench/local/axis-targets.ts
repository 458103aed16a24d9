import type { DesignRecord } from "../core/results.js";
import { DEFAULT_DISK_SHAPE, type DiskShape } from "../qemu/disk-args.js";
import { type DesignSpec, parseDesign } from "../variants/design.js";
import { expandVariants, VariantError, type VariantMatrixInput, type VmDiskVariant } from "../variants/vm-variants.js";
import { LOCAL_FILE_STORAGE, TargetSpecError, VM_FLAG_VALUES, VM_TARGET_OPTIONS } from "./targets.js";

// `run --axes 'bus=virtio-blk,virtio-scsi-single;cache=none,writeback'`: local VM targets from axes, every valid
// combination or a design's choice among them, as a stack's vmVariants.

export interface AxesRequest {
  /** "KEY=VALUE,VALUE;KEY=VALUE,...". */
  axes: string;
  design?: string;
  /** "AXIS:AXIS,AXIS:AXIS". */
  interactions?: string;
  /** Variant ids, comma-separated. */
  confirm?: string;
}

function parseAxes(text: string): NonNullable<VariantMatrixInput["axes"]> {
  const axes: Record<string, unknown[]> = {};
  for (const part of text.split(";").filter((entry) => entry.trim() !== "")) {
    const [key, list] = part.split("=", 2).map((entry) => entry.trim());
    if (list === undefined || list === "")
      throw new TargetSpecError(`bad --axes part "${part}": use KEY=VALUE,VALUE, e.g. cache=none,writeback`);
    if (!(VM_TARGET_OPTIONS as readonly string[]).includes(key))
      throw new TargetSpecError(`--axes: unknown axis "${key}": use ${VM_TARGET_OPTIONS.join(", ")}`);
    if (key in axes) throw new TargetSpecError(`--axes: axis "${key}" is given twice`);
    axes[key] = list.split(",").map((value) => {
      if (key !== "iothread" && key !== "ssd") return value;
      if (!(value in VM_FLAG_VALUES))
        throw new TargetSpecError(`--axes: ${key}=${value} is not allowed: use on or off`);
      return VM_FLAG_VALUES[value];
    });
  }
  if (Object.keys(axes).length === 0)
    throw new TargetSpecError(`--axes "${text}" names no axis: use e.g. 'cache=none,writeback;iothread=on,off'`);
  return axes;
}

const list = (text: string | undefined) =>
  (text ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean);

function expandAxes(axes: NonNullable<VariantMatrixInput["axes"]>, spec: DesignSpec) {
  try {
    return expandVariants({ axes, defaults: { storage: LOCAL_FILE_STORAGE } }, spec);
  } catch (error) {
    // A variant's id is made of its values: the bad value alone says more.
    if (error instanceof VariantError)
      throw new TargetSpecError(error.message.replace(/^variant "[^"]*": /, "--axes: "));
    throw error;
  }
}

/**
 * The VM targets of the axes, but for their directory, and the record of how they were chosen; `run` completes
 * them once it knows the baseline's directory, where their images go. Their disks take Proxmox VE 9's shape.
 */
export function axisTargets(request: AxesRequest): {
  targets: Array<{ name: string; vm: VmDiskVariant; pve: DiskShape }>;
  design: DesignRecord;
} {
  const axes = parseAxes(request.axes);
  const pairs = list(request.interactions).map((pair) => pair.split(":"));
  const spec = parseDesign(
    { design: request.design, interactions: pairs, confirm: list(request.confirm) },
    Object.keys(axes),
    (key) => `--${key}`,
  );
  const { variants, design } = expandAxes(axes, spec);
  if (!design) throw new TargetSpecError("--axes gave no variants");
  return { targets: variants.map((vm) => ({ name: vm.id, vm, pve: DEFAULT_DISK_SHAPE })), design };
}
