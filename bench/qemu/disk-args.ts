import { createHash } from "node:crypto";
import { diskSerial, usesCacheDirect, type VmDiskVariant } from "../variants/vm-variants.js";

// The QEMU rendering of a VM disk variant, shaped as Proxmox's qemu-server writes it for the same disk options,
// so that a local guest measures what a Proxmox guest would. Two shapes, each from qemu-server's source:
// - "9" (Proxmox VE 9, qemu-server 9, machine version >= 10.0): -blockdev, a throttle filter node over raw over
//   the file (src/PVE/QemuServer/Blockdev.pm), cache modes as cache.direct / cache.no-flush, write-cache and, on
//   scsi-hd, device_id=drive-scsiN on the device (src/PVE/QemuServer/DriveDevice.pm);
// - "8" (Proxmox VE 8.4, qemu-server 8.3): -drive with cache=, aio=, discard=, detect-zeroes=
//   (PVE/QemuServer.pm print_drive_commandline_full), no device_id, no write-cache.
// qemu-server's own cfg2cmd test cases (test/fixtures/qemu-server) check both, option by option.

export type DiskShape = "8" | "9";
export const DISK_SHAPES: readonly DiskShape[] = ["8", "9"];
export const DEFAULT_DISK_SHAPE: DiskShape = "9";

/**
 * Where the disk's data lives: qemu-server picks the `file` driver for a regular file, `host_device` for a block
 * device (a krbd-mapped image too); an RBD storage without krbd gives QEMU's own `rbd` driver the pool, image,
 * ceph.conf and cephx user (pve-storage src/PVE/Storage/RBDPlugin.pm qemu_blockdev_options).
 */
export type DiskBacking = (
  | { driver: "file" | "host_device"; path: string }
  | {
      driver: "rbd";
      pool: string;
      image: string;
      conf?: string;
      user?: string;
      /** An external cluster's monitors (the storage's monhost) and the auth it requires of clients. */
      server?: Array<{ host: string; port: string }>;
      authClientRequired?: string[];
    }
) & {
  /** The volume id Proxmox names the disk by; it seeds the node names of the blockdev chain. */
  volid: string;
};

/** Double commas in a value, so that QEMU's option parser keeps it whole (DriveDevice.pm _escape_qemu_arg_value). */
const escapeOption = (value: string) => value.replace(/,/g, ",,");

/** Drive.pm detect_zeroes_cmdline_option: zero writes become unmaps where discard is on, else are detected. */
const detectZeroes = (variant: VmDiskVariant) => (variant.discard === "on" ? "unmap" : "on");

/** Blockdev.pm get_node_name: a letter for the node's type, then 30 hex digits of sha256("drive=ID,volid=VOLID"). */
function nodeName(type: "e" | "f", slot: string, volid: string): string {
  return `${type}${createHash("sha256").update(`drive=${slot},volid=${volid}`).digest("hex").slice(0, 30)}`;
}

/** Perl's JSON->canonical, as qemu-server prints -blockdev and -object values: keys sorted at every level. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object" && value !== null)
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`)
      .join(",")}}`;
  return JSON.stringify(value);
}

/** Blockdev.pm generate_drive_blockdev: throttle -> format (raw or qcow2) -> file, common options on every node. */
export function blockdevNode(variant: VmDiskVariant, slot: string, backing: DiskBacking): Record<string, unknown> {
  const common = {
    discard: variant.discard === "on" ? "unmap" : "ignore",
    "detect-zeroes": detectZeroes(variant),
    "read-only": false,
  };
  const cache = { direct: usesCacheDirect(variant), "no-flush": variant.cache === "unsafe" };
  // Blockdev.pm generate_file_blockdev: only the file, host_cdrom and host_device drivers take aio.
  const where =
    backing.driver === "rbd"
      ? {
          driver: "rbd",
          pool: backing.pool,
          image: backing.image,
          ...(backing.conf && { conf: backing.conf }),
          ...(backing.user && { user: backing.user }),
          ...(backing.server && { server: backing.server }),
          ...(backing.authClientRequired && { "auth-client-required": backing.authClientRequired }),
        }
      : { driver: backing.driver, filename: backing.path, aio: variant.aio };
  const file = { ...where, cache, "node-name": nodeName("e", slot, backing.volid), ...common };
  // Blockdev.pm generate_format_blockdev: the volume's format names the format node's driver.
  const format = { driver: variant.format, file, cache, "node-name": nodeName("f", slot, backing.volid), ...common };
  return {
    driver: "throttle",
    file: format,
    "node-name": `drive-${slot}`,
    "throttle-group": `throttle-drive-${slot}`,
    ...common,
  };
}

