import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { rolloutReadyScript, storageClassExistsScript } from "../../bench/remote/k8s-scripts.js";
import type { UserStorageClass } from "../../bench/variants/k8s-variants.js";
import type { StorageBackend } from "../storage-backend.js";

// `kind: storageclass`: any StorageClass of the user's, as kubestr measures one. Its CSI driver or provisioner
// comes from the chart the variant names; the class from its manifest, or from the chart itself. Most CSI drivers
// then need configuration, not code.

/** The chart of a variant, pinned as given; its namespace made for it. */
function chartRelease(
  variant: UserStorageClass & { chart: NonNullable<UserStorageClass["chart"]> },
  provider: k8s.Provider,
  opts: pulumi.ComponentResourceOptions,
): k8s.helm.v3.Release {
  const { chart } = variant;
  return new k8s.helm.v3.Release(
    `storageclass-${variant.id}-release`,
    {
      name: chart.name,
      chart: chart.name,
      version: chart.version,
      repositoryOpts: { repo: chart.repo },
      namespace: chart.namespace,
      createNamespace: true,
      values: chart.values,
      timeout: 900,
    },
    { ...opts, provider, customTimeouts: { create: "20m", delete: "10m" } },
  );
}

/** A user's StorageClass: its chart installed and rolled out, its manifest applied, the class there before fio. */
export const USER_STORAGE_CLASS: StorageBackend = {
  kind: "storageclass",
  nodeNeeds: () => ({ packages: [], services: [], checks: [] }),
  environment: () => ({}),
  install: (args, opts) => {
    // Each variant's class is ready when its check has passed: the check stands for the class.
    const classes = new Map<string, pulumi.Resource>();
    for (const variant of args.variants) {
      if (variant.kind !== "storageclass") continue;
      const release = variant.chart && chartRelease({ ...variant, chart: variant.chart }, args.provider, opts);
      const made =
        variant.manifest &&
        new k8s.storage.v1.StorageClass(
          `storageclass-${variant.id}`,
          {
            ...(variant.manifest as k8s.storage.v1.StorageClassArgs),
            metadata: {
              ...variant.manifest.metadata,
              labels: {
                ...(variant.manifest.metadata.labels as Record<string, string> | undefined),
                "app.kubernetes.io/managed-by": "layerbench",
              },
            },
          },
          // Deleted before the driver that deletes its volumes.
          { ...opts, provider: args.provider, ...(release && { dependsOn: [release] }) },
        );
      // The chart's workloads rolled out, then the class exists: a class the chart was to make and did not is
      // named here, before any measurement, not by a claim that stays Pending.
      const check = new command.remote.Command(
        `storageclass-${variant.id}-ready`,
        {
          connection: args.serverConnection,
          create: [
            ...(variant.chart && variant.chart.waitFor.length > 0
              ? [rolloutReadyScript(`chart ${variant.chart.name}`, variant.chart.namespace, variant.chart.waitFor)]
              : []),
            storageClassExistsScript(variant.storageClass),
          ].join("\n"),
        },
        {
          ...opts,
          dependsOn: [...(release ? [release] : []), ...(made ? [made] : [])],
          customTimeouts: { create: "20m" },
        },
      );
      classes.set(variant.id, check);
    }
    return { ready: [...classes.values()], storageClass: (variantId) => classes.get(variantId) };
  },
};
