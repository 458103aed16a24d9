import type * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import { diskSerial, type VmDiskVariant } from "../bench/variants/vm-variants.js";

/** SCSI disks with an iothread need a controller each: virtio-scsi-single. Without SCSI disks, Proxmox's default. */
export function scsiHardware(variants: VmDiskVariant[]): string {
  return variants.some((variant) => variant.bus === "virtio-scsi-single") ? "virtio-scsi-single" : "virtio-scsi-pci";
}

/** The Proxmox disk of one variant: exactly its options, on the storage diskStorageId gives. */
export function dataDisk(
  variant: VmDiskVariant,
  diskInterface: string,
  storageId: string,
): proxmoxve.types.input.VmLegacyDisk {
  return {
    interface: diskInterface,
    datastoreId: storageId,
    size: variant.sizeGb,
    fileFormat: variant.format,
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
