import { promises as fs } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRbdImage, rbdCache, rbdName } from "../ceph/rbd-image.js";
import { largestFootprint, type Profile, secondsPerRun } from "../core/profiles.js";
import type { Recorder } from "../core/recorder.js";
import { EMULATED_CPU_WARNING, type VariantSpec } from "../core/results.js";
import { guestAccelerator } from "../qemu/accelerator.js";
import { cacheDirectory, guestTools, prepareGuest } from "../qemu/guest.js";
import { type Accelerator, GUEST_MEMORY_MB, GuestRunError, runGuest } from "../qemu/run-guest.js";
import { scratchOnEmergencyExit } from "../util/emergency-cleanup.js";
import { formatDuration } from "../util/format.js";
import { usesCacheDirect } from "../variants/vm-variants.js";
import { checkTargetDirectory, directIoRefusal, PreflightError } from "./preflight.js";
import type { ProgressReporter } from "./progress.js";
import { fillRbdImage, type RbdTargetFacts } from "./rbd-target.js";
import { isVmTarget, type LocalTarget, type VmTarget } from "./targets.js";

// Kernel boot and power-off under TCG, for the ETA.
export const GUEST_BOOT_SECONDS = 5;

// Room in a raw image beside the workload's files, for the guest's ext4 metadata.
const IMAGE_MARGIN = 64 * 1024 ** 2;

/** A raw image holds the largest workload's files (jobs side by side) with room to spare. */
export function imageBytes(profile: Profile): number {
  return Math.ceil((largestFootprint(profile) + IMAGE_MARGIN) / 1024 ** 2) * 1024 ** 2;
}

/** Before any I/O: QEMU and busybox-static present, each image directory writable and large enough, O_DIRECT possible where asked. */
export async function preflightVmTargets(targets: LocalTarget[], profile: Profile): Promise<void> {
  const vmTargets = targets.filter(isVmTarget);
  if (vmTargets.length === 0) return;
  await guestTools();
  for (const target of vmTargets) {
    await checkTargetDirectory(target.name, target.path, {
      files: imageBytes(profile) - IMAGE_MARGIN,
      margin: IMAGE_MARGIN,
    });
    // A disk on RBD is opened by librbd, not through the directory's file system.
    const refusal = usesCacheDirect(target.vm) && !target.rbd ? await directIoRefusal(target.path) : undefined;
    if (refusal) {
      throw new PreflightError(
        `VM target "${target.name}": cache=${target.vm.cache} opens its image with O_DIRECT, which the file system of ${target.path} refuses (${refusal}): use dir= on another file system, or cache=writeback`,
      );
    }
  }
}

function vmSpec(
  target: VmTarget,
  baseline: boolean,
  accel: Accelerator,
  kernel: string,
  environment: Record<string, string>,
  rbd: Record<string, string | number> = {},
): VariantSpec {
  const { bus, cache, aio, iothread, discard, ssd } = target.vm;
  const options = {
    bus,
    cache,
    aio,
    iothread,
    discard,
    ssd,
    ...rbd,
    // Which qemu-server's disk arguments the guest got: Proxmox VE 9's -blockdev or 8.4's -drive.
    pve: target.pve,
    accel,
    guestKernel: kernel,
    ...(accel === "tcg" && { warning: EMULATED_CPU_WARNING }),
  };
  return { id: target.name, layer: "vm", options, baseline, memoryBytes: GUEST_MEMORY_MB * 1024 ** 2, environment };
}

export interface VmTargetsRun {
  targets: VmTarget[];
  /** The baseline's name: the first target of the whole run. */
  baselineName: string;
  profile: Profile;
  repeat: number;
  /** Takes each run and failure, and keeps results.json current. */
  recorder: Recorder;
  progress: ProgressReporter;
  /** Numbers the steps in the progress labels. */
  stepLabel: (target: string, workload: string, attempt: number) => string;
  signal?: AbortSignal;
  /** What the checks before the run found of each RBD disk's cluster. */
  rbdFacts?: Map<string, RbdTargetFacts>;
}

/**
 * The RBD images of a guest's disks, made for the run; what each disk's options record of it. QEMU gives librbd
 * rbd_cache=true unless the disk's cache mode opens it with cache.direct (block/rbd.c qemu_rbd_connect), so
 * cache=none and directsync run without librbd's cache and the others through it, in its configured policy.
 */
async function prepareRbdDisks(
  group: VmTarget[],
  bytes: number,
  facts: Map<string, RbdTargetFacts> | undefined,
  signal?: AbortSignal,
): Promise<{
  options: Map<string, Record<string, string | number>>;
  /** Seconds each image's fill took: not part of any number. */
  fills: Map<string, number>;
  remove: () => Promise<void>;
}> {
  const removals: Array<() => Promise<void>> = [];
  const remove = async () => {
    for (const undo of removals.splice(0).reverse()) await undo();
  };
  const options = new Map<string, Record<string, string | number>>();
  const fills = new Map<string, number>();
  try {
    for (const target of group) {
      if (!target.rbd) continue;
      const what = `VM target "${target.name}"`;
      removals.push(await createRbdImage(target.rbd, bytes, what));
      // A thin image reads zeros without the OSDs: written whole once, from here, before the guest boots.
      const jobsDir = await fs.mkdtemp(join(tmpdir(), "layerbench-fill-"));
      let fillSec: number;
      try {
        fillSec = await fillRbdImage(target.rbd, bytes, jobsDir, signal);
      } finally {
        await fs.rm(jobsDir, { recursive: true, force: true });
      }
      const fact = facts?.get(target.name);
      options.set(target.name, {
        rbd: rbdName(target.rbd),
        rbdCache: usesCacheDirect(target.vm) ? "off" : await rbdCache(target.rbd, what),
        ...(fact && { poolSize: fact.size, poolMinSize: fact.minSize }),
        client: `client.${target.rbd.id ?? "admin"}`,
      });
      fills.set(target.name, fillSec);
    }
  } catch (error) {
    await remove().catch(() => undefined);
    throw error;
  }
  return { options, fills, remove };
}

