import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { LONGHORN_VOLUMES_GONE_SCRIPT, longhornReadyScript } from "../bench/remote/k8s-scripts.js";
import { type K8sVariant, longhornParameters, storageClassName } from "../bench/variants/k8s-variants.js";

export const LONGHORN_CHART_REPO = "https://charts.longhorn.io";
export const LONGHORN_NAMESPACE = "longhorn-system";

export interface LonghornArgs {
  /** The Helm chart version, pinned. */
  version: string;
  variants: K8sVariant[];
  /** Longhorn must be ready on every node before the first measurement. */
  nodeCount: number;
  provider: k8s.Provider;
  /** Runs `k3s kubectl` on the server, to wait for Longhorn's volumes on destroy. */
  serverConnection: pulumi.Input<command.types.input.remote.ConnectionArgs>;
}

/** The chart values: what differs from Longhorn's defaults, and why. */
export const LONGHORN_VALUES = {
  // Without it Longhorn's uninstall job refuses, and `pulumi destroy` fails.
  defaultSettings: { deletingConfirmationFlag: true },
  // The benchmark names its StorageClasses; k3s's local-path stays the default class.
  persistence: { defaultClass: false },
  // The pre-upgrade hook is for upgrades of a running Longhorn; on install under a deployment tool it only gets in the way.
  preUpgradeChecker: { jobEnabled: false },
};

/** Longhorn from its Helm chart and one StorageClass per Longhorn variant (local-path needs none: k3s has it). */
export class Longhorn extends pulumi.ComponentResource {
  readonly release: k8s.helm.v3.Release;
  /** Done when Longhorn can provision volumes on every node: the first measurement of the layer waits for it. */
  readonly ready: command.remote.Command;
  /** By variant id; local-path variants have none. */
  readonly storageClasses = new Map<string, k8s.storage.v1.StorageClass>();

  constructor(name: string, args: LonghornArgs, opts?: pulumi.ComponentResourceOptions) {
    super("layerbench:k8s:Longhorn", name, {}, opts);
    this.release = new k8s.helm.v3.Release(
      `${name}-release`,
      {
        name: "longhorn",
        chart: "longhorn",
        version: args.version,
        repositoryOpts: { repo: LONGHORN_CHART_REPO },
        namespace: LONGHORN_NAMESPACE,
        createNamespace: true,
        values: LONGHORN_VALUES,
        timeout: 900,
      },
      { parent: this, provider: args.provider, customTimeouts: { create: "20m", delete: "20m" } },
    );
    // The release is "deployed" when Helm is done, not when Longhorn's pods have pulled their images and started.
    this.ready = new command.remote.Command(
      `${name}-ready`,
      { connection: args.serverConnection, create: longhornReadyScript(args.nodeCount) },
      { parent: this, dependsOn: [this.release], customTimeouts: { create: "20m" } },
    );
    // Nothing on create; on destroy it runs after the StorageClasses and PVCs are gone and before the release.
    const volumesGone = new command.remote.Command(
      `${name}-volumes-gone`,
      { connection: args.serverConnection, create: "true", delete: LONGHORN_VOLUMES_GONE_SCRIPT },
      { parent: this, dependsOn: [this.release], customTimeouts: { delete: "10m" } },
    );
    for (const variant of args.variants) {
      if (variant.kind !== "longhorn") continue;
      this.storageClasses.set(
        variant.id,
        new k8s.storage.v1.StorageClass(
          `${name}-sc-${variant.id}`,
          {
            metadata: { name: storageClassName(variant), labels: { "app.kubernetes.io/managed-by": "layerbench" } },
            provisioner: "driver.longhorn.io",
            parameters: longhornParameters(variant),
            reclaimPolicy: "Delete",
            volumeBindingMode: "Immediate",
            allowVolumeExpansion: true,
          },
          { parent: this, provider: args.provider, dependsOn: [volumesGone] },
        ),
      );
    }
    this.registerOutputs({});
  }
}
