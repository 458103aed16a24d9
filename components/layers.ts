import type * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { nodeNames, zfsGroups } from "../bench/config/node-names.js";
import type { BenchConfig } from "../bench/config/stack-config.js";
import { secondsPerRun } from "../bench/core/profiles.js";
import type { ResultsDocument } from "../bench/core/results.js";
import { documentFromScriptOutputs } from "../bench/remote/fio-script.js";
import { userStoragesUsed } from "../bench/storage/placement.js";
import { renameDesignIds } from "../bench/variants/design.js";
import { k8sResultId } from "../bench/variants/k8s-variants.js";
import { HostLayer } from "./host-layer.js";
import { K8sLayer } from "./k8s-layer.js";
import type { LayerRun, Measurement } from "./layer.js";
import { MeasurementChain } from "./measurement-chain.js";
import { VmLayer } from "./vm-layer.js";

export interface Layers {
  host: HostLayer;
  vm: VmLayer;
  k8s?: K8sLayer;
  /** Every measurement's runs and failures, in the order they ran. */
  results: pulumi.Output<ResultsDocument>;
  vmAddresses: pulumi.Output<string>[];
  /** The k3s cluster's kubeconfig (a secret), when the Kubernetes layer is enabled. */
  kubeconfig?: pulumi.Output<string>;
}

/** The measurements' outputs as one results document, the designs recorded, each failed run warned of. */
function resultsDocument(
  config: BenchConfig,
  stack: { project: string; stack: string },
  measurements: Measurement[],
  sequence: string[],
): pulumi.Output<ResultsDocument> {
  const { profile, repeat, runId } = config;
  const source = { kind: "pulumi" as const, project: stack.project, stack: stack.stack, runId };
  return pulumi.all(measurements.map((entry) => entry.output)).apply((outputs) => {
    const document = documentFromScriptOutputs(
      source,
      profile,
      repeat,
      outputs.map((output, index) => ({ spec: measurements[index].spec, output })),
    );
    const designs = [
      ...(config.design ? [config.design] : []),
      ...(config.k8s?.design ? [renameDesignIds(config.k8s.design, k8sResultId)] : []),
    ];
    if (designs.length > 0) document.designs = designs;
    document.order = { ...(config.orderSeed !== undefined && { seed: config.orderSeed }), sequence };
    for (const failure of document.failures ?? []) {
      void pulumi.log.warn(
        `fio failed on ${failure.variant}/${failure.workload} #${failure.attempt}: ${failure.message}`,
      );
    }
    return document;
  });
}

/** What every layer's measurements share: the profile, the run id, the time a script may take, the order's seed. */
function layerRun(config: BenchConfig): LayerRun {
  const { profile, repeat, runId } = config;
  return {
    profile,
    repeat,
    runId,
    timeoutMinutes: Math.ceil((profile.workloads.length * repeat * (secondsPerRun(profile) + 120)) / 60) + 10,
    ...(config.orderSeed !== undefined && { seed: config.orderSeed }),
  };
}

/** Declares the host, VM and Kubernetes layers and their measurements, one after the other. */
export function createLayers(
  config: BenchConfig,
  sshPrivateKey: pulumi.Input<string>,
  stack: { project: string; stack: string },
  /** The cephx key of ceph-csi's user (a secret): needed by ceph-rbd variants only. */
  cephUserKey?: pulumi.Input<string>,
): Layers {
  const connectionTo = (host: string): pulumi.Output<command.types.input.remote.ConnectionArgs> =>
    pulumi.secret(pulumi.output(sshPrivateKey).apply((privateKey) => ({ host, user: config.sshUser, privateKey })));
  const nodeConnection = connectionTo(config.nodeAddress);
  const names = nodeNames(config.dataset, stack.stack);
  const { runId } = config;
  const host = new HostLayer("host", {
    node: config.node,
    connection: nodeConnection,
    dataset: config.dataset,
    names,
    groups: zfsGroups(config.variants),
    baseline: config.baseline,
    fileDatastore: config.vm.fileDatastore,
    imageUrl: config.vm.imageUrl,
    ...(config.ceph && { ceph: config.ceph }),
    userStorages: userStoragesUsed(config.variants, {
      storages: config.storages,
      ...(config.ceph && { ceph: config.ceph }),
    }),
    volumeOwner: config.vm.vmId,
  });
  const vm = new VmLayer("vm", {
    node: config.node,
    settings: config.vm,
    variants: config.variants,
    names,
    runId,
    image: host.image.id,
    nodeConnection,
    privateKey: sshPrivateKey,
    storages: [...host.zfs.storages.values()],
    userStorages: config.storages,
    ...(config.ceph && { ceph: config.ceph }),
  });
  const chain = new MeasurementChain();
  const run = layerRun(config);
  // The baseline waits for the guests too: a guest booting and installing packages would load the same disks.
  chain.alsoWaitFor(...vm.ready);
  const measurements = [
    ...host.measure(chain, run),
    ...vm.measure(chain, { ...run, baselineAgain: (pass) => host.measureBaselineAgain(chain, run, pass) }),
  ];
  // Declared once the layers below are measured: its VMs boot after their last measurement, not beside it.
  const k8s = config.k8s
    ? new K8sLayer("k8s", {
        node: config.node,
        settings: config.k8s,
        runId,
        image: host.image.id,
        proxmoxNodes: config.k8s.proxmoxNodes.map(({ name, address }) => ({
          name,
          connection: name === config.node ? nodeConnection : connectionTo(address),
        })),
        privateKey: sshPrivateKey,
        names,
        after: chain.previous(),
        ...(config.ceph && cephUserKey && { ceph: { settings: config.ceph, userKey: cephUserKey } }),
      })
    : undefined;
  if (k8s) measurements.push(...k8s.measure(chain, run));
  const results = resultsDocument(config, stack, measurements, chain.sequence);
  return {
    host,
    vm,
    ...(k8s && { k8s }),
    results,
    vmAddresses: vm.vms.map(({ vm: guest }) => guest.address),
    ...(k8s && { kubeconfig: k8s.cluster.kubeconfig }),
  };
}
