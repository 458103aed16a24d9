import * as pulumi from "@pulumi/pulumi";
import type { CephSettings } from "../bench/config/ceph-config.js";
import { groupVmSettings, type VmSettings } from "../bench/config/vm-settings.js";
import { measurementOrder } from "../bench/core/measurement-order.js";
import type { VariantSpec } from "../bench/core/results.js";
import { renderFioScript } from "../bench/remote/fio-script.js";
import { type CephDisk, releaseVmDiskScript } from "../bench/remote/node-scripts.js";
import { diskStorageId } from "../bench/storage/placement.js";
import { onCephPool, type UserStorages, VM_STORAGE_KINDS } from "../bench/storage/vm-storages.js";
import { vmGroups } from "../bench/variants/vm-groups.js";
import {
  diskSerial,
  diskSlots,
  usesCacheDirect,
  type VmDiskVariant,
  variantOptions,
} from "../bench/variants/vm-variants.js";
import { FORMERLY_AT_ROOT } from "./aliases.js";
import { BenchVm, type BenchVmArgs, FIO_GUEST } from "./bench-vm.js";
import { FioRun } from "./fio-run.js";
import type { Layer, LayerRun, Measurement } from "./layer.js";
import type { MeasurementChain } from "./measurement-chain.js";

export interface VmLayerArgs
  extends Pick<BenchVmArgs, "node" | "names" | "runId" | "image" | "nodeConnection" | "privateKey" | "storages"> {
  /** The stack's Ceph RBD storages, for variants whose disk lives there. */
  ceph?: CephSettings;
  /** layerbench:storages. */
  userStorages: UserStorages;
  /** The first VM's settings; further VMs take the next vmIds, names and addresses. */
  settings: VmSettings;
  variants: VmDiskVariant[];
}

/**
 * The first VM was "bench-vm" while a stack had one VM. Its name does not depend on the VM count any more: a stack
 * going from one VM to two (more variants) or back (a design measuring fewer) keeps its first VM, where a rename
 * would create a VM with the same vmId before deleting the old one, which Proxmox refuses (strict mocks).
 */
const FORMERLY_ONE_VM = {
  aliases: [...FORMERLY_AT_ROOT.aliases, { name: "bench-vm" }, { name: "bench-vm", parent: pulumi.rootStackResource }],
};

/** The second layer: KVM guests whose data disks are the variants, as few VMs as hold them. */
export class VmLayer extends pulumi.ComponentResource implements Layer {
  readonly vms: Array<{ vm: BenchVm; settings: VmSettings; variants: VmDiskVariant[] }>;
  private readonly args: VmLayerArgs;

  constructor(name: string, args: VmLayerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("layerbench:layer:Vm", name, {}, opts);
    this.args = args;
    this.vms = vmGroups(args.variants).map((variants, index, groups) => {
      const settings = groupVmSettings(args.settings, variants, index, groups.length);
      const vm = new BenchVm(
        `bench-vm-${index + 1}`,
        {
          node: args.node,
          settings,
          variants,
          role: FIO_GUEST,
          names: args.names,
          runId: args.runId,
          image: args.image,
          nodeConnection: args.nodeConnection,
          privateKey: args.privateKey,
          storages: args.storages,
          placement: { storages: args.userStorages, ...(args.ceph && { ceph: args.ceph }) },
        },
        { parent: this, ...(index === 0 ? FORMERLY_ONE_VM : FORMERLY_AT_ROOT) },
      );
      return { vm, settings, variants };
    });
  }

  /** Done when every guest has finished cloud-init. */
  get ready(): pulumi.Resource[] {
    return this.vms.map(({ vm }) => vm.ready);
  }

  /**
   * What the node reports of a disk on Ceph: QEMU turns librbd's cache on unless the cache mode bypasses the
   * host's caches (block/rbd.c); krbd disks go through the host's page cache instead, as ZFS's do.
   */
  private cephDisk(variant: VmDiskVariant): CephDisk | undefined {
    const { ceph } = this.args;
    if (!ceph || !onCephPool(variant.storage)) return undefined;
    if (VM_STORAGE_KINDS[variant.storage].device !== "librbd") return { pool: ceph.pool };
    return { pool: ceph.pool, librbdCache: usesCacheDirect(variant) ? "off" : "client" };
  }

