// A product's rules for the strict mock cluster (test/helpers/strict-node.ts): registered by the provisioner of
// the StorageClasses and the Helm chart it owns. What no module knows, the strict node refuses.

// biome-ignore lint/suspicious/noExplicitAny: provider inputs are untyped property bags on the wire; each rule reads the fields it checks.
export type Inputs = Record<string, any>;

/** What a module may read of the rest of the cluster. */
export interface ClusterView {
  /** The k3s nodes admitted so far: their Kubernetes name and the bytes of the disk Longhorn would use. */
  k3sNodes(): Array<{ name: string; longhornDiskBytes: number }>;
  /** The pools of the user's Proxmox RBD storages. */
  rbdPools(): string[];
  /** The keys of a Secret, "namespace/name"; undefined when there is none. */
  secretKeys(where: string): string[] | undefined;
}

export interface RuleModule {
  /** The product, and where its rules come from. */
  name: string;
  provisioners: string[];
  charts: string[];
  storageClass?(inputs: Inputs, cluster: ClusterView): string | undefined;
  release?(inputs: Inputs, cluster: ClusterView): string | undefined;
  /** StorageClasses the chart makes itself. */
  classesMadeBy?(inputs: Inputs): string[];
  /**
   * A claim on one of the module's classes, made by `owner` (stack/resource): a claim by the same owner replaces
   * the one before it, as the program's claims are replaced (deleteBeforeReplace).
   */
  claim?(inputs: Inputs, className: string, cluster: ClusterView, owner: string): string | undefined;
}

export const GiB = 1024 ** 3;

export function parseQuantity(text: string): number {
  const match = /^(\d+)(Gi|Mi)$/.exec(text);
  if (!match) throw new Error(`unexpected storage request ${text}`);
  return Number(match[1]) * (match[2] === "Gi" ? GiB : 1024 ** 2);
}
