// What the local VM guest costs: building its initramfs (cold, then from the cache), and a boot to
// power-off with nothing to measure, under TCG and under KVM where KVM works.
// Usage: npm run benchmark:guest -- [--rounds 5]
import { promises as fs } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { prepareGuest } from "../qemu/guest.js";
import { type Accelerator, bootOnce, probeAccelerator } from "../qemu/run-guest.js";

const { values } = parseArgs({ options: { rounds: { type: "string", default: "5" } } });
const rounds = Number(values.rounds);

// A cold build in a cache of its own (the kernel comes from the host or from the shared cache's Debian package).
const coldCache = await fs.mkdtemp(join(tmpdir(), "layerbench-guest-cache-"));
try {
  const shared = await prepareGuest();
  await fs.symlink(join(shared.initrd, "..", "debian-kernel"), join(coldCache, "debian-kernel")).catch(() => undefined);
  let started = performance.now();
  await prepareGuest(coldCache);
  const cold = (performance.now() - started) / 1000;
  started = performance.now();
  const guest = await prepareGuest(coldCache);
  const warm = (performance.now() - started) / 1000;
  console.log(
    `initramfs ${((await fs.stat(guest.initrd)).size / 1024 ** 2).toFixed(0)} MiB, kernel ${guest.kernel.source}: built in ${cold.toFixed(2)} s, from the cache in ${warm.toFixed(2)} s`,
  );

  const probe = await probeAccelerator(guest);
  console.log(`KVM probe: ${probe.accel === "kvm" ? "works" : "does not work here"} (${probe.seconds.toFixed(2)} s)`);
  const accelerators: Accelerator[] = probe.accel === "kvm" ? ["kvm", "tcg"] : ["tcg"];
  for (const accel of accelerators) {
    const seconds: number[] = [];
    for (let round = 0; round < rounds; round += 1) seconds.push(await bootOnce(guest, accel));
    seconds.sort((a, b) => a - b);
    console.log(
      `${accel}: boot to power-off median ${seconds[Math.floor(rounds / 2)].toFixed(2)} s (${seconds[0].toFixed(2)}–${seconds[seconds.length - 1].toFixed(2)}) over ${rounds} boots (goal: < ${accel === "kvm" ? 2 : 10} s)`,
    );
  }
} finally {
  await fs.rm(coldCache, { recursive: true, force: true });
}
