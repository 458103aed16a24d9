import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { K8sSettings } from "../bench/config/k8s-config.js";
import type { NodeNames } from "../bench/config/node-names.js";
import { nthVmSettings } from "../bench/config/vm-settings.js";
import {
  clusterReadyScript,
  K3S_KUBECONFIG_SCRIPT,
  K3S_TOKEN_SCRIPT,
  k3sAgentScript,
  k3sServerScript,
  kubeconfigFor,
} from "../bench/remote/k8s-scripts.js";
import { backendsOf } from "./backends/index.js";
import { BenchVm, type GuestRole, guestImage } from "./bench-vm.js";
import type { NodeNeeds } from "./storage-backend.js";

/**
 * A k3s node: the guest agent, what the storage backends of the variants need on every node, and curl for k3s's
 * installer. A node without Longhorn gets no iSCSI.
 */
export function k3sNodeRole(needs: NodeNeeds[]): GuestRole {
  const role: GuestRole = {
    description: "layerbench k3s node (Longhorn benchmarks). Managed by Pulumi.",
    packages: ["qemu-guest-agent", ...needs.flatMap((need) => need.packages), "curl"],
    services: ["qemu-guest-agent", ...needs.flatMap((need) => need.services)],
    checks: needs.flatMap((need) => need.checks),
  };
  return needs.reduce((withDisks, need) => need.disk?.role(withDisks) ?? withDisks, role);
}

/** A Proxmox node a k3s VM may go to, and how its own commands (the guest's address) reach it. */
export interface ProxmoxNodeAccess {
  name: string;
  connection: pulumi.Input<command.types.input.remote.ConnectionArgs>;
}

export interface K3sClusterArgs {
  /** The stack's node, whose copy of the cloud image is `image`. */
  node: string;
  settings: K8sSettings;
  image: pulumi.Input<string>;
  /** settings.proxmoxNodes, each with its connection: the k3s VMs go to them in turn. */
  proxmoxNodes: ProxmoxNodeAccess[];
  privateKey: pulumi.Input<string>;
  names: NodeNames;
  runId: string;
  /** The measurements before this layer: the nodes boot, install k3s and pull Longhorn only after them. */
  after: pulumi.Resource[];
}

/** A backend's own disks on a k3s VM (Longhorn's), after its boot disk: raw, out of backups and replication. */
function backendDisks(disks: Array<{ sizeGb: number; serial: string }>, datastoreId: string) {
  return disks.map((disk, diskIndex) => ({
    interface: `virtio${diskIndex + 1}`,
    datastoreId,
    size: disk.sizeGb,
    fileFormat: "raw",
    iothread: true,
    discard: "on",
    serial: disk.serial,
    backup: false,
    replicate: false,
  }));
}

/** k3s on guest VMs of its own: the first is the server, the others join it as agents. */
export class K3sCluster extends pulumi.ComponentResource {
  readonly vms: BenchVm[];
  /** Done when every node has joined and is Ready. */
  readonly ready: command.remote.Command;
  /** The server's kubeconfig, pointed at its address (a secret). */
  readonly kubeconfig: pulumi.Output<string>;
  readonly provider: k8s.Provider;
  /** Runs commands on the server, e.g. `k3s kubectl`. */
  readonly serverConnection: pulumi.Output<command.types.input.remote.ConnectionArgs>;
  /** The Kubernetes node name fio pods are pinned to: the server's. */
  readonly benchNodeName: string;

