import { promises as fs } from "node:fs";
import { fileURLToPath } from "node:url";
import test from "ava";
import { parseBenchConfig } from "../bench/config/stack-config.js";
import { readStackFile } from "../bench/config/stack-file.js";
import {
  blockdevNode,
  type DiskBacking,
  type DiskShape,
  pciBridges,
  pciPlacement,
  qemuDiskArgs,
} from "../bench/qemu/disk-args.js";
import type { VmStorage } from "../bench/storage/vm-storages.js";
import { defaultAio, diskSlots, type VmDiskVariant, validateVariant } from "../bench/variants/vm-variants.js";
import { dataDisk } from "../components/disks.js";

// The oracle is qemu-server's own record of its command lines: src/test/cfg2cmd/*.conf with the *.conf.cmd each
// gives, vendored in test/fixtures/qemu-server/ (see its README for the commits). For every disk of those configs
// that layerbench could declare, the local guest's arguments must be qemu-server's, option by option.

const FIXTURES = fileURLToPath(new URL("fixtures/qemu-server/", import.meta.url));

interface FixtureDisk {
  slot: string;
  volid: string;
  options: Record<string, string>;
}

/** A cfg2cmd config: its disks (slot, volume id, options) and its SCSI controller. */
function parseConf(text: string): { disks: FixtureDisk[]; scsihw?: string } {
  const disks: FixtureDisk[] = [];
  let scsihw: string | undefined;
  for (const line of text.split("\n")) {
    const match = /^(scsi\d+|virtio\d+): (.*)$/.exec(line);
    if (match) {
      const [volid, ...pairs] = match[2].split(",");
      disks.push({ slot: match[1], volid, options: Object.fromEntries(pairs.map((pair) => pair.split("=", 2))) });
    }
    if (line.startsWith("scsihw: ")) scsihw = line.slice("scsihw: ".length);
  }
  return { disks, scsihw };
}

/** The part of a fixture's -blockdev chain the test reads: throttle -> format -> file. */
interface FixtureBlockdev {
  "node-name": string;
  file: { driver: string; file: Record<string, unknown> & { driver: string } };
}

/** A cfg2cmd command line as (flag, value) pairs, quotes removed. */
function parseCmd(text: string): Array<[string, string]> {
  return text
    .split("\n")
    .map((line) => /^\s+(-\S+) '?(.*?)'?( \\)?$/.exec(line))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => [match[1], match[2]]);
}

/**
 * The kind of each storage of qemu-server's test setup (src/test/run_config2command_tests.pl: local is a dir
 * storage, local-lvm lvmthin, cifs-store cifs, rbd-store rbd, krbd-store rbd with krbd); others layerbench has none of.
 */
const STORE_KINDS: Record<string, VmStorage> = {
  local: "dir",
  "local-lvm": "lvmthin",
  "cifs-store": "cifs",
  "rbd-store": "rbd",
  "krbd-store": "krbd",
};

const storageOf = (disk: FixtureDisk): VmStorage | undefined => STORE_KINDS[disk.volid.split(":")[0]];
const formatOf = (disk: FixtureDisk) => (disk.volid.endsWith(".qcow2") ? "qcow2" : "raw");

/** The variant a stack would declare for this disk: cache none, discard ignore unless set; the aio qemu-server ran. */
function variantOf(disk: FixtureDisk, scsihw: string | undefined, aio: string): VmDiskVariant {
  return validateVariant({
    id: disk.slot,
    // A storage layerbench does not know (lvm-store, ...) stands in as a directory: its own rules are not compared.
    storage: storageOf(disk) ?? "dir",
    format: formatOf(disk),
    bus: disk.slot.startsWith("scsi") ? "virtio-scsi-single" : "virtio-blk",
    cache: disk.options.cache ?? "none",
    aio,
    discard: disk.options.discard ?? "ignore",
    iothread: disk.options.iothread === "1" && (disk.slot.startsWith("virtio") || scsihw === "virtio-scsi-single"),
    ...(disk.slot.startsWith("scsi") && { ssd: disk.options.ssd === "1" }),
  });
}

/**
 * A disk qemu-server takes and layerbench refuses: io_uring named where qemu-server gives none by default (krbd
 * through the host's cache hangs; CIFS has problems), which layerbench would not measure.
 */
function refusedIoUring(disk: FixtureDisk): boolean {
  const storage = storageOf(disk);
  const cache = disk.options.cache ?? "none";
  return (
    storage !== undefined &&
    disk.options.aio === "io_uring" &&
    defaultAio({ storage, cache: cache as VmDiskVariant["cache"] }) !== "io_uring"
  );
}

/** Device options that layerbench's guest leaves to QEMU (boot order) or adds (the serial). */
const PLACEMENT = /^(bootindex=|serial=)/;
const deviceOptions = (device: string) => device.split(",").filter((option) => !PLACEMENT.test(option));

/** The -device value whose id= is the slot. */
function deviceOf(pairs: Array<[string, string]>, slot: string): string | undefined {
  return pairs.find(([flag, value]) => flag === "-device" && value.split(",").includes(`id=${slot}`))?.[1];
}

