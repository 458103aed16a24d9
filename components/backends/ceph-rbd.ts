import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { CephSettings } from "../../bench/config/ceph-config.js";
import { CEPH_CSI_NAMESPACE, CEPH_CSI_RELEASE, cephCsiReadyScript } from "../../bench/remote/k8s-scripts.js";
import { CEPH_CSI_IMAGE_FEATURES, type K8sVariant, storageClassName } from "../../bench/variants/k8s-variants.js";
import type { StorageBackend } from "../storage-backend.js";

export const CEPH_CSI_CHART_REPO = "https://ceph.github.io/csi-charts";
const SECRET_NAME = "layerbench-ceph-user";

/**
 * The chart values: the cluster (ceph-csi's config.json), nothing the program makes itself (the user's key goes in
 * a Secret of its own, never in Helm's values; each variant has its StorageClass), one provisioner.
 */
export function cephCsiValues(ceph: CephSettings & { csi: NonNullable<CephSettings["csi"]> }) {
  return {
    csiConfig: [{ clusterID: ceph.csi.clusterId, monitors: ceph.csi.monitors }],
    secret: { create: false },
    storageClass: { create: false },
    // The chart's provisioner pods require different nodes (templates/provisioner-deployment.yaml, required
    // anti-affinity): its default of 3 would stay pending on a smaller cluster. One is enough for a benchmark.
    provisioner: { replicaCount: 1 },
  };
}

/**
 * The StorageClass parameters, as the chart's own templates/storageclass.yaml writes them, with mkfs writing ext4's
 * inode tables and journal at format time: ceph-csi's default for ext4, "-m0 -Enodiscard,lazy_itable_init=1,
 * lazy_journal_init=1" (internal/rbd/nodeserver.go), leaves them to ext4lazyinit, which writes while fio measures.
 */
export function cephRbdParameters(
  ceph: CephSettings & { csi: NonNullable<CephSettings["csi"]> },
): Record<string, string> {
  return {
    clusterID: ceph.csi.clusterId,
    pool: ceph.pool,
    imageFeatures: CEPH_CSI_IMAGE_FEATURES,
    "csi.storage.k8s.io/provisioner-secret-name": SECRET_NAME,
    "csi.storage.k8s.io/provisioner-secret-namespace": CEPH_CSI_NAMESPACE,
    "csi.storage.k8s.io/controller-expand-secret-name": SECRET_NAME,
    "csi.storage.k8s.io/controller-expand-secret-namespace": CEPH_CSI_NAMESPACE,
    "csi.storage.k8s.io/node-stage-secret-name": SECRET_NAME,
    "csi.storage.k8s.io/node-stage-secret-namespace": CEPH_CSI_NAMESPACE,
    "csi.storage.k8s.io/fstype": "ext4",
    mkfsOptions: "-m0 -Enodiscard,lazy_itable_init=0,lazy_journal_init=0",
  };
}

export interface CephCsiArgs {
  ceph: CephSettings & { csi: NonNullable<CephSettings["csi"]> };
  userKey: pulumi.Input<string>;
  variants: K8sVariant[];
  provider: k8s.Provider;
  serverConnection: pulumi.Input<command.types.input.remote.ConnectionArgs>;
}

/** ceph-csi's RBD driver from its Helm chart, the user's cephx key as a Secret, one StorageClass per variant. */
export class CephCsi extends pulumi.ComponentResource {
  readonly release: k8s.helm.v3.Release;
  readonly ready: command.remote.Command;
  readonly storageClasses = new Map<string, k8s.storage.v1.StorageClass>();

  constructor(name: string, args: CephCsiArgs, opts?: pulumi.ComponentResourceOptions) {
    super("layerbench:k8s:CephCsi", name, {}, opts);
    const namespace = new k8s.core.v1.Namespace(
      `${name}-namespace`,
      { metadata: { name: CEPH_CSI_NAMESPACE } },
      { parent: this, provider: args.provider },
    );
    // The keys ceph-csi reads (userID, userKey: the chart's templates/secret.yaml); the key stays a Pulumi secret.
    const secret = new k8s.core.v1.Secret(
      `${name}-user`,
      {
        metadata: { name: SECRET_NAME, namespace: namespace.metadata.name },
        stringData: { userID: args.ceph.csi.userId, userKey: pulumi.secret(args.userKey) },
      },
      { parent: this, provider: args.provider },
    );
    this.release = new k8s.helm.v3.Release(
      `${name}-release`,
      {
        name: CEPH_CSI_RELEASE,
        chart: "ceph-csi-rbd",
        version: args.ceph.csi.chartVersion,
        repositoryOpts: { repo: CEPH_CSI_CHART_REPO },
        namespace: namespace.metadata.name,
        values: cephCsiValues(args.ceph),
        timeout: 900,
      },
      { parent: this, provider: args.provider, customTimeouts: { create: "20m", delete: "10m" } },
    );
    this.ready = new command.remote.Command(
      `${name}-ready`,
      { connection: args.serverConnection, create: cephCsiReadyScript() },
      { parent: this, dependsOn: [this.release, secret], customTimeouts: { create: "20m" } },
    );
    for (const variant of args.variants) {
      if (variant.kind !== "ceph-rbd") continue;
      this.storageClasses.set(
        variant.id,
        new k8s.storage.v1.StorageClass(
          `${name}-sc-${variant.id}`,
          {
            metadata: { name: storageClassName(variant), labels: { "app.kubernetes.io/managed-by": "layerbench" } },
            provisioner: "rbd.csi.ceph.com",
            parameters: cephRbdParameters(args.ceph),
            reclaimPolicy: "Delete",
            volumeBindingMode: "Immediate",
            allowVolumeExpansion: true,
          },
          // Deleted before the driver and the key, which delete its volumes' images.
          { parent: this, provider: args.provider, dependsOn: [this.release, secret] },
        ),
      );
    }
    this.registerOutputs({});
  }
}

/** ceph-csi RBD: volumes are images of the stack's Ceph pool, mapped by each k3s node's kernel (krbd). */
export const CEPH_RBD: StorageBackend = {
  kind: "ceph-rbd",
  // ceph-csi's node plugin maps images with the node kernel's rbd module (its default mounter, krbd) and loads it
  // itself (internal/rbd/rbd_util.go): the node only needs to have it. modinfo finds a module file or a built-in
  // one without root and loads nothing.
  environment: (_settings, ceph) => ({ cephCsi: ceph?.csi?.chartVersion ?? "" }),
  nodeNeeds: () => ({
    packages: [],
    services: [],
    checks: [
      'modinfo rbd >/dev/null 2>&1 || { echo "layerbench: the kernel $(uname -r) has no rbd module: ceph-csi maps RBD images with it" >&2; exit 1; }',
    ],
  }),
  install: (args, opts) => {
    const ceph = args.ceph?.settings;
    if (!ceph?.csi || !args.ceph) throw new Error("ceph-rbd variants need layerbench:ceph.csi (checked by the config)");
    const csi = new CephCsi(
      "ceph-csi",
      {
        ceph: { ...ceph, csi: ceph.csi },
        userKey: args.ceph.userKey,
        variants: args.variants,
        provider: args.provider,
        serverConnection: args.serverConnection,
      },
      opts,
    );
    return { ready: [csi.ready], storageClass: (variantId) => csi.storageClasses.get(variantId) };
  },
};
