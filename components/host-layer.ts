import type * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { CephSettings } from "../bench/config/ceph-config.js";
import type { Baseline } from "../bench/config/stack-config.js";
import { largestFootprint, type Profile } from "../bench/core/profiles.js";
import type { VariantSpec } from "../bench/core/results.js";
import { printedTarget, renderFioScript, type ScriptTarget } from "../bench/remote/fio-script.js";
import {
  freeHostVolumeScript,
  hostDirectoryScript,
  hostVolumeScript,
  NODE_FIO_SCRIPT,
  releaseDeviceScript,
  removeHostDirectoryScript,
  removeRbdImageScript,
} from "../bench/remote/node-scripts.js";
import { VM_STORAGE_KINDS, type VmStorage } from "../bench/storage/vm-storages.js";
import { FORMERLY_AT_ROOT } from "./aliases.js";
import { guestImage } from "./bench-vm.js";
import { FioRun } from "./fio-run.js";
import type { Layer, LayerRun, Measurement } from "./layer.js";
import type { MeasurementChain } from "./measurement-chain.js";
import { NodeZfs, type NodeZfsArgs } from "./node-zfs.js";

export interface HostLayerArgs extends NodeZfsArgs {
  /** The file datastore and the URL of the cloud image every VM of the stack boots. */
  fileDatastore: string;
  imageUrl: string;
  /** The stack's Ceph RBD storage: fio's rbd engine measures a test image of its pool, what the cluster gives before any VM. */
  ceph?: CephSettings;
  /**
   * The user's storages the VM variants' disks go on (layerbench:storages): each measured from the node too, so
   * that a VM disk there is set against its own storage, not the ZFS baseline alone.
   */
  userStorages: Array<{ storage: VmStorage; id: string }>;
  /** The vmId pve-storage names the host-level run's volume after (the first bench VM's). */
  volumeOwner: number;
}

/** The host-level run on a storage of the user's: what the results record of it. */
export function userStorageHostSpec(storage: VmStorage, id: string, proxmoxNode: string): VariantSpec {
  return {
    id: `host-${storage}`,
    layer: "host",
    options: { kind: storage, storage, datastore: id },
    baseline: false,
    proxmoxNode,
  };
}

/** Where the host-level Ceph run points fio: an image of the pool it makes for the largest workload, as pveceph's client.admin. */
export function cephHostTarget(ceph: Pick<CephSettings, "pool">, image: string, profile: Profile): ScriptTarget {
  return { kind: "rbd", pool: ceph.pool, image, client: "admin", bytes: largestFootprint(profile) };
}

/** The host-level Ceph run: fio's rbd engine on the node, as pveceph's client.admin, on an image of the pool. */
export function cephHostSpec(ceph: CephSettings, proxmoxNode: string): VariantSpec {
  return {
    id: "host-ceph",
    layer: "host",
    options: {
      kind: "rbd",
      engine: "rbd",
      storage: ceph.storage,
      pool: ceph.pool,
      replicas: ceph.size,
      minSize: ceph.minSize,
    },
    // The script reports the librbd cache it ran with (environment rbdCache): off under direct=1, else the client's.
    baseline: false,
    proxmoxNode,
  };
}

export function baselineSpec(baseline: Baseline, proxmoxNode: string): VariantSpec {
  const { kind, ...options } = baseline;
  return { id: `host-${kind}`, layer: "host", options: { kind, ...options }, baseline: true, proxmoxNode };
}

/**
 * Where the host-level run on a storage of the user's points fio: a raw volume pve-storage makes on a block
 * storage (a thin LV), a directory of the stack's on a file storage; each made by a Command that is its own cleanup.
 */
function userStorageTarget(
  name: string,
  storage: VmStorage,
  id: string,
  args: HostLayerArgs,
  { profile, runId }: Pick<LayerRun, "profile" | "runId">,
  opts: pulumi.CustomResourceOptions,
): { made: command.remote.Command; target: pulumi.Output<ScriptTarget> } {
  const device = VM_STORAGE_KINDS[storage].device;
  const volume = args.names.hostVolume(args.volumeOwner);
  // Made again for each run id, as every target starts empty. A volume is also one the provider's VM delete takes
  // with it (delete_unreferenced_disks_on_destroy defaults to true in bpg's proxmoxtf/resource/vm/vm.go, and the
  // volume carries the VM's vmId): after a VM's replacement, the next run id makes it again.
  const [create, remove] =
    device === "file"
      ? [hostDirectoryScript(id, args.names.hostDirectory), removeHostDirectoryScript(id, args.names.hostDirectory)]
      : [hostVolumeScript(id, args.volumeOwner, volume, largestFootprint(profile)), freeHostVolumeScript(id, volume)];
  const made = new command.remote.Command(
    name,
    { connection: args.connection, create, delete: remove, triggers: [runId] },
    { ...opts, deleteBeforeReplace: true },
  );
  const target = made.stdout.apply((stdout) => printedTarget(stdout, device === "file" ? "directory" : "device"));
  return { made, target };
}

