import { createHash } from "node:crypto";
import { VM_STORAGE_KINDS, type VmStorage } from "../storage/vm-storages.js";
import { formatFioSize } from "../util/size.js";
import type { ZfsOptions } from "../variants/vm-variants.js";

// Everything layerbench names on a Proxmox node carries the stack's name, so that two stacks on one node (or one
// cluster: storage ids are cluster-wide) never share a storage id, a dataset, a zvol or a file.

/** The stack's name as it may appear in storage ids, datasets and file names: lower-case letters, digits, '-'. */
export function stackSlug(stack: string): string {
  const slug = stack
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  if (!/^[a-z]/.test(slug)) return `s-${slug || "stack"}`;
  return slug;
}

/** The ZFS property set a group of zvols shares, e.g. 16k-lz4-standard. */
export function zfsGroupKey(options: ZfsOptions): string {
  return `${formatFioSize(options.volblocksize)}-${options.compression}-${options.sync}`;
}

/** Distinct ZFS property sets among the variants on ZFS, in first-seen order. */
export function zfsGroups(variants: Array<ZfsOptions & { storage?: VmStorage }>): ZfsOptions[] {
  const groups = new Map<string, ZfsOptions>();
  for (const { volblocksize, compression, sync, storage } of variants) {
    if (storage !== undefined && VM_STORAGE_KINDS[storage].placement !== "stack-zfs") continue;
    const key = zfsGroupKey({ volblocksize, compression, sync });
    if (!groups.has(key)) groups.set(key, { volblocksize, compression, sync });
  }
  return [...groups.values()];
}

export interface NodeNames {
  /** The stack's own dataset under the configured parent: everything else of the stack lives below it. */
  stackDataset: string;
  groupDataset(options: ZfsOptions): string;
  /** Proxmox storage id of a ZFS group (pve-storage ids: a letter first, then letters, digits, '-', '_', '.'). */
  storageId(options: ZfsOptions): string;
  baseline(kind: "zvol" | "dataset"): string;
  /** An RBD image the stack's scripts make in the Ceph pool (and remove), e.g. for the host-level Ceph run. */
  rbdImage(role: string): string;
  /** The host-level run's volume on a block storage of the user's: pve-storage wants vm-VMID-... (LvmThinPlugin.pm). */
  hostVolume(vmId: number): string;
  /** The host-level run's directory on a file storage of the user's. */
  hostDirectory: string;
  imageFile(url: string): string;
  /** Named by content: a changed snippet is a new file, so replacing it never deletes the one a VM boots with. */
  snippetFile(vmId: number, content: string): string;
}

export function nodeNames(dataset: string, stack: string): NodeNames {
  const slug = stackSlug(stack);
  const stackDataset = `${dataset}/${slug}`;
  return {
    stackDataset,
    groupDataset: (options) => `${stackDataset}/${zfsGroupKey(options)}`,
    storageId: (options) => `lb-${slug}-${zfsGroupKey(options)}`,
    baseline: (kind) => `${stackDataset}/baseline-${kind}`,
    rbdImage: (role) => `layerbench-${slug}-${role}`,
    hostVolume: (vmId) => `vm-${vmId}-layerbench-${slug}-host`,
    hostDirectory: `layerbench-${slug}-host`,
    imageFile: (url) => `layerbench-${slug}-${new URL(url).pathname.split("/").pop() || "image.qcow2"}`,
    snippetFile: (vmId, content) =>
      `layerbench-${slug}-${vmId}-${createHash("sha256").update(content).digest("hex").slice(0, 12)}.yaml`,
  };
}
