import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { K8sSettings } from "../../bench/config/k8s-config.js";
import {
  LONGHORN_QUIET_SCRIPT,
  LONGHORN_VOLUMES_GONE_SCRIPT,
  longhornReadyScript,
} from "../../bench/remote/k8s-scripts.js";
import {
  EXT4_EAGER_INIT,
  type K8sVariant,
  longhornParameters,
  storageClassName,
} from "../../bench/variants/k8s-variants.js";
import type { GuestRole } from "../bench-vm.js";
import type { NodeNeeds, StorageBackend } from "../storage-backend.js";

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

/** Where Longhorn keeps its replicas by default (its default disk path). */
export const LONGHORN_DATA_PATH = "/var/lib/longhorn";
const LONGHORN_DISK_SERIAL = "longhorn";

/** A k3s node with a disk of its own for Longhorn: formatted and mounted on Longhorn's default path by cloud-init. */
function longhornDiskRole(base: GuestRole): GuestRole {
  return {
    ...base,
    checks: [
      ...base.checks,
      `mountpoint -q ${LONGHORN_DATA_PATH} || { echo "layerbench: Longhorn's disk is not mounted on ${LONGHORN_DATA_PATH}: see /var/log/cloud-init.log" >&2; exit 1; }`,
    ],
    cloudConfig: {
      // The second virtio-blk disk of the VM (virtio1) is /dev/vdb; the whole device, no partition table.
      fs_setup: [
        {
          label: "longhorn",
          filesystem: "ext4",
          device: "/dev/vdb",
          partition: "none",
          overwrite: false,
          // Written now, not by ext4lazyinit while Longhorn's replicas are measured.
          extra_opts: EXT4_EAGER_INIT,
        },
      ],
      mounts: [["LABEL=longhorn", LONGHORN_DATA_PATH, "ext4", "defaults,nofail", "0", "2"]],
    },
  };
}

/** Longhorn: replicated block volumes over iSCSI, on a disk of every k3s node. */
export const LONGHORN: StorageBackend = {
  kind: "longhorn",
  // What Longhorn needs on every node: the iSCSI initiator running, an NFSv4 client (for RWX volumes and backups).
  environment: (settings) => ({ longhorn: settings.longhornVersion }),
  nodeNeeds: (settings: K8sSettings): NodeNeeds => ({
    packages: ["open-iscsi", "nfs-common"],
    services: ["iscsid"],
    checks: [
      'systemctl is-active --quiet iscsid || { echo "layerbench: iscsid is not running: Longhorn needs it (open-iscsi)" >&2; exit 1; }',
      'command -v mount.nfs4 >/dev/null || { echo "layerbench: no NFSv4 client (nfs-common): Longhorn needs it" >&2; exit 1; }',
    ],
    ...(settings.longhornDiskGb > 0 && {
      disk: { sizeGb: settings.longhornDiskGb, serial: LONGHORN_DISK_SERIAL, role: longhornDiskRole },
    }),
  }),
  install: (args, opts) => {
    const longhorn = new Longhorn(
      "longhorn",
      {
        version: args.settings.longhornVersion,
        variants: args.variants,
        nodeCount: args.settings.nodeCount,
        provider: args.provider,
        serverConnection: args.serverConnection,
      },
      opts,
    );
    return {
      ready: [longhorn.ready],
      storageClass: (variantId) => longhorn.storageClasses.get(variantId),
      // No rebuild or attachment of another volume may share the disks with fio.
      beforeEachMeasurement: LONGHORN_QUIET_SCRIPT,
    };
  },
};