/** Every VM target as a disk of one local guest boot, measured one after the other. */
export async function measureVmTargets(options: VmTargetsRun): Promise<void> {
  const { targets, profile, repeat, recorder, progress } = options;
  const guest = await prepareGuest();
  const { accel } = await guestAccelerator(guest, cacheDirectory());
  progress.note(
    accel === "kvm"
      ? `layerbench: VM targets in a KVM guest (kernel ${guest.kernel.source})`
      : `layerbench: WARNING: KVM does not work here, VM targets run under TCG: ${EMULATED_CPU_WARNING}`,
  );
  const byName = new Map(targets.map((target) => [target.name, target]));
  const expectedSeconds = secondsPerRun(profile) + 1;
  const labels = new Map<string, string>();
  // Seconds each disk's fill took, by variant (--precondition).
  const preconditioned = new Map<string, number>();
  // What each variant's script found running it in the guest, beside the QEMU that ran the guest.
  const environments = new Map<string, Record<string, string>>();
  // Each guest's images go to its own target's directory; one boot per directory keeps that true.
  const groups = new Map<string, VmTarget[]>();
  for (const target of targets) groups.set(target.path, [...(groups.get(target.path) ?? []), target]);
  for (const [dir, group] of groups) {
    const imageDir = await fs.mkdtemp(join(dir, ".layerbench-vm-"));
    const forgetImageDir = scratchOnEmergencyExit(imageDir);
    let rbdDisks: Awaited<ReturnType<typeof prepareRbdDisks>> | undefined;
    try {
      rbdDisks = await prepareRbdDisks(group, imageBytes(profile), options.rbdFacts, options.signal);
      const rbdOptions = rbdDisks.options;
      for (const [name, seconds] of rbdDisks.fills) preconditioned.set(name, seconds);
      const { seconds } = await runGuest({
        guest,
        accel,
        disks: group.map((target) => ({
          variant: target.vm,
          shape: target.pve,
          ...(target.rbd && { rbd: target.rbd }),
        })),
        imageDir,
        imageBytes: imageBytes(profile),
        profile,
        repeat,
        signal: options.signal,
        // Generous: TCG is slow, and a stuck guest must not hang the run for ever.
        timeoutMs: (group.length * profile.workloads.length * repeat * (expectedSeconds * 4 + 30) + 120) * 1000,
        events: {
          workloadStarted: (variant, workload, attempt) => {
            const label = options.stepLabel(variant, workload, attempt);
            labels.set(`${variant}/${workload}/${attempt}`, label);
            progress.stepStarted(label, expectedSeconds);
          },
          run: async (variant, { workload, attempt, run }) => {
            const target = byName.get(variant);
            if (!target) throw new GuestRunError(`the guest reported a run of an unknown disk "${variant}"`);
            const spec = {
              ...vmSpec(
                target,
                target.name === options.baselineName,
                accel,
                guest.kernel.source,
                { qemu: guest.qemuVersion, ...environments.get(variant) },
                rbdOptions.get(variant),
              ),
              ...(preconditioned.has(variant) && { preconditionSec: preconditioned.get(variant) }),
            };
            await recorder.run(
              spec,
              profile.workloads.find((candidate) => candidate.id === workload) ?? { id: workload },
              run,
            );
            progress.stepFinished(
              `${labels.get(`${variant}/${workload}/${attempt}`) ?? variant}: write ${Math.round(run.write?.iops ?? 0)} IOPS${accel === "tcg" ? " (TCG)" : ""}`,
            );
          },
          environment: (variant, key, value) =>
            environments.set(variant, { ...environments.get(variant), [key]: value }),
          precondition: (variant, outcome) => {
            if (outcome.ok) preconditioned.set(variant, outcome.seconds);
            else void recorder.failure({ variant, workload: "precondition", attempt: 1, message: outcome.message });
            progress.note(
              `  ${variant}: ${outcome.ok ? `filled in ${formatDuration(outcome.seconds)} before its first run (not measured)` : `preconditioning FAILED: ${outcome.message}`}`,
            );
          },
          failure: async (variant, failure) => {
            await recorder.failure({ variant, ...failure });
            progress.stepFinished(
              `${labels.get(`${variant}/${failure.workload}/${failure.attempt}`) ?? variant}: FAILED: ${failure.message}`,
            );
          },
        },
      });
      progress.note(
        `layerbench: guest of ${group.map((target) => target.name).join(", ")}: ${formatDuration(seconds)} from boot to power-off`,
      );
    } finally {
      await rbdDisks?.remove();
      await fs.rm(imageDir, { recursive: true, force: true });
      forgetImageDir();
    }
  }
}
