import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../util/files.js";
import type { GuestImage } from "./guest.js";
import { type Accelerator, probeAccelerator } from "./run-guest.js";

// Whether KVM can boot the guest, asked once per boot of this machine. A /dev/kvm that cannot run a stock kernel
// (nested setups) makes the probe wait for its whole timeout, 30 s, before the guest falls back to TCG: once is
// enough while the machine, its kernel, QEMU and the guest stay the same.

/** Where the answer is kept for this boot of the machine, this QEMU and this guest. */
async function answerFile(guest: GuestImage, cacheDir: string): Promise<string> {
  const bootId = await fs.readFile("/proc/sys/kernel/random/boot_id", "utf8").catch(() => "no boot id");
  const key = createHash("sha256")
    .update([bootId.trim(), guest.qemuVersion, guest.kernel.vmlinuz, guest.initrd].join("\n"))
    .digest("hex")
    .slice(0, 16);
  return join(cacheDir, `accelerator-${key}.json`);
}

/** KVM when a probe boot under KVM works, else TCG; probed once per boot of the machine. */
export async function guestAccelerator(
  guest: GuestImage,
  cacheDir: string,
): Promise<{ accel: Accelerator; probedNow: boolean }> {
  const file = await answerFile(guest, cacheDir);
  const known = await fs
    .readFile(file, "utf8")
    .then((text) => (JSON.parse(text) as { accel?: unknown }).accel)
    .catch(() => undefined);
  if (known === "kvm" || known === "tcg") return { accel: known, probedNow: false };
  const { accel } = await probeAccelerator(guest);
  await fs.mkdir(cacheDir, { recursive: true });
  // Older answers (another boot, QEMU or guest) are of no further use.
  for (const name of await fs.readdir(cacheDir))
    if (/^accelerator-[0-9a-f]{16}\.json$/.test(name)) await fs.rm(join(cacheDir, name), { force: true });
  await writeFileAtomic(file, JSON.stringify({ accel }));
  return { accel, probedNow: true };
}