  /**
   * Where the results say the disk was, beside its options: a disk on Ceph names its pool and the pool's replica
   * count, as the report compares them; a disk on a storage of the user's names that storage.
   */
  private placementOptions(variant: VmDiskVariant): Record<string, string | number> {
    const { ceph, userStorages, names } = this.args;
    if (onCephPool(variant.storage) && ceph) return { pool: ceph.pool, replicas: ceph.size, minSize: ceph.minSize };
    if (VM_STORAGE_KINDS[variant.storage].placement === "user")
      return { datastore: diskStorageId(variant, names, { storages: userStorages }) };
    return {};
  }

  /**
   * fio on every variant's disk, one after the other in the seed's order (as given without one), each disk's written
   * data released after its runs, and the baseline again at the end (and in the middle) by run.baselineAgain. The
   * measurements come back in the order given, the baseline's passes last.
   */
  measure(chain: MeasurementChain, run: LayerRun): Measurement[] {
    const disks = this.vms.flatMap(({ vm, settings, variants }) => {
      const slots = diskSlots(variants);
      return variants.map((variant): Disk => ({ vm, settings, variant, slot: slots.get(variant.id) ?? "" }));
    });
    const byId = new Map<string, Measurement>();
    const passes: Measurement[] = [];
    // The first pass of the baseline is the host layer's, before these.
    for (const disk of measurementOrder<Disk | undefined>(undefined, disks, run.seed).slice(1)) {
      if (disk) byId.set(disk.variant.id, this.measureDisk(disk, chain, run));
      else if (run.baselineAgain) passes.push(run.baselineAgain(passes.length + 2));
    }
    const measured = disks.flatMap((disk) => byId.get(disk.variant.id) ?? []);
    this.registerOutputs({ addresses: this.vms.map(({ vm }) => vm.address) });
    return [...measured, ...passes];
  }

  /** fio on one variant's disk after the chain's last step, its written data released after its runs. */
  private measureDisk({ vm, settings, variant, slot }: Disk, chain: MeasurementChain, run: LayerRun): Measurement {
    const fioRun = new FioRun(
      `fio-vm-${variant.id}`,
      {
        connection: vm.connection,
        script: renderFioScript({
          // A thin disk (an RBD image, a thin LV, a file) is filled before it is measured, whatever the stack's
          // precondition says: it reads zeros without touching the disks under it.
          profile: VM_STORAGE_KINDS[variant.storage].filledBeforeMeasuring
            ? { ...run.profile, precondition: true }
            : run.profile,
          repeat: run.repeat,
          target: { kind: "serial", serial: diskSerial(variant) },
          sudo: true,
        }),
        runId: run.runId,
        timeoutMinutes: run.timeoutMinutes,
        after: [vm.ready, ...chain.previous()],
        release: {
          connection: this.args.nodeConnection,
          script: releaseVmDiskScript(settings.vmId, slot, this.cephDisk(variant)),
        },
      },
      { parent: this, ...FORMERLY_AT_ROOT },
    );
    chain.done(variant.id, fioRun.done);
    const spec: VariantSpec = {
      id: variant.id,
      layer: "vm",
      proxmoxNode: this.args.node,
      options: { ...variantOptions(variant), ...this.placementOptions(variant) },
      baseline: false,
      memoryBytes: settings.memoryMb * 1024 ** 2,
      // The guest's script adds its kernel, OS and machine type; the node's, a Ceph disk's features and cache.
      environment: { image: settings.imageUrl },
    };
    return { spec, output: fioRun.output };
  }
}

/** A variant's disk in its guest, and the slot the release finds it by. */
interface Disk {
  vm: BenchVm;
  settings: VmSettings;
  variant: VmDiskVariant;
  slot: string;
}
