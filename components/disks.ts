import type * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import { formatFioSize } from "../bench/size.js";
import { MAX_SCSI_DISKS, MAX_VIRTIO_BLK_DATA_DISKS, diskSerial, type VmDiskVariant, type ZfsOptions } from "../bench/vm-variants.js";

/** The Proxmox storage (and ZFS dataset) that gives new zvols these properties. */
export function zfsGroupKey(options: ZfsOptions): string {
  return `${formatFioSize(options.volblocksize)}-${options.compression}-${options.sync}`;
}

export function storageIdFor(options: ZfsOptions): string {
  return `lb-${zfsGroupKey(options)}`;
}

/** Distinct ZFS property sets among the variants, in first-seen order. */
export function zfsGroups(variants: ZfsOptions[]): ZfsOptions[] {
  const groups = new Map<string, ZfsOptions>();
  for (const { volblocksize, compression, sync } of variants) {
    const key = zfsGroupKey({ volblocksize, compression, sync });
    if (!groups.has(key)) groups.set(key, { volblocksize, compression, sync });
  }
  return [...groups.values()];
}

/** SCSI disks with an iothread need a controller each: virtio-scsi-single. Without SCSI disks, Proxmox's default. */
export function scsiHardware(variants: VmDiskVariant[]): string {
  return variants.some((variant) => variant.bus === "virtio-scsi-single") ? "virtio-scsi-single" : "virtio-scsi-pci";
}

/** The Proxmox disk of one variant: exactly its options, on the storage of its ZFS properties. */
export function dataDisk(variant: VmDiskVariant, diskInterface: string): proxmoxve.types.input.VmLegacyDisk {
  return {
    interface: diskInterface,
    datastoreId: storageIdFor(variant),
    size: variant.sizeGb,
    fileFormat: "raw",
    cache: variant.cache,
    aio: variant.aio,
    iothread: variant.iothread,
    discard: variant.discard,
    ...(variant.bus === "virtio-scsi-single" && { ssd: variant.ssd }),
    serial: diskSerial(variant),
    backup: false,
    replicate: false,
  };
}

/** Splits the variants over as few VMs as hold them: each VM has 15 virtio-blk and 31 SCSI data disk slots. */
export function vmGroups(variants: VmDiskVariant[]): VmDiskVariant[][] {
  const groups: VmDiskVariant[][] = [];
  for (const variant of variants) {
    const fits = (group: VmDiskVariant[]) => {
      const sameBus = group.filter((other) => other.bus === variant.bus).length;
      return sameBus < (variant.bus === "virtio-blk" ? MAX_VIRTIO_BLK_DATA_DISKS : MAX_SCSI_DISKS);
    };
    const group = groups.find(fits);
    if (group) group.push(variant);
    else groups.push([variant]);
  }
  return groups;
}
