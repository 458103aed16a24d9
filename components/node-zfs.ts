import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { ScriptTarget } from "../bench/fio-script.js";
import type { NodeNames } from "../bench/node-names.js";
import { zfsGroupKey } from "../bench/node-names.js";
import { formatFioSize } from "../bench/size.js";
import type { Baseline } from "../bench/stack-config.js";
import type { ZfsOptions } from "../bench/vm-variants.js";

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

const FAIL = `fail() { echo "layerbench: $*" >&2; exit 2; }`;

/** The stack's own dataset under the parent; idempotent, so re-running after a partial failure converges. */
export function stackDatasetScript(parent: string, stackDataset: string): string {
  const pool = parent.split("/")[0];
  return [
    "set -eu",
    FAIL,
    `zfs list -H -o name '${pool}' >/dev/null 2>&1 || fail "no ZFS pool '${pool}' on $(hostname): set layerbench:dataset to a dataset of an existing pool"`,
    `zfs list -H -o name '${stackDataset}' >/dev/null 2>&1 || zfs create -p '${stackDataset}'`,
    "",
  ].join("\n");
}

export function stackDatasetDeleteScript(parent: string, stackDataset: string): string {
  return [
    // Not recursive: a child this stack did not make stays, and so does the dataset holding it.
    `zfs destroy '${stackDataset}' 2>/dev/null || echo "layerbench: ${stackDataset} is not empty, left in place" >&2`,
    // The parent is shared by every stack: it goes with the last one.
    `zfs destroy '${parent}' 2>/dev/null || true`,
    "",
  ].join("\n");
}

/** One ZFS group's dataset, whose properties the zvols of its Proxmox storage inherit. */
export function groupDatasetScript(dataset: string, group: ZfsOptions): string {
  return [
    "set -eu",
    `zfs list -H -o name '${dataset}' >/dev/null 2>&1 || zfs create '${dataset}'`,
    `zfs set compression=${group.compression} sync=${group.sync} '${dataset}'`,
    "",
  ].join("\n");
}

export function groupDatasetDeleteScript(dataset: string): string {
  return `zfs destroy -r '${dataset}' 2>/dev/null || true\n`;
}

/** Seconds to wait for a new zvol's device node: what pve-storage's ZFSPoolPlugin.pm waits (zfs_wait_for_zvol_link). */
export const ZVOL_DEVICE_TIMEOUT_SEC = 10;

/** Creates the baseline zvol or dataset and prints where fio goes: the device, or the mountpoint. */
export function baselineScript(name: string, baseline: Baseline): string {
  const props = baseline.kind === "zvol" ? `-o compression=${baseline.compression} -o sync=${baseline.sync}` : `-o recordsize=${baseline.recordsize} -o compression=${baseline.compression} -o sync=${baseline.sync}`;
  const create =
    baseline.kind === "zvol"
      ? `zfs create -s -V ${baseline.sizeGb}G -b ${formatFioSize(baseline.volblocksize)} ${props} '${name}'`
      : `zfs create ${props} '${name}'`;
  const device = `/dev/zvol/${name}`;
  // udev makes the device link asynchronously after `zfs create -V`: poll for it as Proxmox does.
  const report =
    baseline.kind === "zvol"
      ? [
          "udevadm settle || true",
          "waited=0",
          `until [ -b '${device}' ]; do`,
          `  [ "$waited" -ge ${ZVOL_DEVICE_TIMEOUT_SEC} ] && fail "${device} did not appear within ${ZVOL_DEVICE_TIMEOUT_SEC} s of zfs create"`,
          "  sleep 1",
          "  waited=$((waited + 1))",
          "done",
          `echo '${device}'`,
        ]
      : [`zfs get -H -o value mountpoint '${name}'`];
  return ["set -eu", FAIL, `zfs list -H -o name '${name}' >/dev/null 2>&1 || ${create}`, ...report, ""].join("\n");
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
      { connection: args.connection, create: stackDatasetScript(args.dataset, names.stackDataset), delete: stackDatasetDeleteScript(args.dataset, names.stackDataset) },
      { parent: this, deleteBeforeReplace: true, replaceOnChanges: ["create"] },
    );
    // One resource per group: adding or removing a group never touches the datasets of the others, which hold VM disks.
    this.storages = new Map(
      args.groups.map((group) => {
        const key = zfsGroupKey(group);
        const dataset = new command.remote.Command(
          `${name}-group-${key}`,
          { connection: args.connection, create: groupDatasetScript(names.groupDataset(group), group), delete: groupDatasetDeleteScript(names.groupDataset(group)) },
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
      { connection: args.connection, create: baselineScript(baselineName, args.baseline), delete: `zfs destroy '${baselineName}'` },
      { parent: this, dependsOn: [stackDataset], deleteBeforeReplace: true, replaceOnChanges: ["create"] },
    );
    const kind = args.baseline.kind;
    this.baselineTarget = this.baseline.stdout.apply((stdout): ScriptTarget => {
      const path = stdout.trim().split("\n").pop() ?? "";
      return kind === "zvol" ? { kind: "device", path } : { kind: "directory", path };
    });
    this.registerOutputs({ baselineTarget: this.baselineTarget });
  }
}
