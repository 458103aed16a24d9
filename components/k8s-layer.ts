import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { renderFioScript } from "../bench/fio-script.js";
import { POD_SCRIPT_FILE, POD_VOLUME_PATH } from "../bench/k8s-scripts.js";
import { k8sVariantOptions } from "../bench/k8s-variants.js";
import type { Profile } from "../bench/profiles.js";
import type { VariantSpec } from "../bench/results.js";
import type { NodeNames } from "../bench/node-names.js";
import type { K8sSettings } from "../bench/stack-config.js";
import { K3sCluster } from "./k3s-cluster.js";
import { K8sFioRun } from "./k8s-fio-run.js";
import { Longhorn } from "./longhorn.js";

export interface K8sLayerArgs {
  node: string;
  settings: K8sSettings;
  profile: Profile;
  repeat: number;
  runId: string;
  timeoutMinutes: number;
  image: pulumi.Input<string>;
  nodeConnection: pulumi.Input<command.types.input.remote.ConnectionArgs>;
  privateKey: pulumi.Input<string>;
  names: NodeNames;
  /** The last measurement of the layers before: the first pod waits for it. */
  after: pulumi.Resource;
}

export interface K8sLayer {
  cluster: K3sCluster;
  longhorn?: Longhorn;
  runs: Array<{ spec: VariantSpec; run: K8sFioRun }>;
}

/** The third layer: the cluster, Longhorn when a variant uses it, and one fio pod per variant, one after the other. */
export function createK8sLayer(args: K8sLayerArgs): K8sLayer {
  const { settings } = args;
  const cluster = new K3sCluster("k3s", {
    node: args.node,
    settings,
    image: args.image,
    nodeConnection: args.nodeConnection,
    privateKey: args.privateKey,
    names: args.names,
    runId: args.runId,
    after: [args.after],
  });
  const provider = cluster.provider;
  const longhorn = settings.variants.some((variant) => variant.kind === "longhorn")
    ? new Longhorn("longhorn", { version: settings.longhornVersion, variants: settings.variants, nodeCount: settings.nodeCount, provider, serverConnection: cluster.serverConnection })
    : undefined;
  const namespace = new k8s.core.v1.Namespace("k8s-namespace", { metadata: { name: settings.namespace } }, { provider });
  // The same script as on the host and in the VM, on the volume's mount point.
  const script = new k8s.core.v1.ConfigMap(
    "k8s-fio-script",
    {
      metadata: { name: "layerbench-fio", namespace: namespace.metadata.name },
      data: { [POD_SCRIPT_FILE]: renderFioScript({ profile: args.profile, repeat: args.repeat, target: { kind: "directory", path: POD_VOLUME_PATH } }) },
    },
    { provider },
  );
  const runs: K8sLayer["runs"] = [];
  // Longhorn starts (pulls images, starts pods on every node) before the first measurement of the layer, even a
  // local-path one, which would otherwise share the node with it.
  let previous: pulumi.Resource[] = [args.after, ...(longhorn ? [longhorn.ready] : [])];
  for (const variant of settings.variants) {
    const storageClass = longhorn?.storageClasses.get(variant.id);
    const run = new K8sFioRun(`fio-k8s-${variant.id}`, {
      variant,
      namespace: settings.namespace,
      scriptConfigMap: script.metadata.name,
      image: settings.fioImage,
      volumeSizeGb: settings.volumeSizeGb,
      nodeName: cluster.benchNodeName,
      runId: args.runId,
      // Pulling the image and installing fio come on top of the workloads.
      timeoutMinutes: args.timeoutMinutes + 15,
      provider,
      serverConnection: cluster.serverConnection,
      waitForLonghorn: longhorn !== undefined,
      after: [...(storageClass ? [storageClass] : []), script, ...previous],
    });
    runs.push({ spec: { id: `k8s-${variant.id}`, layer: "k8s", options: k8sVariantOptions(variant), baseline: false }, run });
    previous = [run.log];
  }
  return { cluster, ...(longhorn && { longhorn }), runs };
}
