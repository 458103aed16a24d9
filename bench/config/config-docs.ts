// Pulumi.yaml's `config:` section and the README's table of keys, both from the one schema (tests keep them in step).

import { VM_STORAGE_KINDS, VM_STORAGES, type VmStorageKind } from "../storage/vm-storages.js";
import { assertNever } from "../util/errors.js";
import { defaultOf, documentationOf } from "./schema-parts.js";
import { StackConfigSchema } from "./stack-config.js";

/** Pulumi.yaml's `config:` section: every key Pulumi declares (its schema takes scalar types only). */
export function configKeysForPulumiYaml(): Record<string, { type: string; description: string; default?: unknown }> {
  return Object.fromEntries(
    Object.entries(StackConfigSchema.shape).flatMap(([key, schema]) => {
      const { pulumiType, description } = documentationOf(schema);
      if (!pulumiType) return [];
      const fallback = defaultOf(schema);
      return [[key, { type: pulumiType, description, ...(fallback !== undefined && { default: fallback }) }]];
    }),
  );
}

/** The README's table of the top-level keys. */
export function configKeysMarkdown(): string[] {
  return Object.entries(StackConfigSchema.shape).map(([key, schema]) => {
    const { description, defaultText, secret } = documentationOf(schema);
    const fallback = defaultOf(schema);
    const required = !schema.safeParse(undefined).success;
    const shown =
      defaultText ??
      (secret
        ? "required, a secret"
        : fallback !== undefined
          ? `\`${String(fallback)}\``
          : required
            ? "required"
            : "–");
    return `| \`${key}\` | ${description} | ${shown} |`;
  });
}

/** Where the README says a kind's storage comes from. */
function placementText(storage: string, kind: VmStorageKind): string {
  switch (kind.placement) {
    case "stack-zfs":
      return "made by the stack, one per set of ZFS options, under `dataset`";
    case "ceph":
      return "`ceph.storage`";
    case "ceph-krbd":
      return "`ceph.krbdStorage`";
    case "user":
      return `\`storages.${storage}\`${kind.defaultStorageId ? ` (\`${kind.defaultStorageId}\` by default)` : ""}`;
    default:
      return assertNever(kind.placement);
  }
}

/** The README's table of VM disk storages, one row per descriptor of bench/storage/vm-storages.ts. */
export function vmStoragesMarkdown(): string[] {
  return [
    "| `storage` | Proxmox storage type | formats | the storage | filled before measured | after its runs |",
    "| --- | --- | --- | --- | --- | --- |",
    ...VM_STORAGES.map((storage) => {
      const kind = VM_STORAGE_KINDS[storage];
      const after = { block: "discarded", file: "kept until destroy", librbd: "kept until destroy" }[kind.device];
      const filled = kind.filledBeforeMeasuring ? "yes" : "with `precondition`";
      return `| \`${storage}\` | ${kind.pveType} (${kind.label}) | ${kind.formats.join(", ")} | ${placementText(storage, kind)} | ${filled} | ${after} |`;
    }),
  ];
}
