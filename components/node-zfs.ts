import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { formatFioSize } from "../bench/size.js";
import type { ScriptTarget } from "../bench/fio-script.js";
import type { ZfsOptions } from "../bench/vm-variants.js";
import type { Baseline } from "./config.js";
import { storageIdFor, zfsGroupKey } from "./disks.js";

export interface NodeZfsArgs {
  node: string;
  connection: pulumi.Input<command.types.input.remote.ConnectionArgs>;
  /** Parent dataset, e.g. rpool/layerbench: created here, destroyed on `pulumi destroy`. */
  dataset: string;
  /** One child dataset and Proxmox storage per set of ZFS properties the VM disks need. */
  groups: ZfsOptions[];
  baseline: Baseline;
}

const FAIL = `fail() { echo "layerbench: $*" >&2; exit 2; }`;

/** Shell for the datasets: idempotent, so re-running after a partial failure converges. */
export function datasetsScript(dataset: string, groups: ZfsOptions[]): string {
  const pool = dataset.split("/")[0];
  return [
    "set -eu",
    FAIL,
    `zfs list -H -o name '${pool}' >/dev/null 2>&1 || fail "no ZFS pool '${pool}' on $(hostname): set layerbench:dataset to a dataset of an existing pool"`,
    `zfs list -H -o name '${dataset}' >/dev/null 2>&1 || zfs create -p '${dataset}'`,
    ...groups.flatMap((group) => {
      const child = `${dataset}/${zfsGroupKey(group)}`;
      return [
        `zfs list -H -o name '${child}' >/dev/null 2>&1 || zfs create '${child}'`,
        `zfs set compression=${group.compression} sync=${group.sync} '${child}'`,
      ];
    }),
    "",
  ].join("\n");
}

export function datasetsDeleteScript(dataset: string, groups: ZfsOptions[]): string {
  return [
    ...groups.map((group) => `zfs destroy -r '${dataset}/${zfsGroupKey(group)}' 2>/dev/null || true`),
    // Not recursive: whatever else someone put under the parent dataset stays.
    `zfs destroy '${dataset}' 2>/dev/null || echo "layerbench: ${dataset} is not empty, left in place" >&2`,
    "",
  ].join("\n");
}

/** Creates the baseline zvol or dataset and prints where fio goes: the device, or the mountpoint. */
export function baselineScript(dataset: string, baseline: Baseline): string {
  const name = `${dataset}/baseline-${baseline.kind}`;
  const props = baseline.kind === "zvol" ? `-o compression=${baseline.compression} -o sync=${baseline.sync}` : `-o recordsize=${baseline.recordsize} -o compression=${baseline.compression} -o sync=${baseline.sync}`;
  const create =
    baseline.kind === "zvol"
      ? `zfs create -s -V ${baseline.sizeGb}G -b ${formatFioSize(baseline.volblocksize)} ${props} '${name}'`
      : `zfs create ${props} '${name}'`;
  const report =
    baseline.kind === "zvol"
      ? [`udevadm settle`, `[ -b '/dev/zvol/${name}' ] || fail "/dev/zvol/${name} did not appear"`, `echo '/dev/zvol/${name}'`]
      : [`zfs get -H -o value mountpoint '${name}'`];
  return ["set -eu", FAIL, `zfs list -H -o name '${name}' >/dev/null 2>&1 || ${create}`, ...report, ""].join("\n");
}

/** The node's ZFS side: datasets, one Proxmox ZFS storage per volblocksize/compression/sync, and the baseline. */
export class NodeZfs extends pulumi.ComponentResource {
  /** Proxmox storage ids by ZFS group key. */
  readonly storages: Map<string, proxmoxve.storage.Zfspool>;
  readonly baselineTarget: pulumi.Output<ScriptTarget>;
  readonly baseline: command.remote.Command;

  constructor(name: string, args: NodeZfsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("layerbench:proxmox:NodeZfs", name, {}, opts);
    const datasets = new command.remote.Command(
      `${name}-datasets`,
      {
        connection: args.connection,
        create: datasetsScript(args.dataset, args.groups),
        delete: datasetsDeleteScript(args.dataset, args.groups),
      },
      // Old and new would share dataset names: the old must go first.
      { parent: this, deleteBeforeReplace: true, replaceOnChanges: ["create"] },
    );
    this.storages = new Map(
      args.groups.map((group) => [
        zfsGroupKey(group),
        new proxmoxve.storage.Zfspool(
          `${name}-${zfsGroupKey(group)}`,
          {
            resourceId: storageIdFor(group),
            zfsPool: `${args.dataset}/${zfsGroupKey(group)}`,
            blocksize: formatFioSize(group.volblocksize),
            contents: ["images"],
            nodes: [args.node],
            thinProvision: true,
          },
          { parent: this, dependsOn: [datasets] },
        ),
      ]),
    );
    this.baseline = new command.remote.Command(
      `${name}-baseline`,
      {
        connection: args.connection,
        create: baselineScript(args.dataset, args.baseline),
        delete: `zfs destroy '${args.dataset}/baseline-${args.baseline.kind}'`,
      },
      { parent: this, dependsOn: [datasets], deleteBeforeReplace: true, replaceOnChanges: ["create"] },
    );
    const kind = args.baseline.kind;
    this.baselineTarget = this.baseline.stdout.apply((stdout): ScriptTarget => {
      const path = stdout.trim().split("\n").pop() ?? "";
      return kind === "zvol" ? { kind: "device", path } : { kind: "directory", path };
    });
    this.registerOutputs({ baselineTarget: this.baselineTarget });
  }
}
