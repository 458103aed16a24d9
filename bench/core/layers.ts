// Kept apart from the results schema so that the CLI can list them without loading zod.

/** Where a variant was measured: the Proxmox host, a VM, a Kubernetes pod, or a local directory or guest. */
export const LAYERS = ["host", "vm", "k8s", "local"] as const;
export type Layer = (typeof LAYERS)[number];
