import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { K8sSettings } from "../bench/config/k8s-config.js";
import type { NodeNames } from "../bench/config/node-names.js";
import { shuffled } from "../bench/core/measurement-order.js";
import { renderFioScript } from "../bench/remote/fio-script.js";
import { POD_FILLING_SCRIPT_FILE, POD_SCRIPT_FILE, POD_VOLUME_PATH } from "../bench/remote/k8s-scripts.js";
import {
  fillsVolume,
  type K8sVariant,
  k8sResultId,
  k8sVariantOptions,
  variantsByKind,
} from "../bench/variants/k8s-variants.js";
import { FORMERLY_AT_ROOT } from "./aliases.js";
import { BACKENDS } from "./backends/index.js";
import { K3sCluster, type ProxmoxNodeAccess } from "./k3s-cluster.js";
import { K8sFioRun } from "./k8s-fio-run.js";
import type { Layer, LayerRun, Measurement } from "./layer.js";
import type { MeasurementChain } from "./measurement-chain.js";
import type { CephAccess, InstalledBackend } from "./storage-backend.js";

export interface K8sLayerArgs {
  node: string;
  settings: K8sSettings;
  /** A new run id asks the k3s VMs' addresses again. */
  runId: string;
  image: pulumi.Input<string>;
  /** Each of settings.proxmoxNodes with its connection. */
  proxmoxNodes: ProxmoxNodeAccess[];
  privateKey: pulumi.Input<string>;
  names: NodeNames;
  /** The measurements of the layers before: the cluster's VMs boot after them, not beside them. */
  after: pulumi.Resource[];
  /** For ceph-rbd variants. */
  ceph?: CephAccess;
}

/** The third layer: the cluster, the storage backends its variants use, and one fio pod per variant in turn. */
export class K8sLayer extends pulumi.ComponentResource implements Layer {
  readonly cluster: K3sCluster;
  /** The storage backends the variants use, installed in the cluster. */
  readonly backends: InstalledBackend[];
  private readonly args: K8sLayerArgs;
  private readonly namespace: k8s.core.v1.Namespace;

  constructor(name: string, args: K8sLayerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("layerbench:layer:K8s", name, {}, opts);
    this.args = args;
    const { settings } = args;
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
        after: args.after,
      },
      child,
    );
    const { provider } = this.cluster;
    this.backends = [...variantsByKind(settings.variants)].map(([kind, variants]) =>
      BACKENDS[kind].install(
        {
          settings,
          variants,
          provider,
          serverConnection: this.cluster.serverConnection,
          ...(args.ceph && { ceph: args.ceph }),
        },
        child,
      ),
    );
    this.namespace = new k8s.core.v1.Namespace(
      "k8s-namespace",
      { metadata: { name: settings.namespace } },
      { ...child, provider },
    );
    this.registerOutputs({ kubeconfig: this.cluster.kubeconfig });
  }

  /** One pod per variant on a volume of its own, each after the chain's last step. */
  measure(chain: MeasurementChain, run: LayerRun): Measurement[] {
    const { settings } = this.args;
    const { provider } = this.cluster;
    const child = { parent: this, ...FORMERLY_AT_ROOT };
    // A backend starts (Longhorn pulls images, starts pods on every node) before the first measurement of the
    // layer, even one of another backend, which would otherwise share the node with it.
    chain.alsoWaitFor(...this.backends.flatMap((backend) => backend.ready));
    const waitBefore = this.backends.flatMap((backend) => backend.beforeEachMeasurement ?? []);
    // The same script as on the host and in the VM, on the volume's mount point; for a thin volume, filling it first.
    const podScript = (fill: boolean) =>
      renderFioScript({
        profile: run.profile,
        repeat: run.repeat,
        target: { kind: "directory", path: POD_VOLUME_PATH, fill },
      });
    const script = new k8s.core.v1.ConfigMap(
      "k8s-fio-script",
      {
        metadata: { name: "layerbench-fio", namespace: this.namespace.metadata.name },
        data: {
          [POD_SCRIPT_FILE]: podScript(false),
          ...(settings.variants.some(fillsVolume) && { [POD_FILLING_SCRIPT_FILE]: podScript(true) }),
        },
      },
      { ...child, provider },
    );
    // In the seed's order (salted: not the VM layer's again), returned in the order given.
    const ordered = run.seed === undefined ? settings.variants : shuffled(settings.variants, run.seed + 2);
    const measured = new Map(
      ordered.map((variant) => [variant.id, this.measureVariant(variant, chain, run, { script, waitBefore })]),
    );
    return settings.variants.flatMap((variant) => measured.get(variant.id) ?? []);
  }

  /** One variant's pod on its volume, after the chain's last step. */
  private measureVariant(
    variant: K8sVariant,
    chain: MeasurementChain,
    run: LayerRun,
    { script, waitBefore }: { script: k8s.core.v1.ConfigMap; waitBefore: string[] },
  ): Measurement {
    const { settings } = this.args;
    const { provider } = this.cluster;
    const child = { parent: this, ...FORMERLY_AT_ROOT };
    const storageClass = this.backends.map((backend) => backend.storageClass(variant.id)).find(Boolean);
    const pod = new K8sFioRun(
      `fio-k8s-${variant.id}`,
      {
        variant,
        namespace: settings.namespace,
        scriptConfigMap: script.metadata.name,
        scriptFile: fillsVolume(variant) ? POD_FILLING_SCRIPT_FILE : POD_SCRIPT_FILE,
        image: settings.fioImage,
        volumeSizeGb: settings.volumeSizeGb,
        nodeName: this.cluster.benchNodeName,
        runId: run.runId,
        // Pulling the image and installing fio come on top of the workloads.
        timeoutMinutes: run.timeoutMinutes + 15,
        provider,
        serverConnection: this.cluster.serverConnection,
        waitBefore,
        after: [...(storageClass ? [storageClass] : []), script, ...chain.previous()],
      },
      child,
    );
    chain.done(k8sResultId(variant.id), pod.log);
    return {
      spec: {
        id: k8sResultId(variant.id),
        layer: "k8s",
        options: k8sVariantOptions(
          variant,
          settings.proxmoxNodes.map((node) => node.name),
          this.args.ceph?.settings,
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
          ...BACKENDS[variant.kind].environment(settings, this.args.ceph?.settings),
        },
      },
      output: pod.output,
    };
  }
}
