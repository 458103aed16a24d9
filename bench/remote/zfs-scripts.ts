// The ZFS side of the node, as the shell it runs: the stack's dataset, one dataset per ZFS group, the baseline.
// Idempotent, so that re-running after a partial failure converges. POSIX sh, checked by shellcheck in the tests.
import type { Baseline } from "../config/stack-config.js";
import { formatFioSize } from "../util/size.js";
import type { ZfsOptions } from "../variants/vm-variants.js";

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
  const props =
    baseline.kind === "zvol"
      ? `-o compression=${baseline.compression} -o sync=${baseline.sync}`
      : `-o recordsize=${baseline.recordsize} -o compression=${baseline.compression} -o sync=${baseline.sync}`;
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
