import type { CephSettings } from "../config/ceph-config.js";
import type { NodeNames } from "../config/node-names.js";
import { assertNever } from "../util/errors.js";
import type { VmDiskVariant } from "../variants/vm-variants.js";
import { type UserStorages, VM_STORAGE_KINDS, type VmStorage } from "./vm-storages.js";

// Where a VM variant's disk is made: the Proxmox storage its kind's placement names, from the stack's config.

/** The parts of a stack's config that name storages. */
export interface StorageSettings {
  ceph?: CephSettings;
  /** layerbench:storages. */
  storages: UserStorages;
}

/** The user's storage id, the stack's own ZFS storage, or what the config lacks (the message names the key to set). */
type Placed = { id: string } | { madeByStack: true } | { missing: string };

function placed(variant: Pick<VmDiskVariant, "storage">, settings: StorageSettings): Placed {
  const { ceph, storages } = settings;
  const kind = VM_STORAGE_KINDS[variant.storage];
  switch (kind.placement) {
    case "stack-zfs":
      return { madeByStack: true };
    case "ceph":
    case "ceph-krbd": {
      if (!ceph) return { missing: "layerbench:ceph: name your Proxmox RBD storage and its pool there" };
      const id = kind.placement === "ceph" ? ceph.storage : ceph.krbdStorage;
      return id ? { id } : { missing: `layerbench:ceph.krbdStorage: an RBD storage of pool ${ceph.pool} with KRBD on` };
    }
    case "user": {
      const id = storages[variant.storage];
      return id
        ? { id }
        : {
            missing: `layerbench:storages.${variant.storage}: the id of your ${kind.label} storage (type ${kind.pveType}), as pvesm status lists it`,
          };
    }
    default:
      return assertNever(kind.placement);
  }
}

/** What a variant's storage needs of the config and does not have; undefined when the config names it. */
export function placementProblem(
  variant: Pick<VmDiskVariant, "storage">,
  settings: StorageSettings,
): string | undefined {
  const where = placed(variant, settings);
  return "missing" in where ? where.missing : undefined;
}

/** The Proxmox storage a variant's disk is made on: its ZFS group's, or the storage its kind's placement names. */
export function diskStorageId(variant: VmDiskVariant, names: NodeNames, settings: StorageSettings): string {
  const where = placed(variant, settings);
  if ("madeByStack" in where) return names.storageId(variant);
  if ("missing" in where)
    throw new Error(`variant ${variant.id}: storage ${variant.storage} needs ${where.missing} (checked by the config)`);
  return where.id;
}

/** The user's storages the variants' disks go on, each once, in the order of their first variant. */
export function userStoragesUsed(
  variants: VmDiskVariant[],
  settings: StorageSettings,
): Array<{ storage: VmStorage; id: string }> {
  const used = new Map<string, VmStorage>();
  for (const variant of variants) {
    const where = placed(variant, settings);
    if (VM_STORAGE_KINDS[variant.storage].placement === "user" && "id" in where && !used.has(where.id))
      used.set(where.id, variant.storage);
  }
  return [...used].map(([id, storage]) => ({ storage, id }));
}