/** PVE/QemuServer.pm (8.3) print_drive_commandline_full, for a disk whose cache and aio are given. */
function legacyDrive(variant: VmDiskVariant, slot: string, backing: DiskBacking): string {
  // 8.4 passed RBD volumes as rbd: file names with storage options (RBDPlugin.pm path): not modelled here.
  if (backing.driver === "rbd") throw new Error("an RBD disk takes Proxmox VE 9's -blockdev shape only");
  return [
    `file=${escapeOption(backing.path)}`,
    "if=none",
    `id=drive-${slot}`,
    `cache=${variant.cache}`,
    `aio=${variant.aio}`,
    `discard=${variant.discard}`,
    `format=${variant.format}`,
    `detect-zeroes=${detectZeroes(variant)}`,
  ].join(",");
}

/** DriveDevice.pm: write-cache is off for the write-through modes, on otherwise (shape 9 only). */
const writeCache = (variant: VmDiskVariant) =>
  variant.cache === "writethrough" || variant.cache === "directsync" ? "off" : "on";

/**
 * Where qemu-server puts a disk's PCI device on Proxmox's default machine, i440fx (src/PVE/QemuServer/PCI.pm
 * get_pci_addr_map): virtio0-5 on pci.0 at 0xa-0xf, virtio6-15 on the bridge pci.2 at 0x1-0xa, the controller of
 * scsiN under virtio-scsi-single (virtioscsiN) on the bridge pci.3 at N+1.
 */
export function pciPlacement(device: string): string {
  const virtio = /^virtio(\d+)$/.exec(device);
  const scsi = /^virtioscsi(\d+)$/.exec(device);
  const [bus, addr] = virtio
    ? Number(virtio[1]) < 6
      ? [0, 10 + Number(virtio[1])]
      : [2, Number(virtio[1]) - 5]
    : scsi
      ? [3, Number(scsi[1]) + 1]
      : [-1, -1];
  if (bus < 0) throw new Error(`no PCI address for ${device}`);
  return `bus=pci.${bus},addr=0x${addr.toString(16)}`;
}

/**
 * The PCI bridges the placements need, as QemuServer.pm adds them on i440fx (machine >= 2.3): pci.1 and pci.2
 * always, pci.3 with virtio-scsi-single, in that order (each put first, the highest first).
 */
export function pciBridges(scsiSingle: boolean): string[] {
  const bridges = [[1, 0x1e], [2, 0x1f], ...(scsiSingle ? [[3, 0x5]] : [])];
  return bridges.flatMap(([id, addr]) => [
    "-device",
    `pci-bridge,id=pci.${id},chassis_nr=${id},bus=pci.0,addr=0x${addr.toString(16)}`,
  ]);
}

/** The -object, -blockdev or -drive, and -device arguments of one variant's disk, placed as qemu-server places it. */
export function qemuDiskArgs(variant: VmDiskVariant, slot: string, backing: DiskBacking, shape: DiskShape): string[] {
  const drive =
    shape === "9"
      ? [
          "-object",
          canonicalJson({ id: `throttle-drive-${slot}`, limits: {}, "qom-type": "throttle-group" }),
          "-blockdev",
          canonicalJson(blockdevNode(variant, slot, backing)),
        ]
      : ["-drive", legacyDrive(variant, slot, backing)];
  const tail = [
    `serial=${escapeOption(diskSerial(variant))}`,
    ...(shape === "9" ? [`write-cache=${writeCache(variant)}`] : []),
  ];
  if (variant.bus === "virtio-blk") {
    const iothread = `iothread-${slot}`;
    return [
      ...(variant.iothread ? ["-object", `iothread,id=${iothread}`] : []),
      ...drive,
      "-device",
      [
        `virtio-blk-pci,drive=drive-${slot}`,
        `id=${slot}`,
        pciPlacement(slot),
        ...(variant.iothread ? [`iothread=${iothread}`] : []),
        ...tail,
      ].join(","),
    ];
  }
  // virtio-scsi-single: a controller per disk (DriveDevice.pm scsihw_infos: one device each), which carries the
  // iothread; the LUN is the drive's index.
  const index = slot.slice("scsi".length);
  const controller = `virtioscsi${index}`;
  const iothread = `iothread-${controller}`;
  return [
    ...(variant.iothread ? ["-object", `iothread,id=${iothread}`] : []),
    "-device",
    [
      `virtio-scsi-pci,id=${controller}`,
      pciPlacement(controller),
      ...(variant.iothread ? [`iothread=${iothread}`] : []),
    ].join(","),
    ...drive,
    "-device",
    [
      `scsi-hd,bus=${controller}.0,channel=0,scsi-id=0,lun=${index},drive=drive-${slot}`,
      `id=${slot}`,
      ...(shape === "9" ? [`device_id=drive-${slot}`] : []),
      ...(variant.ssd ? ["rotation_rate=1"] : []),
      ...tail,
    ].join(","),
  ];
}
