import { promises as fs } from "node:fs";
import { join } from "node:path";
import { FIND_DISK_BY_SERIAL } from "../../bench/remote/fio-script.js";
import { runScript } from "./scripts.js";

// What a Linux guest of a Proxmox VM shows of its disks in sysfs, and the by-id names udev gives them, for a
// VM's disks as the provider declares them (interface, serial). Each rule with its source:
// - virtio-blk: the kernel's `serial` attribute holds the serial; udev links virtio-$attr{serial}
//   (systemd rules.d/60-persistent-storage.rules).
// - SCSI: VPD page 0x80 holds the serial (4-byte header first); udev links scsi-$ID_SERIAL, which scsi_id reads
//   from VPD page 0x83. Proxmox VE 9 (qemu-server 9, machine version >= 10.0) gives every scsi-hd
//   device_id=drive-scsiN (src/PVE/QemuServer/DriveDevice.pm), which QEMU reports in page 0x83; before, QEMU
//   reported the serial there. Checked against real QEMU and Debian's scsi_id by test/qemu-guest.test.ts.
// - Kernel names follow probe order, not slots: the SCSI disks are named here in reverse slot order, so that a
//   lookup that relies on sdX order fails.

export interface ModelDisk {
  interface: string;
  serial?: string;
}

export interface GuestDisks {
  /** A sysfs tree with block/<name>/serial or block/<name>/device/vpd_pg80. */
  sysfs: string;
  /** /dev/disk/by-id names → kernel names. */
  byId: Map<string, string>;
  /** Slot → kernel name. */
  kernelNames: Map<string, string>;
  cleanup(): Promise<void>;
}

const letters = (index: number) => String.fromCharCode("a".charCodeAt(0) + index);

export async function guestDisks(disks: ModelDisk[], pveMajor: number, scratch: string): Promise<GuestDisks> {
  const sysfs = await fs.mkdtemp(join(scratch, "sysfs-"));
  const byId = new Map<string, string>();
  const kernelNames = new Map<string, string>();
  const virtio = disks.filter((disk) => disk.interface.startsWith("virtio"));
  const scsi = disks.filter((disk) => disk.interface.startsWith("scsi")).reverse();
  for (const [index, disk] of virtio.entries()) {
    const name = `vd${letters(index)}`;
    kernelNames.set(disk.interface, name);
    await fs.mkdir(join(sysfs, "block", name), { recursive: true });
    await fs.writeFile(join(sysfs, "block", name, "serial"), disk.serial ?? "");
    if (disk.serial) byId.set(`virtio-${disk.serial}`, name);
  }
  for (const [index, disk] of scsi.entries()) {
    const name = `sd${letters(index)}`;
    kernelNames.set(disk.interface, name);
    await fs.mkdir(join(sysfs, "block", name, "device"), { recursive: true });
    const serial = Buffer.from(disk.serial ?? "");
    const header = Buffer.from([0, 0x80, 0, serial.length]);
    await fs.writeFile(join(sysfs, "block", name, "device", "vpd_pg80"), Buffer.concat([header, serial]));
    const deviceId = pveMajor >= 9 ? `drive-${disk.interface}` : (disk.serial ?? `drive-${disk.interface}`);
    byId.set(`scsi-0QEMU_QEMU_HARDDISK_${deviceId}`, name);
  }
  return { sysfs, byId, kernelNames, cleanup: () => fs.rm(sysfs, { recursive: true, force: true }) };
}

/** The fio script's own disk lookup, run for real against a guest's sysfs: the device it picks, or its message. */
export async function findDisk(sysfs: string, serial: string): Promise<{ device?: string; message: string }> {
  const script = [...FIND_DISK_BY_SERIAL, `find_disk '${serial}'`].join("\n");
  const result = await runScript(script, { env: { LAYERBENCH_SYSFS: sysfs } });
  return { ...(result.code === 0 && { device: result.stdout.trim() }), message: result.stderr.trim() };
}
