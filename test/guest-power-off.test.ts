import { spawn } from "node:child_process";
import { constants, promises as fs } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import test from "ava";
import { cpioArchive } from "../bench/qemu/cpio.js";
import { createDiskImage, prepareGuest } from "../bench/qemu/guest.js";
import { GUEST_MARKER } from "../bench/qemu/init.js";
import { qemuArguments } from "../bench/qemu/run-guest.js";
import { validateVariant } from "../bench/variants/vm-variants.js";
import { execFileAsync, scratchDir } from "./helpers/fio.js";

// A CI run lost the end of fio's JSON: the host read the guest's console slowly, and the guest powered off with
// text still in its console's buffer (lost, or cut by the kernel's "reboot: Power down"). Here the local guest's own /init runs a variant that prints far more than that
// buffer (4 KiB) while the test reads the console at about 50 KB/s.

const LINES = 3000;

test("the guest's last words reach a slow console reader before it powers off", async (t) => {
  const dir = await scratchDir();
  t.teardown(dir.cleanup);
  const guest = await prepareGuest();
  // writeback: the scratch directory may be a RAM disk, where cache=none (O_DIRECT) fails.
  const disk = { variant: validateVariant({ id: "talk", cache: "writeback", aio: "threads" }), shape: "9" as const };
  const image = join(dir.path, "talk.img");
  await createDiskImage(image, "raw", 1 << 20);
  const initrd = join(dir.path, "initrd.cpio");
  const scripts = cpioArchive([
    { kind: "file", path: "layerbench/variants", data: Buffer.from("1 talk\n") },
    {
      kind: "file",
      path: "layerbench/run-1.sh",
      data: Buffer.from(`i=0; while [ $i -lt ${LINES} ]; do echo "line $i ${"x".repeat(70)}"; i=$((i + 1)); done\n`),
    },
  ]);
  await fs.writeFile(initrd, Buffer.concat([await fs.readFile(guest.initrd), scripts]));

  const console = join(dir.path, "console");
  await execFileAsync("mkfifo", [console]);
  const reader = await fs.open(console, constants.O_RDONLY | constants.O_NONBLOCK);
  t.teardown(() => reader.close());
  const writer = await fs.open(console, "w");
  const qemu = spawn(guest.qemu, qemuArguments(guest, initrd, "tcg", [{ ...disk, image }]), {
    stdio: ["ignore", writer.fd, "ignore"],
  });
  t.teardown(() => qemu.kill("SIGKILL"));
  await writer.close();

  const chunks: Buffer[] = [];
  const deadline = Date.now() + 240_000;
  while (Date.now() < deadline) {
    const buffer = Buffer.alloc(256);
    const bytesRead = await reader.read(buffer, 0, buffer.length, null).then(
      (read) => read.bytesRead,
      (error: NodeJS.ErrnoException) => {
        if (error.code === "EAGAIN") return -1;
        throw error;
      },
    );
    if (bytesRead === 0) break;
    if (bytesRead > 0) chunks.push(buffer.subarray(0, bytesRead));
    await sleep(5);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  t.is(text.match(/^line \d+ x+\r?$/gm)?.length, LINES, text.slice(-300));
  t.regex(text, new RegExp(`^${GUEST_MARKER} done\\r?$`, "m"), text.slice(-300));
});