  constructor(name: string, args: K3sClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("layerbench:k8s:K3sCluster", name, {}, opts);
    const { settings } = args;
    const needs = backendsOf(settings.variants).map((backend) => backend.nodeNeeds(settings));
    const role = k3sNodeRole(needs);
    // The Longhorn disk (a backend's own disk) is the VM's second virtio-blk disk: /dev/vdb in the guest.
    const disks = needs.flatMap((need) => (need.disk ? [need.disk] : []));
    const images = this.imagesByNode(name, args);
    this.vms = Array.from({ length: settings.nodeCount }, (_, index) => {
      const vmSettings = nthVmSettings(settings.vm, index, settings.nodeCount);
      const proxmoxNode = args.proxmoxNodes[index % args.proxmoxNodes.length];
      return new BenchVm(
        `${name}-node-${index + 1}`,
        {
          node: proxmoxNode.name,
          settings: vmSettings,
          variants: [],
          role,
          extraDisks: backendDisks(disks, vmSettings.bootDatastore),
          names: args.names,
          runId: args.runId,
          image: images.get(proxmoxNode.name) ?? args.image,
          nodeConnection: proxmoxNode.connection,
          privateKey: args.privateKey,
          storages: [],
          after: args.after,
        },
        { parent: this },
      );
    });
    const [server, ...agents] = this.vms;
    this.benchNodeName = nthVmSettings(settings.vm, 0, settings.nodeCount).name;
    this.serverConnection = server.connection;

    const install = new command.remote.Command(
      `${name}-server`,
      {
        connection: server.connection,
        create: server.address.apply((nodeIp) => k3sServerScript({ version: settings.k3sVersion, nodeIp })),
      },
      { parent: this, dependsOn: [server.ready], customTimeouts: { create: "15m" } },
    );
    // Secrets in stdout: kept encrypted in the state and out of the engine's log.
    const token = new command.remote.Command(
      `${name}-token`,
      { connection: server.connection, create: K3S_TOKEN_SCRIPT, logging: "none" },
      { parent: this, dependsOn: [install], additionalSecretOutputs: ["stdout"] },
    );
    const joins = this.joinAgents(name, { server, agents, token, version: settings.k3sVersion });
    this.ready = new command.remote.Command(
      `${name}-ready`,
      { connection: server.connection, create: clusterReadyScript(settings.nodeCount) },
      { parent: this, dependsOn: [install, ...joins], customTimeouts: { create: "15m" } },
    );
    const rawKubeconfig = new command.remote.Command(
      `${name}-kubeconfig`,
      { connection: server.connection, create: K3S_KUBECONFIG_SCRIPT, logging: "none" },
      { parent: this, dependsOn: [this.ready], additionalSecretOutputs: ["stdout"] },
    );
    this.kubeconfig = pulumi.secret(
      pulumi.all([rawKubeconfig.stdout, server.address]).apply(([text, serverIp]) => kubeconfigFor(text, serverIp)),
    );
    this.provider = new k8s.Provider(
      `${name}-provider`,
      { kubeconfig: this.kubeconfig },
      { parent: this, dependsOn: [this.ready] },
    );
    this.registerOutputs({ kubeconfig: this.kubeconfig });
  }

  /** The image datastore (`local`) is each node's own: a node other than the stack's downloads its own copy. */
  private imagesByNode(name: string, args: K3sClusterArgs): Map<string, pulumi.Input<string>> {
    const { settings } = args;
    return new Map(
      args.proxmoxNodes.map(({ name: node }) => [
        node,
        node === args.node
          ? args.image
          : guestImage(
              `${name}-image-${node}`,
              { node, fileDatastore: settings.vm.fileDatastore, imageUrl: settings.vm.imageUrl, names: args.names },
              { parent: this },
            ).id,
      ]),
    );
  }

  /** Each agent joins the server with its token, once both have booted. */
  private joinAgents(
    name: string,
    {
      server,
      agents,
      token,
      version,
    }: { server: BenchVm; agents: BenchVm[]; token: command.remote.Command; version: string },
  ): command.remote.Command[] {
    return agents.map(
      (agent, index) =>
        new command.remote.Command(
          `${name}-agent-${index + 2}`,
          {
            connection: agent.connection,
            create: pulumi
              .all([server.address, agent.address])
              .apply(([serverIp, nodeIp]) => k3sAgentScript({ version, serverIp, nodeIp })),
            // Secret by additionalSecretOutputs already; said again here so that it cannot leak by a change there.
            stdin: pulumi.secret(token.stdout),
          },
          { parent: this, dependsOn: [agent.ready, token], customTimeouts: { create: "15m" } },
        ),
    );
  }
}