/** The first layer: the node itself. Its ZFS storage, fio, the cloud image, and fio on the baseline. */
export class HostLayer extends pulumi.ComponentResource implements Layer {
  readonly zfs: NodeZfs;
  readonly fio: command.remote.Command;
  readonly image: proxmoxve.download.File;
  private readonly args: HostLayerArgs;

  constructor(name: string, args: HostLayerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("layerbench:layer:Host", name, {}, opts);
    this.args = args;
    this.zfs = new NodeZfs("node-zfs", args, { parent: this, ...FORMERLY_AT_ROOT });
    // A stock Proxmox VE node has no fio.
    this.fio = new command.remote.Command(
      "node-fio",
      { connection: args.connection, create: NODE_FIO_SCRIPT },
      { parent: this, ...FORMERLY_AT_ROOT },
    );
    // One copy of the cloud image for every VM of the stack.
    this.image = guestImage("guest-image", args, { parent: this, ...FORMERLY_AT_ROOT });
  }

  /**
   * fio from the node on a target a Command made, after that Command, fio's install and the chain's last step: a
   * device's writes discarded after its runs, a directory's files removed by the fio script itself.
   */
  private fioOnTarget(
    name: string,
    variant: string,
    target: pulumi.Output<ScriptTarget>,
    made: pulumi.Resource,
    chain: MeasurementChain,
    run: LayerRun,
    opts: pulumi.CustomResourceOptions,
  ): Measurement["output"] {
    const fioRun = new FioRun(
      name,
      {
        connection: this.args.connection,
        script: target.apply((resolved) =>
          renderFioScript({ profile: run.profile, repeat: run.repeat, target: resolved }),
        ),
        runId: run.runId,
        timeoutMinutes: run.timeoutMinutes,
        after: [made, this.fio, ...chain.previous()],
        release: {
          connection: this.args.connection,
          script: target.apply((resolved) =>
            resolved.kind === "device" ? releaseDeviceScript(resolved.path) : "true",
          ),
        },
      },
      { parent: this, ...opts },
    );
    chain.done(variant, fioRun.done);
    return fioRun.output;
  }

  /**
   * fio on the baseline, then on the Ceph pool and the user's storages, each after the chain's last step
   * (createLayers makes the first wait for the guests' boot too).
   */
  measure(chain: MeasurementChain, run: LayerRun): Measurement[] {
    const { zfs } = this;
    const spec = baselineSpec(this.args.baseline, this.args.node);
    const baselineOutput = this.fioOnTarget(
      "fio-host",
      spec.id,
      zfs.baselineTarget,
      zfs.baseline,
      chain,
      run,
      FORMERLY_AT_ROOT,
    );
    this.registerOutputs({ baselineTarget: zfs.baselineTarget });
    const measurements = [{ spec, output: baselineOutput }];
    const { ceph } = this.args;
    if (ceph) {
      const image = this.args.names.rbdImage("host");
      const cephRun = new FioRun(
        "fio-host-ceph",
        {
          connection: this.args.connection,
          script: renderFioScript({
            profile: run.profile,
            repeat: run.repeat,
            target: cephHostTarget(ceph, image, run.profile),
          }),
          runId: run.runId,
          timeoutMinutes: run.timeoutMinutes,
          after: [this.fio, ...chain.previous()],
          // The script removes its image on every exit it lives through; destroy, after one it did not.
          release: {
            connection: this.args.connection,
            script: "true",
            destroy: removeRbdImageScript(ceph.pool, image),
          },
        },
        { parent: this },
      );
      const cephSpec = cephHostSpec(ceph, this.args.node);
      chain.done(cephSpec.id, cephRun.done);
      measurements.push({ spec: cephSpec, output: cephRun.output });
    }
    for (const { storage, id } of this.args.userStorages) {
      const { made, target } = userStorageTarget(`host-${storage}-target`, storage, id, this.args, run, {
        parent: this,
      });
      const storageSpec = userStorageHostSpec(storage, id, this.args.node);
      measurements.push({
        spec: storageSpec,
        output: this.fioOnTarget(`fio-host-${storage}`, storageSpec.id, target, made, chain, run, {}),
      });
    }
    return measurements;
  }

  /**
   * The baseline again, a pass of its own after the chain's last step (its writes discarded after it, as after the
   * first): how much the node moved while the variants between were measured.
   */
  measureBaselineAgain(chain: MeasurementChain, run: LayerRun, pass: number): Measurement {
    const { zfs } = this;
    const spec = baselineSpec(this.args.baseline, this.args.node);
    return {
      spec,
      output: this.fioOnTarget(`fio-host-pass-${pass}`, spec.id, zfs.baselineTarget, zfs.baseline, chain, run, {}),
    };
  }
}
