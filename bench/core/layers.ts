// Kept apart from the results schema so that the CLI can list them without loading zod.

/** Where a variant was measured: the Proxmox host, a VM, a Kubernetes pod, or a local directory or guest. */
export const LAYERS = ["host", "vm", "k8s", "local"] as const;
export type Layer = (typeof LAYERS)[number];

/** The layers from the bottom of the stack up: each is measured on top of the ones before it (reports, steps). */
export const LAYERS_BOTTOM_UP: readonly Layer[] = ["local", "host", "vm", "k8s"];
