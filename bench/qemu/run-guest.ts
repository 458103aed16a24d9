import { spawn } from "node:child_process";
import { promises as fs } from "node:fs";
import { join } from "node:path";
import type { RbdImage } from "../ceph/rbd-image.js";
import type { Profile } from "../core/profiles.js";
import { parseScriptOutput, renderFioScript, type ScriptFailure, type ScriptRun } from "../remote/fio-script.js";
import { parseMarkerLine, runningWorkloads } from "../remote/markers.js";
import { onEmergencyExit } from "../util/emergency-cleanup.js";
import { UserError } from "../util/errors.js";
import { tethered } from "../util/tethered.js";
import { diskSerial, diskSlots, type VmDiskVariant } from "../variants/vm-variants.js";
import { cpioArchive } from "./cpio.js";
import { type DiskBacking, type DiskShape, pciBridges, qemuDiskArgs } from "./disk-args.js";
import { createDiskImage, type GuestImage } from "./guest.js";
import { GUEST_MARKER } from "./init.js";

export type Accelerator = "kvm" | "tcg";

/**
 * The guest's CPU: the host's under KVM; without KVM the model qemu-server gives a VM that has no KVM (qemu-server
 * src/PVE/QemuServer/CPUConfig.pm, get_default_cpu_type: qemu64). TCG's `max` crashed Debian 13's 6.12 kernel at
 * boot on QEMU 7.2: with 5-level paging in 2 of about 20 boots, and without it once in CI (an oops in
 * sched_clock_cpu in an interrupt, before /init); a local guest's run also took 1.1x as long under it.
 */
export function guestCpu(accel: Accelerator): string {
  return accel === "kvm" ? "host" : "qemu64";
}

/** A data disk of the guest: the variant's options, in the shape of one Proxmox VE release's qemu-server. */
export interface GuestDisk {
  variant: VmDiskVariant;
  shape: DiskShape;
  /** An RBD image the disk lives on (made by the caller), instead of a raw image file. */
  rbd?: RbdImage;
}

/** Where a disk's data lives: its RBD image, else its raw image file. */
function diskBacking(disk: GuestDisk & { image: string }): DiskBacking {
  if (!disk.rbd) return { path: disk.image, driver: "file", volid: disk.image };
  const { pool, image, id, conf } = disk.rbd;
  return { driver: "rbd", pool, image, ...(conf && { conf }), ...(id && { user: id }), volid: `rbd:${pool}/${image}` };
}

export const GUEST_MEMORY_MB = 1024;

/** The whole QEMU command line: the guest, then each variant's disk exactly as its options say. */
export function qemuArguments(
  guest: GuestImage,
  initrd: string,
  accel: Accelerator,
  disks: Array<GuestDisk & { image: string }>,
  probe = false,
): string[] {
  const slots = diskSlots(disks.map((disk) => disk.variant));
  return [
    // Proxmox VE's default machine, for a VM that names none (as the stacks' VMs do): qemu-server's PCI placement
    // of the disks is for it.
    "-machine",
    "pc",
    "-accel",
    accel,
    "-cpu",
    guestCpu(accel),
    "-smp",
    "2",
    "-m",
    String(GUEST_MEMORY_MB),
    "-nodefaults",
    "-display",
    "none",
    "-serial",
    "stdio",
    "-no-reboot",
    "-kernel",
    guest.kernel.vmlinuz,
    "-initrd",
    initrd,
    "-append",
    // no_timer_check: under TCG on a busy machine the kernel's early check that the timer interrupt works
    // (arch/x86/kernel/apic/io_apic.c check_timer) can miss its window and panic in start_kernel; seen once in CI.
    `console=ttyS0 quiet loglevel=1 panic=-1 no_timer_check${probe ? " layerbench.probe" : ""}`,
    ...pciBridges(disks.some((disk) => disk.variant.bus === "virtio-scsi-single")),
    ...disks.flatMap((disk) =>
      qemuDiskArgs(disk.variant, slots.get(disk.variant.id) ?? "", diskBacking(disk), disk.shape),
    ),
  ];
}

export interface GuestEvents {
  workloadStarted(variant: string, workload: string, attempt: number): void;
  run(variant: string, run: ScriptRun): Promise<void>;
  failure(variant: string, failure: ScriptFailure): Promise<void>;
  /** The disk's fill before its first measurement (--precondition). */
  precondition?(variant: string, outcome: { seconds: number; ok: boolean; message: string }): void;
  /** A /dev/disk/by-id name the guest gave a disk, as udev would, and the device it names. */
  byId?(name: string, device: string): void;
  /** What the variant's script found running it (kernel, machine type): see remote/fio-script.ts. */
  environment?(variant: string, key: string, value: string): void;
}

export class GuestRunError extends UserError {}

