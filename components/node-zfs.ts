import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { NodeNames } from "../bench/config/node-names.js";
import { zfsGroupKey } from "../bench/config/node-names.js";
import type { Baseline } from "../bench/config/stack-config.js";
import { printedTarget, type ScriptTarget } from "../bench/remote/fio-script.js";
import {
  baselineScript,
  groupDatasetDeleteScript,
  groupDatasetScript,
  stackDatasetDeleteScript,
  stackDatasetScript,
} from "../bench/remote/zfs-scripts.js";
import { formatFioSize } from "../bench/util/size.js";
import type { ZfsOptions } from "../bench/variants/vm-variants.js";

export interface NodeZfsArgs {
  node: string;
  connection: pulumi.Input<command.types.input.remote.ConnectionArgs>;
  /** The configured parent dataset (e.g. rpool/layerbench), shared by stacks; each stack has its own child. */
  dataset: string;
  names: NodeNames;
  /** One child dataset and Proxmox storage per set of ZFS properties the VM disks need. */
  groups: ZfsOptions[];
  baseline: Baseline;
}

/** The node's ZFS side: the stack's dataset, one dataset and Proxmox ZFS storage per ZFS group, and the baseline. */
export class NodeZfs extends pulumi.ComponentResource {
  /** Proxmox storages by ZFS group key. */
  readonly storages: Map<string, proxmoxve.storage.Zfspool>;
  readonly baselineTarget: pulumi.Output<ScriptTarget>;
  readonly baseline: command.remote.Command;

  constructor(name: string, args: NodeZfsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("layerbench:proxmox:NodeZfs", name, {}, opts);
    const { names } = args;
    const stackDataset = new command.remote.Command(
      `${name}-dataset`,
      {
        connection: args.connection,
        create: stackDatasetScript(args.dataset, names.stackDataset),
        delete: stackDatasetDeleteScript(args.dataset, names.stackDataset),
      },
      { parent: this, deleteBeforeReplace: true, replaceOnChanges: ["create"] },
    );
    // One resource per group: adding or removing a group never touches the datasets of the others, which hold VM disks.
    this.storages = new Map(
      args.groups.map((group) => {
        const key = zfsGroupKey(group);
        const dataset = new command.remote.Command(
          `${name}-group-${key}`,
          {
            connection: args.connection,
            create: groupDatasetScript(names.groupDataset(group), group),
            delete: groupDatasetDeleteScript(names.groupDataset(group)),
          },
          { parent: this, dependsOn: [stackDataset], deleteBeforeReplace: true, replaceOnChanges: ["create"] },
        );
        const storage = new proxmoxve.storage.Zfspool(
          `${name}-${key}`,
          {
            resourceId: names.storageId(group),
            zfsPool: names.groupDataset(group),
            blocksize: formatFioSize(group.volblocksize),
            contents: ["images"],
            nodes: [args.node],
            thinProvision: true,
          },
          { parent: this, dependsOn: [dataset] },
        );
        return [key, storage];
      }),
    );
    const baselineName = names.baseline(args.baseline.kind);
    this.baseline = new command.remote.Command(
      `${name}-baseline`,
      {
        connection: args.connection,
        create: baselineScript(baselineName, args.baseline),
        delete: `zfs destroy '${baselineName}'`,
      },
      { parent: this, dependsOn: [stackDataset], deleteBeforeReplace: true, replaceOnChanges: ["create"] },
    );
    const kind = args.baseline.kind;
    this.baselineTarget = this.baseline.stdout.apply((stdout) =>
      printedTarget(stdout, kind === "zvol" ? "device" : "directory"),
    );
    this.registerOutputs({ baselineTarget: this.baselineTarget });
  }
}
