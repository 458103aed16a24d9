import { diskSerial, type VmDiskVariant } from "../variants/vm-variants.js";

// The QEMU rendering of a VM disk variant, shaped as Proxmox's qemu-server writes it for the same disk
// options (drive and device ids, one virtio-scsi controller per disk with virtio-scsi-single, the iothread
// object per disk or controller), so that a local guest measures what a Proxmox guest would.

/** -object, -drive and -device arguments for one variant's disk backed by a raw image file. */
export function qemuDiskArgs(variant: VmDiskVariant, slot: string, image: string): string[] {
  const drive = [
    `file=${image.replace(/,/g, ",,")}`,
    "if=none",
    `id=drive-${slot}`,
    "format=raw",
    `cache=${variant.cache}`,
    `aio=${variant.aio}`,
    `discard=${variant.discard}`,
    // Proxmox turns zero writes into unmaps where discard is on, and detects them otherwise.
    `detect-zeroes=${variant.discard === "on" ? "unmap" : "on"}`,
  ].join(",");
  const serial = `serial=${diskSerial(variant)}`;
  if (variant.bus === "virtio-blk") {
    const iothread = `iothread-${slot}`;
    return [
      ...(variant.iothread ? ["-object", `iothread,id=${iothread}`] : []),
      "-drive",
      drive,
      "-device",
      [
        `virtio-blk-pci,drive=drive-${slot}`,
        `id=${slot}`,
        ...(variant.iothread ? [`iothread=${iothread}`] : []),
        serial,
      ].join(","),
    ];
  }
  // virtio-scsi-single: a controller per disk, which carries the iothread.
  const controller = `virtioscsi${slot.slice("scsi".length)}`;
  const iothread = `iothread-${controller}`;
  return [
    ...(variant.iothread ? ["-object", `iothread,id=${iothread}`] : []),
    "-device",
    [`virtio-scsi-pci,id=${controller}`, ...(variant.iothread ? [`iothread=${iothread}`] : [])].join(","),
    "-drive",
    drive,
    "-device",
    [
      `scsi-hd,bus=${controller}.0,channel=0,scsi-id=0,lun=0,drive=drive-${slot}`,
      `id=${slot}`,
      ...(variant.ssd ? ["rotation_rate=1"] : []),
      serial,
    ].join(","),
  ];
}