/** Splits the serial console into the guest's events as they come; fio's JSON blocks are parsed when complete. */
export class ConsoleReader {
  private buffer = "";
  private variant = "";
  private block: string[] | undefined;
  private pending: Promise<void> = Promise.resolve();
  /** A run whose end marker came, held for its series, which the script prints after it (remote/series-script.ts). */
  private held: { variant: string; run: ScriptRun } | undefined;
  readonly tail: string[] = [];
  /** The kernel's own reason, where it panicked: its trace that follows would push it out of the tail. */
  kernelPanic: string | undefined;
  ready = false;
  done = false;

  constructor(private readonly events: GuestEvents) {}

  push(chunk: string): void {
    this.buffer += chunk.replace(/\r/g, "");
    let newline = this.buffer.indexOf("\n");
    while (newline >= 0) {
      this.line(this.buffer.slice(0, newline));
      this.buffer = this.buffer.slice(newline + 1);
      newline = this.buffer.indexOf("\n");
    }
  }

  /** Resolves when every run seen so far has been handed over. */
  settled(): Promise<void> {
    this.handOver();
    return this.pending;
  }

  private handOver(): void {
    const held = this.held;
    if (!held) return;
    this.held = undefined;
    this.pending = this.pending.then(() => this.events.run(held.variant, held.run));
  }

  private line(line: string): void {
    this.tail.push(line);
    if (this.tail.length > 20) this.tail.shift();
    this.kernelPanic ??= /Kernel panic - not syncing: .*/.exec(line)?.[0];
    // The held run takes its series, and goes at the next line of the protocol, whatever it is.
    const protocol =
      parseMarkerLine(line) ??
      (line.startsWith(`${GUEST_MARKER} `) || runningWorkloads(line).length > 0 ? line : undefined);
    if (this.held && protocol) {
      if (typeof protocol !== "string" && protocol.kind === "series") {
        const { run } = this.held;
        if (protocol.workload === run.workload && protocol.attempt === run.attempt) run.run.series = protocol.series;
      }
      this.handOver();
    }
    if (this.block) {
      this.block.push(line);
      if (parseMarkerLine(line)?.kind === "end") {
        const text = this.block.join("\n");
        this.block = undefined;
        const variant = this.variant;
        try {
          const [run] = parseScriptOutput(text, `guest ${variant}`).runs;
          this.held = { variant, run };
        } catch (error) {
          // A garbled block (console noise in the JSON) loses that run only.
          const begin = parseMarkerLine(text.split("\n")[0]);
          const failure = {
            workload: begin?.kind === "begin" ? begin.workload : "?",
            attempt: begin?.kind === "begin" ? begin.attempt : 0,
            message: (error as Error).message,
          };
          this.pending = this.pending.then(() => this.events.failure(variant, failure));
        }
      }
      return;
    }
    const guest = line.startsWith(`${GUEST_MARKER} `) ? line.slice(GUEST_MARKER.length + 1).split(" ") : undefined;
    const marker = parseMarkerLine(line);
    const variant = this.variant;
    if (guest?.[0] === "ready") this.ready = true;
    else if (guest?.[0] === "variant") this.variant = guest[1];
    else if (guest?.[0] === "done") this.done = true;
    else if (guest?.[0] === "by-id") this.events.byId?.(guest[1], guest[2]);
    else if (marker?.kind === "begin") this.block = [line];
    else if (marker?.kind === "environment") this.events.environment?.(variant, marker.key, marker.value);
    else if (marker?.kind === "precondition") {
      const outcome = { seconds: marker.seconds, ok: marker.ok, message: marker.message };
      this.pending = this.pending.then(() => this.events.precondition?.(variant, outcome));
    } else if (marker?.kind === "failed") {
      const failure = { workload: marker.workload, attempt: marker.attempt, message: marker.message };
      this.pending = this.pending.then(() => this.events.failure(variant, failure));
    } else {
      // Through the same queue as the runs, so that the progress keeps the guest's order.
      for (const started of runningWorkloads(line))
        this.pending = this.pending.then(() => this.events.workloadStarted(variant, started.workload, started.attempt));
    }
  }
}

interface QemuOutcome {
  code: number | null;
  /** The signal that ended QEMU, when one did (a kill -9, the OOM killer). */
  killedBy: NodeJS.Signals | null;
  seconds: number;
}