const CASES: Array<{ shape: DiskShape; name: string }> = [
  { shape: "9", name: "scsihw-virtio-scsi-single" },
  { shape: "9", name: "aio" },
  { shape: "9", name: "simple-virtio-blk" },
  // RBD without krbd (QEMU's rbd driver) on scsi0-3, krbd (a mapped /dev/rbd device) on scsi4-7.
  { shape: "9", name: "simple-rbd" },
  // LVM-thin (host_device); CIFS, where io_uring is no default (native with O_DIRECT, threads without); qcow2 files
  // on a directory storage (bootorder's disks).
  { shape: "9", name: "simple-lvmthin" },
  { shape: "9", name: "simple-cifs" },
  { shape: "9", name: "bootorder" },
  { shape: "8", name: "simple-lvm" },
  { shape: "8", name: "aio" },
  { shape: "8", name: "simple-virtio-blk" },
];

for (const { shape, name } of CASES) {
  test(`qemu-server ${shape === "9" ? "9 (Proxmox VE 9)" : "8.3 (Proxmox VE 8.4)"} cfg2cmd ${name}: every disk's arguments match`, async (t) => {
    const conf = parseConf(await fs.readFile(`${FIXTURES}${shape}/${name}.conf`, "utf8"));
    const cmd = parseCmd(await fs.readFile(`${FIXTURES}${shape}/${name}.conf.cmd`, "utf8"));
    let compared = 0;
    let refused = 0;
    for (const disk of conf.disks) {
      if (refusedIoUring(disk)) {
        t.throws(() => variantOf(disk, conf.scsihw, "io_uring"), { message: /storage_allows_io_uring_default/ });
        refused += 1;
        continue;
      }
      const device = deviceOf(cmd, disk.slot);
      t.truthy(device, `${disk.slot}: a device in the fixture`);
      if (!device) continue;
      let ours: string[];
      if (shape === "9") {
        const blockdev = cmd
          .filter(([flag]) => flag === "-blockdev")
          .map(([, value]) => JSON.parse(value) as FixtureBlockdev)
          .find((node) => node["node-name"] === `drive-${disk.slot}`);
        t.truthy(blockdev, `${disk.slot}: a -blockdev in the fixture`);
        if (!blockdev) continue;
        const file = blockdev.file.file;
        // NBD disks have a driver of their own; layerbench's disks are zvols (host_device), files or RBD images.
        if (file.driver !== "file" && file.driver !== "host_device" && file.driver !== "rbd") continue;
        // The rbd driver takes no aio (Blockdev.pm): any valid value gives the same arguments.
        const variant = variantOf(disk, conf.scsihw, String(file.aio ?? "io_uring"));
        const backing: DiskBacking =
          file.driver === "rbd"
            ? {
                driver: "rbd",
                pool: String(file.pool),
                image: String(file.image),
                server: file.server as Array<{ host: string; port: string }>,
                authClientRequired: file["auth-client-required"] as string[],
                volid: disk.volid,
              }
            : { path: String(file.filename), driver: file.driver as "file" | "host_device", volid: disk.volid };
        ours = qemuDiskArgs(variant, disk.slot, backing, shape);
        // Where the config names no aio, qemu-server's default for the storage is the one layerbench gives.
        const storage = storageOf(disk);
        if (storage && disk.options.aio === undefined && file.driver !== "rbd")
          t.is<string, string>(
            defaultAio({ storage, cache: variant.cache }),
            String(file.aio),
            `${disk.slot}: the default aio on ${storage}`,
          );
        t.true(
          cmd.some(([flag, value]) => flag === "-object" && value === ours[ours.indexOf("-blockdev") - 1]),
          `${disk.slot}: the throttle group`,
        );
        t.deepEqual(blockdevNode(variant, disk.slot, backing), blockdev, `${disk.slot}: the -blockdev chain`);
        t.is(
          ours[ours.indexOf("-blockdev") + 1],
          cmd.find(([, value]) => value.includes(`"drive-${disk.slot}"`))?.[1] ?? "",
        );
      } else {
        const drive = cmd.find(([flag, value]) => flag === "-drive" && value.includes(`id=drive-${disk.slot},`))?.[1];
        t.truthy(drive, `${disk.slot}: a -drive in the fixture`);
        if (!drive) continue;
        const options: Record<string, string> = Object.fromEntries(
          drive
            .split(/,(?!,)/)
            .map((option) => [option.slice(0, option.indexOf("=")), option.slice(option.indexOf("=") + 1)]),
        );
        if (options.file.startsWith("rbd:")) continue;
        const variant = variantOf(disk, conf.scsihw, options.aio);
        ours = qemuDiskArgs(variant, disk.slot, { path: options.file, driver: "file", volid: disk.volid }, shape);
        const ourDrive = ours[ours.indexOf("-drive") + 1];
        t.deepEqual(ourDrive.split(",").sort(), drive.split(",").sort(), `${disk.slot}: the -drive options`);
      }
      // layerbench's SCSI disks are always on virtio-scsi-single; the devices of other controllers are not its.
      const ownController = disk.slot.startsWith("virtio") || conf.scsihw === "virtio-scsi-single";
      if (ownController) {
        const ourDevices = ours.filter((_, index) => ours[index - 1] === "-device");
        t.deepEqual(deviceOptions(ourDevices.at(-1) ?? ""), deviceOptions(device), `${disk.slot}: the -device options`);
        // A SCSI disk's own controller, at its PCI address too.
        if (disk.slot.startsWith("scsi")) {
          const controller = `virtioscsi${disk.slot.slice("scsi".length)}`;
          t.is(ourDevices[0], deviceOf(cmd, controller) ?? "", `${disk.slot}: its controller ${controller}`);
        }
        if (disk.options.iothread === "1")
          t.true(
            cmd.some(([flag, value]) => flag === "-object" && ours.includes(value) && value.startsWith("iothread,")),
          );
      }
      compared += 1;
    }
    t.is(
      compared + refused,
      conf.disks.filter((disk) => shape === "9" || !disk.volid.startsWith("rbd-store:")).length,
      "every disk compared or refused (but 8.4's rbd: file names, which layerbench does not model)",
    );
  });
}

