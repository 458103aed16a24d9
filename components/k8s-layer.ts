import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { NodeNames } from "../bench/config/node-names.js";
import type { K8sSettings } from "../bench/config/stack-config.js";
import type { Profile } from "../bench/core/profiles.js";
import type { VariantSpec } from "../bench/core/results.js";
import { renderFioScript } from "../bench/remote/fio-script.js";
import { POD_SCRIPT_FILE, POD_VOLUME_PATH } from "../bench/remote/k8s-scripts.js";
import { k8sResultId, k8sVariantOptions } from "../bench/variants/k8s-variants.js";
import { FORMERLY_AT_ROOT } from "./aliases.js";
import { K3sCluster, type ProxmoxNodeAccess } from "./k3s-cluster.js";
import { K8sFioRun } from "./k8s-fio-run.js";
import { Longhorn } from "./longhorn.js";
import type { MeasurementChain } from "./measurement-chain.js";

export interface K8sLayerArgs {
  node: string;
  settings: K8sSettings;
  profile: Profile;
  repeat: number;
  runId: string;
  timeoutMinutes: number;
  image: pulumi.Input<string>;
  /** Each of settings.proxmoxNodes with its connection. */
  proxmoxNodes: ProxmoxNodeAccess[];
  privateKey: pulumi.Input<string>;
  names: NodeNames;
  /** The stack's measurements: the cluster's VMs boot after the layers before are measured, the pods run in turn. */
  chain: MeasurementChain;
}

/** The third layer: the cluster, Longhorn when a variant uses it, and one fio pod per variant, one after the other. */
export class K8sLayer extends pulumi.ComponentResource {
  readonly cluster: K3sCluster;
  readonly longhorn?: Longhorn;
  readonly runs: Array<{ spec: VariantSpec; run: K8sFioRun }> = [];

  constructor(name: string, args: K8sLayerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("layerbench:layer:K8s", name, {}, opts);
    const { settings, chain } = args;
    const child = { parent: this, ...FORMERLY_AT_ROOT };
    this.cluster = new K3sCluster(
      "k3s",
      {
        node: args.node,
        settings,
        image: args.image,
        proxmoxNodes: args.proxmoxNodes,
        privateKey: args.privateKey,
        names: args.names,
        runId: args.runId,
        after: chain.previous(),
      },
      child,
    );
    const { provider } = this.cluster;
    if (settings.variants.some((variant) => variant.kind === "longhorn")) {
      this.longhorn = new Longhorn(
        "longhorn",
        {
          version: settings.longhornVersion,
          variants: settings.variants,
          nodeCount: settings.nodeCount,
          provider,
          serverConnection: this.cluster.serverConnection,
        },
        child,
      );
      // Longhorn starts (pulls images, starts pods on every node) before the first measurement of the layer,
      // even a local-path one, which would otherwise share the node with it.
      chain.alsoWaitFor(this.longhorn.ready);
    }
    const namespace = new k8s.core.v1.Namespace(
      "k8s-namespace",
      { metadata: { name: settings.namespace } },
      { ...child, provider },
    );
    // The same script as on the host and in the VM, on the volume's mount point.
    const script = new k8s.core.v1.ConfigMap(
      "k8s-fio-script",
      {
        metadata: { name: "layerbench-fio", namespace: namespace.metadata.name },
        data: {
          [POD_SCRIPT_FILE]: renderFioScript({
            profile: args.profile,
            repeat: args.repeat,
            target: { kind: "directory", path: POD_VOLUME_PATH },
          }),
        },
      },
      { ...child, provider },
    );
    for (const variant of settings.variants) {
      const storageClass = this.longhorn?.storageClasses.get(variant.id);
      const run = new K8sFioRun(
        `fio-k8s-${variant.id}`,
        {
          variant,
          namespace: settings.namespace,
          scriptConfigMap: script.metadata.name,
          image: settings.fioImage,
          volumeSizeGb: settings.volumeSizeGb,
          nodeName: this.cluster.benchNodeName,
          runId: args.runId,
          // Pulling the image and installing fio come on top of the workloads.
          timeoutMinutes: args.timeoutMinutes + 15,
          provider,
          serverConnection: this.cluster.serverConnection,
          waitForLonghorn: this.longhorn !== undefined,
          after: [...(storageClass ? [storageClass] : []), script, ...chain.previous()],
        },
        child,
      );
      chain.done(run.log);
      this.runs.push({
        spec: {
          id: k8sResultId(variant.id),
          layer: "k8s",
          options: k8sVariantOptions(
            variant,
            settings.proxmoxNodes.map((node) => node.name),
          ),
          baseline: false,
          // The pod is pinned to the server, the first k3s VM, on the first of the Proxmox nodes.
          proxmoxNode: settings.proxmoxNodes[0].name,
          // fio's pod runs on a k3s VM: its memory is the page cache a buffered workload meets.
          memoryBytes: settings.vm.memoryMb * 1024 ** 2,
          // The pod's script adds its kernel (the k3s VM's) and OS (the fio image's).
          environment: {
            image: settings.fioImage,
            k3s: settings.k3sVersion,
            ...(variant.kind === "longhorn" && { longhorn: settings.longhornVersion }),
          },
        },
        run,
      });
    }
    this.registerOutputs({ kubeconfig: this.cluster.kubeconfig });
  }
}
