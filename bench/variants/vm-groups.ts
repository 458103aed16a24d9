import { MAX_DISKS_PER_VM, MAX_SCSI_DISKS, MAX_VIRTIO_BLK_DATA_DISKS, type VmDiskVariant } from "./vm-variants.js";

/** A VM's size as its variants ask for it: memory and cores, each the stack's `vm` setting when not given. */
function vmSizeOf(variant: Pick<VmDiskVariant, "memoryMb" | "cores">): string {
  return `${variant.memoryMb ?? "-"}/${variant.cores ?? "-"}`;
}

/**
 * Splits the variants over as few VMs as hold them, in order: variants of one VM size (memory, cores) share VMs,
 * each with at most 15 virtio-blk data disks, 31 SCSI disks, and 30 data disks in all beside the boot disk.
 */
export function vmGroups(variants: VmDiskVariant[]): VmDiskVariant[][] {
  const groups: VmDiskVariant[][] = [];
  for (const variant of variants) {
    const fits = (group: VmDiskVariant[]) => {
      const sameBus = group.filter((other) => other.bus === variant.bus).length;
      return (
        vmSizeOf(group[0]) === vmSizeOf(variant) &&
        sameBus < (variant.bus === "virtio-blk" ? MAX_VIRTIO_BLK_DATA_DISKS : MAX_SCSI_DISKS) &&
        group.length + 1 < MAX_DISKS_PER_VM
      );
    };
    const group = groups.find(fits);
    if (group) group.push(variant);
    else groups.push([variant]);
  }
  return groups;
}
