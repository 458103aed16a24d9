import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { documentFromScriptOutputs, renderFioScript, type ScriptTarget } from "../bench/fio-script.js";
import { nodeNames } from "../bench/node-names.js";
import { NODE_FIO_SCRIPT, releaseDeviceScript, releaseVmDiskScript } from "../bench/node-scripts.js";
import type { ResultsDocument, VariantSpec } from "../bench/results.js";
import type { Baseline, BenchConfig } from "../bench/stack-config.js";
import { vmGroups } from "../bench/vm-groups.js";
import { nthVmSettings } from "../bench/vm-settings.js";
import { diskSerial, diskSlots, variantOptions } from "../bench/vm-variants.js";
import { BenchVm, FIO_GUEST } from "./bench-vm.js";
import { zfsGroups } from "./disks.js";
import { FioRun } from "./fio-run.js";
import { createK8sLayer } from "./k8s-layer.js";
import { NodeZfs } from "./node-zfs.js";

export interface Bench {
  results: pulumi.Output<ResultsDocument>;
  vmAddresses: pulumi.Output<string>[];
  fioRuns: FioRun[];
  /** The k3s cluster's kubeconfig (a secret), when the Kubernetes layer is enabled. */
  kubeconfig?: pulumi.Output<string>;
}

function baselineSpec(baseline: Baseline): VariantSpec {
  const { kind, ...options } = baseline;
  return { id: `host-${kind}`, layer: "host", options: { kind, ...options }, baseline: true };
}

/** Declares the host and VM layers and their benchmarks, one after the other; `results` gathers every run. */
export function createBench(config: BenchConfig, sshPrivateKey: pulumi.Input<string>, stack: { project: string; stack: string }): Bench {
  const nodeConnection: pulumi.Output<command.types.input.remote.ConnectionArgs> = pulumi.secret(
    pulumi.output(sshPrivateKey).apply((privateKey) => ({ host: config.nodeAddress, user: config.sshUser, privateKey })),
  );
  const names = nodeNames(config.dataset, stack.stack);
  const zfs = new NodeZfs("node-zfs", {
    node: config.node,
    connection: nodeConnection,
    dataset: config.dataset,
    names,
    groups: zfsGroups(config.variants),
    baseline: config.baseline,
  });
  // A stock Proxmox VE node has no fio.
  const nodeFio = new command.remote.Command("node-fio", { connection: nodeConnection, create: NODE_FIO_SCRIPT });
  // One copy of the cloud image for every VM of the stack.
  const image = new proxmoxve.download.File("guest-image", {
    nodeName: config.node,
    datastoreId: config.vm.fileDatastore,
    contentType: "import",
    url: config.vm.imageUrl,
    fileName: names.imageFile(config.vm.imageUrl),
    overwrite: false,
  });
  // More variants than one VM has disk slots for: several VMs, numbered from vmId, measured one after the other.
  const vms = vmGroups(config.variants).map((variants, index, groups) => {
    const settings = nthVmSettings(config.vm, index, groups.length);
    return {
    variants,
    settings,
    vm: new BenchVm(groups.length > 1 ? `bench-vm-${index + 1}` : "bench-vm", {
      node: config.node,
      settings,
      variants,
      role: FIO_GUEST,
      names,
      runId: config.runId,
      image: image.id,
      nodeConnection,
      privateKey: sshPrivateKey,
      storages: [...zfs.storages.values()],
    }),
    };
  });

  const { profile, repeat, runId } = config;
  const timeoutMinutes = Math.ceil((profile.workloads.length * repeat * (profile.runtimeSec + 120)) / 60) + 10;
  const script = (target: ScriptTarget, sudo: boolean) => renderFioScript({ profile, repeat, target, sudo });
  const plan: Array<{ name: string; spec: VariantSpec; connection: pulumi.Input<command.types.input.remote.ConnectionArgs>; script: pulumi.Input<string>; after: pulumi.Resource[]; release: pulumi.Input<string> }> = [
    // The baseline waits for the VMs too: a guest booting and installing packages would load the same disks.
    {
      name: "fio-host",
      spec: baselineSpec(config.baseline),
      connection: nodeConnection,
      script: zfs.baselineTarget.apply((target) => script(target, false)),
      after: [zfs.baseline, nodeFio, ...vms.map(({ vm }) => vm.ready)],
      // A dataset baseline's files are removed by the fio script itself.
      release: zfs.baselineTarget.apply((target) => (target.kind === "device" ? releaseDeviceScript(target.path) : "true")),
    },
    ...vms.flatMap(({ variants, vm, settings }) => {
      const slots = diskSlots(variants);
      return variants.map((variant) => ({
        name: `fio-vm-${variant.id}`,
        spec: { id: variant.id, layer: "vm" as const, options: variantOptions(variant), baseline: false },
        connection: vm.connection,
        script: script({ kind: "serial", serial: diskSerial(variant) }, true),
        after: [vm.ready],
        release: releaseVmDiskScript(settings.vmId, slots.get(variant.id) ?? ""),
      }));
    }),
  ];
  // Measurements never overlap: each fio run waits for the one before it (and for the release of what that one
  // wrote), across layers.
  const fioRuns: FioRun[] = [];
  let previous: pulumi.Resource | undefined;
  for (const step of plan) {
    const run = new FioRun(step.name, {
      connection: step.connection,
      script: step.script,
      runId,
      timeoutMinutes,
      after: previous ? [...step.after, previous] : step.after,
      release: { connection: nodeConnection, script: step.release },
    });
    fioRuns.push(run);
    previous = run.done;
  }
  // The Kubernetes layer comes last, after every VM measurement.
  const k8sLayer = config.k8s
    ? createK8sLayer({
        node: config.node,
        settings: config.k8s,
        profile,
        repeat,
        runId,
        timeoutMinutes,
        image: image.id,
        nodeConnection,
        privateKey: sshPrivateKey,
        names,
        after: fioRuns[fioRuns.length - 1].done,
      })
    : undefined;
  const measured = [
    ...plan.map((step, index) => ({ spec: step.spec, output: fioRuns[index].output })),
    ...(k8sLayer?.runs ?? []).map(({ spec, run }) => ({ spec, output: run.output })),
  ];
  const source = { kind: "pulumi" as const, project: stack.project, stack: stack.stack, runId };
  const results = pulumi.all(measured.map((entry) => entry.output)).apply((outputs) => {
    const document = documentFromScriptOutputs(source, profile, repeat, outputs.map((output, index) => ({ spec: measured[index].spec, output })));
    for (const failure of document.failures ?? []) {
      void pulumi.log.warn(`fio failed on ${failure.variant}/${failure.workload} #${failure.attempt}: ${failure.message}`);
    }
    return document;
  });
  return { results, vmAddresses: vms.map(({ vm }) => vm.address), fioRuns, ...(k8sLayer && { kubeconfig: k8sLayer.cluster.kubeconfig }) };
}
