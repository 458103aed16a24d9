import { promises as fs } from "node:fs";
import { join } from "node:path";
import type { RbdClusterFacts } from "../ceph/rbd-image.js";
import { largestFootprint, type Profile, secondsPerRun } from "../core/profiles.js";
import type { Recorder } from "../core/recorder.js";
import { EMULATED_CPU_WARNING, type VariantSpec } from "../core/results.js";
import { guestAccelerator } from "../qemu/accelerator.js";
import { cacheDirectory, guestTools, prepareGuest, qemuImg } from "../qemu/guest.js";
import { type Accelerator, GUEST_MEMORY_MB, type GuestEvents, GuestRunError, runGuest } from "../qemu/run-guest.js";
import { scratchOnEmergencyExit } from "../util/emergency-cleanup.js";
import { formatDuration } from "../util/format.js";
import { aioApplies, NOT_APPLICABLE, usesCacheDirect } from "../variants/vm-variants.js";
import { checkTargetDirectory, directIoRefusal, PreflightError } from "./preflight.js";
import type { ProgressReporter } from "./progress.js";
import { type PreparedRbdImage, prepareRbdImage } from "./rbd-target.js";
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
  if (vmTargets.some((target) => target.vm.format === "qcow2")) await qemuImg();
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
  const { bus, cache, aio, iothread, discard, ssd, format } = target.vm;
  const options = {
    bus,
    cache,
    aio: aioApplies(target.vm) ? aio : NOT_APPLICABLE,
    iothread,
    discard,
    ssd,
    // An image file's format (raw or qcow2); an RBD image is raw, as pve-storage makes it.
    ...(!target.rbd && { format }),
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
  rbdFacts?: Map<string, RbdClusterFacts>;
  /** Where the fills of RBD disks write their job files. */
  jobsDir: string;
}

/** The RBD images of a guest's disks, made and filled for the run; what each disk's options record of it. */
async function prepareRbdDisks(
  group: VmTarget[],
  options: VmTargetsRun,
): Promise<{ images: Map<string, PreparedRbdImage>; remove: () => Promise<void> }> {
  const images = new Map<string, PreparedRbdImage>();
  const remove = async () => {
    for (const image of [...images.values()].reverse()) await image.remove();
    images.clear();
  };
  try {
    for (const target of group) {
      if (!target.rbd) continue;
      const facts = options.rbdFacts?.get(target.name);
      if (!facts) throw new Error(`VM target "${target.name}" on RBD was not checked before the run`);
      images.set(
        target.name,
        await prepareRbdImage({
          what: `VM target "${target.name}"`,
          image: target.rbd,
          bytes: imageBytes(options.profile),
          facts,
          // QEMU opens the image with rbd_cache=false when the cache mode bypasses the host's caches (block/rbd.c).
          cacheBypassed: usesCacheDirect(target.vm),
          jobsDir: options.jobsDir,
          signal: options.signal,
        }),
      );
    }
  } catch (error) {
    await remove().catch(() => undefined);
    throw error;
  }
  return { images, remove };
}

/** What the runs of the local guests share: what was asked, what ran them, what they have said so far. */
interface GuestRunState {
  options: VmTargetsRun;
  guest: Awaited<ReturnType<typeof prepareGuest>>;
  accel: Accelerator;
  expectedSeconds: number;
  byName: Map<string, VmTarget>;
  /** Each step's progress label, by variant, workload and attempt. */
  labels: Map<string, string>;
  /** Seconds each disk's fill took, by variant (--precondition). */
  preconditioned: Map<string, number>;
  /** What each variant's script found running it in the guest, beside the QEMU that ran the guest. */
  environments: Map<string, Record<string, string>>;
  rbdImages: Map<string, PreparedRbdImage>;
}

/** What the guest's console says, turned into progress, records of runs, failures and fills. */
function guestEvents(state: GuestRunState): GuestEvents {
  const { options, guest, accel, expectedSeconds, byName, labels, preconditioned, environments, rbdImages } = state;
  const { profile, recorder, progress } = options;
  return {
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
          rbdImages.get(variant)?.options,
        ),
        ...(preconditioned.has(variant) && { preconditionSec: preconditioned.get(variant) }),
      };
      // Said before it is saved, as on a directory (run.ts).
      progress.stepFinished(
        `${labels.get(`${variant}/${workload}/${attempt}`) ?? variant}: write ${Math.round(run.write?.iops ?? 0)} IOPS${accel === "tcg" ? " (TCG)" : ""}`,
      );
      await recorder.run(
        spec,
        profile.workloads.find((candidate) => candidate.id === workload) ?? { id: workload },
        run,
      );
    },
    environment: (variant, key, value) => environments.set(variant, { ...environments.get(variant), [key]: value }),
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
  };
}

/** The VM targets as disks of local guests, one boot per directory their images go to, measured one after the other. */
export async function measureVmTargets(options: VmTargetsRun): Promise<void> {
  const { targets, profile, repeat, recorder, progress } = options;
  const guest = await prepareGuest();
  const { accel } = await guestAccelerator(guest, cacheDirectory());
  progress.note(
    accel === "kvm"
      ? `layerbench: VM targets in a KVM guest (kernel ${guest.kernel.source})`
      : `layerbench: WARNING: KVM does not work here, VM targets run under TCG: ${EMULATED_CPU_WARNING}`,
  );
  const expectedSeconds = secondsPerRun(profile) + 1;
  const state: Omit<GuestRunState, "rbdImages"> = {
    options,
    guest,
    accel,
    expectedSeconds,
    byName: new Map(targets.map((target) => [target.name, target])),
    labels: new Map(),
    preconditioned: new Map(),
    environments: new Map(),
  };
  const { preconditioned } = state;
  // Each guest's images go to its own target's directory; one boot per directory keeps that true.
  const groups = new Map<string, VmTarget[]>();
  for (const target of targets) groups.set(target.path, [...(groups.get(target.path) ?? []), target]);
  for (const [dir, group] of groups) {
    const imageDir = await fs.mkdtemp(join(dir, ".layerbench-vm-"));
    const forgetImageDir = scratchOnEmergencyExit(imageDir);
    let rbdDisks: Awaited<ReturnType<typeof prepareRbdDisks>> | undefined;
    try {
      rbdDisks = await prepareRbdDisks(group, options);
      const rbdImages = rbdDisks.images;
      for (const [name, image] of rbdImages) preconditioned.set(name, image.fillSec);
      const booted = await runGuest({
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
        events: guestEvents({ ...state, rbdImages }),
      }).catch(async (error: unknown) => {
        // A guest that crashed (QEMU killed, out of memory) fails its own disks' remaining runs; the rest go on.
        if (options.signal?.aborted || !(error instanceof GuestRunError)) throw error;
        const runs = profile.stopWhenStable?.minRuns ?? repeat;
        const planned = group.flatMap((target) =>
          profile.workloads.map((workload) => ({ variant: target.name, workload: workload.id, runs })),
        );
        await recorder.failRemaining(planned, error.message);
        progress.note(`layerbench: ${error.message}: its disks' remaining runs are recorded as failed`);
        return undefined;
      });
      if (booted)
        progress.note(
          `layerbench: guest of ${group.map((target) => target.name).join(", ")}: ${formatDuration(booted.seconds)} from boot to power-off`,
        );
    } finally {
      await rbdDisks?.remove();
      await fs.rm(imageDir, { recursive: true, force: true });
      forgetImageDir();
    }
  }
}
