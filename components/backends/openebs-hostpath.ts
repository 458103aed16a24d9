import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import { rolloutReadyScript } from "../../bench/remote/k8s-scripts.js";
import { type K8sVariant, OPENEBS_BASE_PATH, storageClassName } from "../../bench/variants/k8s-variants.js";
import type { StorageBackend } from "../storage-backend.js";

// OpenEBS's LocalPV hostpath, written as the pattern for a backend installed from a chart: the chart pinned, a
// StorageClass of layerbench's per variant, readiness waited for before the layer's first measurement.

export const OPENEBS_CHART_REPO = "https://openebs.github.io/dynamic-localpv-provisioner";
export const OPENEBS_NAMESPACE = "openebs";
/** The release's name contains the chart's, so the chart names its Deployment after it (templates/_helpers.tpl). */
const RELEASE = "localpv-provisioner";
export const OPENEBS_PROVISIONER = "openebs.io/local";

/** What differs from the chart's defaults (deploy/helm/charts/values.yaml), and why. */
export const OPENEBS_VALUES = {
  // Each variant gets its own StorageClass; the chart's openebs-hostpath would be a second, unmeasured one.
  hostpathClass: { enabled: false },
  // The chart reports usage to Google Analytics by default: a benchmark sends nothing anywhere.
  analytics: { enabled: false },
};

/**
 * A StorageClass as the chart's templates/hostpath-class.yaml writes one: hostpath volumes under BasePath, bound
 * where the pod is scheduled (WaitForFirstConsumer: a local volume exists on one node only).
 */
export function openebsStorageClass(variant: K8sVariant): k8s.storage.v1.StorageClassArgs {
  return {
    metadata: {
      name: storageClassName(variant),
      labels: { "app.kubernetes.io/managed-by": "layerbench" },
      annotations: {
        "openebs.io/cas-type": "local",
        "cas.openebs.io/config": `- name: StorageType\n  value: "hostpath"\n- name: BasePath\n  value: "${OPENEBS_BASE_PATH}"\n`,
      },
    },
    provisioner: OPENEBS_PROVISIONER,
    reclaimPolicy: "Delete",
    volumeBindingMode: "WaitForFirstConsumer",
  };
}

/** OpenEBS LocalPV hostpath: a directory per volume on the node's own disk, no replication, no block layer of its own. */
export const OPENEBS_HOSTPATH: StorageBackend = {
  kind: "openebs-hostpath",
  nodeNeeds: () => ({ packages: [], services: [], checks: [] }),
  environment: (settings) => ({ openebs: settings.openebsVersion }),
  install: (args, opts) => {
    const release = new k8s.helm.v3.Release(
      "openebs-release",
      {
        name: RELEASE,
        chart: "localpv-provisioner",
        version: args.settings.openebsVersion,
        repositoryOpts: { repo: OPENEBS_CHART_REPO },
        namespace: OPENEBS_NAMESPACE,
        createNamespace: true,
        values: OPENEBS_VALUES,
        timeout: 900,
      },
      { ...opts, provider: args.provider, customTimeouts: { create: "20m", delete: "10m" } },
    );
    const ready = new command.remote.Command(
      "openebs-ready",
      {
        connection: args.serverConnection,
        create: rolloutReadyScript("OpenEBS LocalPV", OPENEBS_NAMESPACE, [`deployment/${RELEASE}`]),
      },
      { ...opts, dependsOn: [release], customTimeouts: { create: "20m" } },
    );
    const classes = new Map(
      args.variants.map((variant) => [
        variant.id,
        new k8s.storage.v1.StorageClass(`openebs-sc-${variant.id}`, openebsStorageClass(variant), {
          ...opts,
          provider: args.provider,
          // Deleted before the provisioner, which removes its volumes' directories.
          dependsOn: [release],
        }),
      ]),
    );
    return { ready: [ready], storageClass: (variantId) => classes.get(variantId) };
  },
};
