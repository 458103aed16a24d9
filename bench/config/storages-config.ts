// layerbench:storages, the user's Proxmox storages VM disks go on, and the check that every variant's storage,
// and every ceph-csi volume's cluster, is named by the config.
import { z } from "zod";
import { placementProblem } from "../storage/placement.js";
import { USER_STORAGES, type UserStorages, VM_STORAGE_KINDS } from "../storage/vm-storages.js";
import type { VmDiskVariant } from "../variants/vm-variants.js";
import type { CephSettings } from "./ceph-config.js";
import type { K8sSettings } from "./k8s-config.js";
import { ConfigError, documented, STORAGE_ID } from "./schema-parts.js";

/** layerbench:storages: a storage id per kind of storage the user has (bench/storage/vm-storages.ts). */
export const StoragesSchema = z
  .object(
    Object.fromEntries(
      USER_STORAGES.map((storage) => {
        const kind = VM_STORAGE_KINDS[storage];
        const id = z.string().regex(STORAGE_ID, `use the id of a ${kind.pveType} storage, as pvesm status lists it`);
        return [storage, kind.defaultStorageId ? id.default(kind.defaultStorageId) : id.optional()];
      }),
    ),
    {
      error: (issue) =>
        issue.code === "unrecognized_keys"
          ? `unknown kind ${issue.keys.map((key) => JSON.stringify(key)).join(", ")}: use ${USER_STORAGES.join(", ")} (the stack makes its ZFS storages; layerbench:ceph names the RBD ones)`
          : undefined,
    },
  )
  .strict();

/** Every variant's storage is named by the config (bench/storage/placement.ts); ceph-csi volumes need ceph.csi. */
export function checkStorageUsers(
  variants: VmDiskVariant[],
  storages: UserStorages,
  ceph: CephSettings | undefined,
  k8s: K8sSettings | undefined,
): void {
  for (const variant of variants) {
    const problem = placementProblem(variant, { storages, ...(ceph && { ceph }) });
    if (problem)
      throw new ConfigError(
        `layerbench:vmVariants: variant "${variant.id}" storage ${variant.storage} needs ${problem}`,
      );
  }
  const csiVariant = k8s?.variants.find((variant) => variant.kind === "ceph-rbd");
  if (csiVariant && !ceph?.csi)
    throw new ConfigError(
      `layerbench:k8s.variants: variant "${csiVariant.id}" kind ceph-rbd needs layerbench:ceph.csi: the cluster's fsid (clusterId) and monitors`,
    );
}

/** The key as the stack config declares it: its schema, its description and default for Pulumi.yaml and the README. */
export const STORAGES_KEY = documented(StoragesSchema.prefault({}), {
  description: `\`{${USER_STORAGES.join(", ")}}\`: your Proxmox storage of each kind, for VM variants with that \`storage\` (e.g. \`{lvmthin: local-lvm, dir: vm-files}\`)`,
  defaultText: USER_STORAGES.flatMap((storage) => {
    const id = VM_STORAGE_KINDS[storage].defaultStorageId;
    return id ? [`${storage}: \`${id}\``] : [];
  }).join(", "),
});
