import { fileURLToPath } from "node:url";
import test from "ava";
import { parseBenchConfig } from "../bench/config/stack-config.js";
import { readStackFile } from "../bench/config/stack-file.js";
import { qemuDiskArgs } from "../bench/qemu/disk-args.js";
import { diskSlots } from "../bench/variants/vm-variants.js";
import { dataDisk, scsiHardware } from "../components/disks.js";

// One definition of a variant, two renderings: for every valid VM variant of the example stacks, the local
// guest's QEMU arguments must carry what Proxmox's qemu-server puts on its command line for the same disk.

/** What qemu-server (Proxmox VE 8) writes for each disk option of a VmLegacy disk, as tokens "part:text". */
function proxmoxTokens(disk: Record<string, unknown>, scsiHw: string): string[] {
  const slot = String(disk.interface);
  const scsi = slot.startsWith("scsi");
  const controller = `virtioscsi${slot.slice(4)}`;
  const tokens = [
    `drive:id=drive-${slot}`,
    `drive:format=${disk.fileFormat}`,
    `drive:cache=${disk.cache}`,
    `drive:aio=${disk.aio}`,
    // discard=on also makes zero writes unmaps; otherwise zeroes are detected.
    `drive:discard=${disk.discard}`,
    `drive:detect-zeroes=${disk.discard === "on" ? "unmap" : "on"}`,
    `device:serial=${disk.serial}`,
    `device:id=${slot}`,
  ];
  if (!scsi) {
    tokens.push(`device:virtio-blk-pci`);
    if (disk.iothread) tokens.push(`object:iothread,id=iothread-${slot}`, `device:iothread=iothread-${slot}`);
    return tokens;
  }
  // virtio-scsi-single: one controller per disk; the iothread is the controller's.
  if (scsiHw !== "virtio-scsi-single") throw new Error("SCSI variants always come with virtio-scsi-single");
  tokens.push(`device:scsi-hd`, `device:bus=${controller}.0`, `controller:id=${controller}`);
  if (disk.iothread)
    tokens.push(`object:iothread,id=iothread-${controller}`, `controller:iothread=iothread-${controller}`);
  if (disk.ssd) tokens.push("device:rotation_rate=1");
  return tokens;
}

/** The QEMU arguments as the same kind of tokens. */
function qemuTokens(args: string[]): string[] {
  const tokens: string[] = [];
  for (let index = 0; index < args.length; index += 2) {
    const [flag, value] = [args[index], args[index + 1]];
    if (flag === "-object") tokens.push(`object:${value}`);
    else if (flag === "-drive") tokens.push(...value.split(",").map((part) => `drive:${part}`));
    else if (value.startsWith("virtio-scsi-pci,"))
      tokens.push(
        ...value
          .split(",")
          .slice(1)
          .map((part) => `controller:${part}`),
      );
    else {
      const [model, ...parts] = value.split(",");
      tokens.push(`device:${model}`, ...parts.map((part) => `device:${part}`));
    }
  }
  return tokens;
}

for (const stack of ["quick", "homelab"]) {
  test(`every VM variant of the ${stack} stack: the QEMU disk arguments are what Proxmox configures`, async (t) => {
    const config = parseBenchConfig((await readStackFile(fileURLToPath(new URL("..", import.meta.url)), stack)).raw);
    const slots = diskSlots(config.variants);
    const scsiHw = scsiHardware(config.variants);
    for (const variant of config.variants) {
      const slot = slots.get(variant.id)!;
      const expected = proxmoxTokens({ ...dataDisk(variant, slot, "lb-test-16k-lz4-standard") }, scsiHw);
      const actual = qemuTokens(qemuDiskArgs(variant, slot, "/images/disk.img"));
      t.deepEqual(
        expected.filter((token) => !actual.includes(token)),
        [],
        `${variant.id}: Proxmox's options all present`,
      );
      t.is(
        actual.some((token) => token.includes("iothread")),
        variant.iothread,
        `${variant.id}: an iothread exactly when asked`,
      );
      t.is(actual.includes("device:rotation_rate=1"), variant.ssd, `${variant.id}: ssd exactly when asked`);
      t.true(actual.includes("drive:file=/images/disk.img") && actual.includes("drive:if=none"));
    }
    t.is(config.variants.length, stack === "quick" ? 2 : 48);
  });
}

test("a SCSI variant without iothread still gets its own controller, and an ssd one a rotation rate of 1", (t) => {
  const variant = {
    id: "scsi-wb-ssd",
    bus: "virtio-scsi-single",
    cache: "writeback",
    aio: "threads",
    iothread: false,
    discard: "on",
    ssd: true,
    sizeGb: 8,
    volblocksize: 16384,
    compression: "lz4",
    sync: "standard",
  } as const;
  t.regex(
    qemuDiskArgs(variant, "scsi3", "/a,b/d.img")[3],
    /^file=\/a,,b\/d\.img,if=none,/,
    "a comma in the path is doubled, as QEMU wants",
  );
  t.deepEqual(qemuDiskArgs(variant, "scsi3", "/d.img"), [
    "-device",
    "virtio-scsi-pci,id=virtioscsi3",
    "-drive",
    "file=/d.img,if=none,id=drive-scsi3,format=raw,cache=writeback,aio=threads,discard=on,detect-zeroes=unmap",
    "-device",
    "scsi-hd,bus=virtioscsi3.0,channel=0,scsi-id=0,lun=0,drive=drive-scsi3,id=scsi3,rotation_rate=1,serial=scsi-wb-ssd",
  ]);
});