for (const stack of ["quick", "homelab"]) {
  test(`every VM variant of the ${stack} stack: each shape carries the Proxmox disk's options`, async (t) => {
    const config = parseBenchConfig((await readStackFile(fileURLToPath(new URL("..", import.meta.url)), stack)).raw);
    const slots = diskSlots(config.variants);
    for (const variant of config.variants) {
      const slot = slots.get(variant.id) ?? "";
      const disk = dataDisk(variant, slot, "lb-test-16k-lz4-standard");
      const backing = { path: "/images/disk.img", driver: "file" as const, volid: "local:disk.img" };
      const node = blockdevNode(variant, slot, backing) as { file: { file: Record<string, unknown> } };
      t.like(node.file.file, {
        aio: disk.aio,
        cache: { direct: disk.cache === "none" || disk.cache === "directsync", "no-flush": disk.cache === "unsafe" },
        discard: disk.discard === "on" ? "unmap" : "ignore",
      });
      for (const shape of ["8", "9"] as const) {
        const args = qemuDiskArgs(variant, slot, backing, shape);
        const device = args.at(-1) ?? "";
        t.true(device.split(",").includes(`serial=${disk.serial}`), `${variant.id}: the serial`);
        t.is(
          args.some((arg) => arg.startsWith("iothread,id=")),
          variant.iothread,
          `${variant.id}: an iothread exactly when asked`,
        );
        t.is(device.includes("rotation_rate=1"), variant.ssd, `${variant.id}: ssd exactly when asked`);
        t.is(
          device.includes(`device_id=drive-${slot}`),
          shape === "9" && slot.startsWith("scsi"),
          "device_id on PVE 9's SCSI disks",
        );
      }
    }
    t.is(config.variants.length, stack === "quick" ? 2 : 48);
  });
}

test("a comma in the image path is doubled, as QEMU's option parser wants", (t) => {
  const variant = validateVariant({
    id: "scsi-wb-ssd",
    bus: "virtio-scsi-single",
    cache: "writeback",
    aio: "threads",
    iothread: false,
    ssd: true,
  });
  const args = qemuDiskArgs(variant, "scsi3", { path: "/a,b/d.img", driver: "file", volid: "/a,b/d.img" }, "8");
  t.regex(args[args.indexOf("-drive") + 1], /^file=\/a,,b\/d\.img,if=none,/);
  t.deepEqual(
    args.slice(0, 2),
    ["-device", "virtio-scsi-pci,id=virtioscsi3,bus=pci.3,addr=0x4"],
    "its own controller on the bridge pci.3, no iothread",
  );
  t.is(
    args.at(-1),
    "scsi-hd,bus=virtioscsi3.0,channel=0,scsi-id=0,lun=3,drive=drive-scsi3,id=scsi3,rotation_rate=1,serial=scsi-wb-ssd",
  );
});

test("PCI placement on i440fx as qemu-server's PCI.pm has it: virtio0-5 on pci.0, 6-15 on pci.2, SCSI controllers on pci.3", async (t) => {
  t.deepEqual(["virtio0", "virtio5", "virtio6", "virtio15", "virtioscsi0", "virtioscsi30"].map(pciPlacement), [
    "bus=pci.0,addr=0xa",
    "bus=pci.0,addr=0xf",
    "bus=pci.2,addr=0x1",
    "bus=pci.2,addr=0xa",
    "bus=pci.3,addr=0x1",
    "bus=pci.3,addr=0x1f",
  ]);
  t.throws(() => pciPlacement("sata0"), { message: /no PCI address for sata0/ });
  // The bridges as the vendored cfg2cmd cases write them.
  for (const [name, scsiSingle] of [
    ["scsihw-virtio-scsi-single", true],
    ["simple-virtio-blk", false],
  ] as const) {
    const cmd = parseCmd(await fs.readFile(`${FIXTURES}9/${name}.conf.cmd`, "utf8"));
    const bridges = cmd.filter(([flag, value]) => flag === "-device" && value.startsWith("pci-bridge,")).flat();
    t.deepEqual(pciBridges(scsiSingle), bridges, name);
  }
});
