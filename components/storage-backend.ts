import type * as command from "@pulumi/command";
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { CephSettings } from "../bench/config/ceph-config.js";
import type { K8sSettings } from "../bench/config/k8s-config.js";
import type { K8sVariant } from "../bench/variants/k8s-variants.js";
import type { GuestRole } from "./bench-vm.js";

// A storage backend of the Kubernetes layer: what it needs of every k3s node, what it installs in the cluster,
// what the layer's measurements wait for, and which StorageClass a variant's volume comes from. A new backend is
// one file in components/backends/ and one `kind` of k8s variant (bench/variants/k8s-variants.ts).

/** The stack's Ceph and the cephx key of its ceph-csi user (a secret), for a backend on Ceph. */
export interface CephAccess {
  settings: CephSettings;
  userKey: pulumi.Input<string>;
}

/** What a backend needs on every k3s node, beside k3s itself. */
export interface NodeNeeds {
  packages: string[];
  /** systemd units enabled and started by cloud-init. */
  services: string[];
  /** Shell lines run once cloud-init is done, each failing with a message that says what is missing. */
  checks: string[];
  /** A data disk of its own on every node (virtio1), with the role's changes that format and mount it. */
  disk?: { sizeGb: number; serial: string; role: (base: GuestRole) => GuestRole };
}

export interface BackendArgs {
  settings: K8sSettings;
  /** The stack's variants of this backend. */
  variants: K8sVariant[];
  provider: k8s.Provider;
  /** Runs `k3s kubectl` on the server. */
  serverConnection: pulumi.Input<command.types.input.remote.ConnectionArgs>;
  ceph?: CephAccess;
}

/** A backend installed in the cluster. */
export interface InstalledBackend {
  /** Done before the layer's first measurement, whichever variant it measures (nothing may start up beside it). */
  ready: pulumi.Resource[];
  /** The StorageClass a variant's volume comes from; none where the cluster has it already (local-path). */
  storageClass(variantId: string): pulumi.Resource | undefined;
  /** A script the server runs before every measurement of the layer (e.g. waiting out a replica rebuild). */
  beforeEachMeasurement?: string;
}

export interface StorageBackend {
  kind: K8sVariant["kind"];
  nodeNeeds(settings: K8sSettings): NodeNeeds;
  /** The versions of what it installs, recorded in each of its variants' environment. */
  environment(settings: K8sSettings, ceph?: CephSettings): Record<string, string>;
  install(args: BackendArgs, opts: pulumi.ComponentResourceOptions): InstalledBackend;
}
