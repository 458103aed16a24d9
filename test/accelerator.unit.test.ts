import { promises as fs } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { guestAccelerator } from "../bench/qemu/accelerator.js";
import type { GuestImage } from "../bench/qemu/guest.js";
import { scratchDir } from "./helpers/fio.js";

// The KVM probe boot is made once per boot of the machine (it waits 30 s where /dev/kvm cannot boot a kernel): a
// stand-in QEMU that cannot boot anything, counting its starts, shows when it is asked.

test("the accelerator is probed once, then read back; an answer of another QEMU or guest is dropped", async (t) => {
  const dir = await scratchDir();
  t.teardown(dir.cleanup);
  const qemu = join(dir.path, "qemu");
  await fs.writeFile(qemu, `#!/bin/sh\necho start >> "${join(dir.path, "starts")}"\nexit 1\n`, { mode: 0o755 });
  const guest: GuestImage = {
    qemu,
    qemuVersion: "QEMU emulator version 10.0.2",
    kernel: { vmlinuz: "/boot/vmlinuz", modules: [], source: "host" },
    initrd: "/cache/initrd-1.cpio",
    fioVersion: "fio-3.39",
  };
  const cache = join(dir.path, "cache");
  await fs.mkdir(cache);
  await fs.writeFile(join(cache, "accelerator-0123456789abcdef.json"), JSON.stringify({ accel: "kvm" }));
  const starts = async () =>
    (await fs.readFile(join(dir.path, "starts"), "utf8").catch(() => "")).split("\n").length - 1;

  t.deepEqual(await guestAccelerator(guest, cache), { accel: "tcg", probedNow: true }, "a QEMU that cannot boot: TCG");
  t.is(await starts(), 1);
  t.deepEqual(await guestAccelerator(guest, cache), { accel: "tcg", probedNow: false }, "read back, no boot");
  t.is(await starts(), 1);
  const files = await fs.readdir(cache);
  t.is(files.length, 1, "the other QEMU's answer is gone");
  t.regex(files[0], /^accelerator-[0-9a-f]{16}\.json$/);
  // Another QEMU is asked again.
  t.like(await guestAccelerator({ ...guest, qemuVersion: "QEMU emulator version 10.1.0" }, cache), { probedNow: true });
  t.is(await starts(), 2);
});