function runQemu(
  qemu: string,
  args: string[],
  reader: ConsoleReader | undefined,
  options: { signal?: AbortSignal; timeoutMs: number },
): Promise<QemuOutcome & { stderr: string }> {
  // A stop that came before the guest starts it not: its workloads would all run first.
  if (options.signal?.aborted) return Promise.reject(options.signal.reason);
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tetheredQemu = tethered(qemu, args);
    const child = spawn(tetheredQemu.command, tetheredQemu.args, { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => reader?.push(chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const stop = () => child.kill("SIGTERM");
    const forget = onEmergencyExit(`QEMU process ${child.pid}`, () => child.kill("SIGKILL"));
    const timer = setTimeout(stop, options.timeoutMs);
    options.signal?.addEventListener("abort", stop, { once: true });
    child.on("error", reject);
    child.on("close", (code, killedBy) => {
      clearTimeout(timer);
      forget();
      options.signal?.removeEventListener("abort", stop);
      resolve({ code, killedBy, seconds: (Date.now() - started) / 1000, stderr });
    });
  });
}

/** A boot without disks that powers off once its init is up: whether the guest boots under `accel`, and how long it took. */
async function probeBoot(
  guest: GuestImage,
  accel: Accelerator,
  timeoutMs: number,
): Promise<{ booted: boolean; seconds: number; stderr: string }> {
  const reader = new ConsoleReader({
    workloadStarted: () => undefined,
    run: async () => undefined,
    failure: async () => undefined,
  });
  const outcome = await runQemu(guest.qemu, qemuArguments(guest, guest.initrd, accel, [], true), reader, { timeoutMs });
  return { booted: outcome.code === 0 && reader.ready, seconds: outcome.seconds, stderr: outcome.stderr };
}

/** KVM when the guest actually boots with it (a /dev/kvm that cannot run a stock kernel is common in nested setups). */
export async function probeAccelerator(guest: GuestImage): Promise<{ accel: Accelerator; seconds: number }> {
  const probe = await probeBoot(guest, "kvm", 30_000).catch(() => undefined);
  return { accel: probe?.booted ? "kvm" : "tcg", seconds: probe?.seconds ?? 0 };
}

/** One boot and teardown of the guest without disks: what the guest itself costs. */
export async function bootOnce(guest: GuestImage, accel: Accelerator): Promise<number> {
  const probe = await probeBoot(guest, accel, 120_000);
  if (!probe.booted)
    throw new GuestRunError(`the guest did not boot under ${accel}: ${probe.stderr.trim().split("\n")[0] ?? ""}`);
  return probe.seconds;
}

export interface GuestRunOptions {
  guest: GuestImage;
  accel: Accelerator;
  disks: GuestDisk[];
  /** Where the disk image files go: a directory on the disk under test, not a RAM disk (cache=none needs O_DIRECT). */
  imageDir: string;
  imageBytes: number;
  profile: Profile;
  repeat: number;
  events: GuestEvents;
  signal?: AbortSignal;
  timeoutMs: number;
}

/** Boots the guest once with a disk per variant and measures them one after the other; returns the QEMU arguments and boot-to-poweroff seconds. */
export async function runGuest(options: GuestRunOptions): Promise<{ args: string[]; seconds: number }> {
  const variants = options.disks.map((disk) => disk.variant);
  const disks = options.disks.map((disk) => ({
    ...disk,
    image: join(options.imageDir, `${diskSerial(disk.variant)}.img`),
  }));
  const initrd = join(options.imageDir, "initrd.cpio");
  const files = disks.filter((disk) => !disk.rbd);
  try {
    for (const { image, variant } of files) await createDiskImage(image, variant.format, options.imageBytes);
    // The cached guest, then an archive with this run's variants and scripts: one initramfs.
    const scripts = cpioArchive([
      {
        kind: "file",
        path: "layerbench/variants",
        data: Buffer.from(variants.map((variant, index) => `${index + 1} ${variant.id}\n`).join("")),
      },
      ...variants.map((variant, index) => ({
        kind: "file" as const,
        path: `layerbench/run-${index + 1}.sh`,
        data: Buffer.from(
          renderFioScript({
            profile: options.profile,
            repeat: options.repeat,
            target: { kind: "serial", serial: diskSerial(variant) },
          }),
        ),
      })),
    ]);
    await fs.writeFile(initrd, Buffer.concat([await fs.readFile(options.guest.initrd), scripts]));
    const args = qemuArguments(options.guest, initrd, options.accel, disks);
    const reader = new ConsoleReader(options.events);
    const outcome = await runQemu(options.guest.qemu, args, reader, {
      signal: options.signal,
      timeoutMs: options.timeoutMs,
    });
    await reader.settled();
    if (options.signal?.aborted)
      throw options.signal.reason instanceof Error ? options.signal.reason : new UserError("interrupted");
    if (!reader.done) {
      // What ended it: a signal, QEMU's own error, else the guest's last words (not the protocol's lines).
      const why =
        (outcome.killedBy && `QEMU was killed by ${outcome.killedBy}`) ||
        outcome.stderr.trim().split("\n")[0] ||
        reader.kernelPanic ||
        reader.tail
          .filter((line) => line && !parseMarkerLine(line) && !line.startsWith(GUEST_MARKER))
          .slice(-3)
          .join(" | ") ||
        `QEMU exited with ${outcome.code}`;
      throw new GuestRunError(
        `the guest stopped before its last variant (${options.accel}, after ${outcome.seconds.toFixed(0)} s): ${why}`,
      );
    }
    return { args, seconds: outcome.seconds };
  } finally {
    await Promise.all([initrd, ...files.map((disk) => disk.image)].map((path) => fs.rm(path, { force: true })));
  }
}
