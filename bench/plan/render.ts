import type { DesignRecord } from "../core/results.js";
import { formatDuration, formatGiB } from "../util/format.js";
import { dEfficiency } from "../variants/design.js";
import type { DesignAlternative } from "./design-comparison.js";
import { ASSUMED_LAYOUT_BYTES_PER_SEC, FIXED_SEC_PER_RUN, type Plan, type PlannedVm } from "./plan.js";

function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows.map(
    (row) =>
      `  ${row
        .map((cell, column) => cell.padEnd(widths[column]))
        .join("  ")
        .trimEnd()}`,
  );
}

function diskSummary(vm: PlannedVm): string {
  const [boot, ...data] = vm.disks;
  const bySize = new Map<string, number>();
  for (const disk of data) {
    const key = disk.slot === "longhorn" ? `${disk.sizeGb} GiB for Longhorn` : `${disk.sizeGb} GiB`;
    bySize.set(key, (bySize.get(key) ?? 0) + 1);
  }
  const parts = [...bySize].map(([size, count]) => (count > 1 ? `${count} x ${size}` : size));
  return `${[`boot ${boot.sizeGb} GiB`, ...parts].join(" + ")} (${vm.disks.length} disks)`;
}

/** Full against main-effects (and the stack's own design), and the variants a design chose. */
function designLines(alternatives: DesignAlternative[], records: DesignRecord[]): string[] {
  if (alternatives.length === 0) return [];
  const rows = [
    ["design", "VM variants", "k8s variants", "fio runs", "duration"],
    ...alternatives.map((alternative) => {
      const label = `${alternative.label}${alternative.thisStack ? " (this stack)" : ""}`;
      return alternative.problem === undefined
        ? [
            label,
            String(alternative.vmVariants),
            String(alternative.k8sVariants),
            String(alternative.runs),
            `about ${formatDuration(alternative.totalSec ?? 0)}`,
          ]
        : [label, `not possible: ${alternative.problem}`, "", "", ""];
    }),
  ];
  const lines = ["", "Designs: the variants of the axes measured, and the time it takes", ...table(rows)];
  for (const record of records.filter((entry) => entry.kind !== "full")) {
    lines.push(
      `Chosen by ${record.kind} (${record.layer}, ${record.chosen.length} of ${record.candidates.length} valid variants, D-efficiency ${dEfficiency(record).toFixed(3)} against measuring all ${record.candidates.length}): ${record.chosen.join(", ")}`,
    );
    if (record.confirm.length > 0) lines.push(`  and to confirm the model: ${record.confirm.join(", ")}`);
  }
  return lines;
}

/**
 * What `pulumi up` does to a running stack when its config changes (components/bench-vm.ts): the cloud-init user
 * data (user, key, VM name) is ForceNew in bpg's provider, so the VM is replaced, deleted first since its vmId
 * stays; a changed set of data disks stops and starts the VM (qemu-server leaves changed disks of a running VM
 * pending or half-applied); a run id re-runs the measurements.
 */
const CHANGE_LINES = [
  "",
  "Changing a running stack (pulumi up again):",
  "  vm.user, vm.sshPublicKey, vm.name, k8s.vm.name: new cloud-init user data: those VMs are replaced, their disks with them (the old VM deleted first)",
  "  vmVariants, k8s.variants: a VM whose data disks change is stopped and started (qm shutdown, qm start) before it measures again",
  "  runId: every measurement runs again, the Kubernetes variants on new volumes; nothing else is re-provisioned",
];

/** The plan as a few screens of text: resources, what they need of the node, the time, and the designs. */
/** What provisioning covers: the image, the VMs, k3s and each backend with an install of its own. */
function provisioned(plan: Plan): string[] {
  return [
    "image download",
    "VMs",
    ...(plan.vms.some((vm) => vm.role === "k3s") ? ["k3s"] : []),
    ...plan.backends.filter((backend) => backend.provisioningSec > 0).map((backend) => backend.name),
  ];
}

export function renderPlan(
  plan: Plan,
  profile: { id: string; runtimeSec: number; repeat: number },
  designs: { alternatives: DesignAlternative[]; records: DesignRecord[] } = { alternatives: [], records: [] },
): string {
  const vmRows = [
    ["vmId", "name", "node", "role", "cores", "memory", "disks"],
    ...plan.vms.map((vm) => [
      String(vm.vmId),
      vm.name,
      vm.node,
      vm.role,
      String(vm.cores),
      `${vm.memoryMb / 1024} GiB`,
      diskSummary(vm),
    ]),
  ];
  const { duration } = plan;
  const lines = [
    `layerbench plan: stack ${plan.stack} on node ${plan.node} (${plan.nodeAddress}), profile ${profile.id}, ${profile.repeat} run(s) per workload`,
    "",
    `VMs: ${plan.vms.length}, ${plan.memoryMb / 1024} GiB of memory in all (every VM stays up until destroy)`,
    ...table(vmRows),
    "",
    `ZFS datasets and zvols: ${plan.datasets.join(", ")}`,
    `Proxmox storages: ${plan.storageIds.join(", ")}`,
    `Files: ${plan.files.join("; ")}`,
    ...CHANGE_LINES,
  ];
  lines.push(...plan.userStorages, ...plan.ceph, ...plan.backends.flatMap((backend) => backend.lines));
  lines.push(
    "",
    `Pool ${plan.pool}: at most ${formatGiB(plan.spaceBytes)} written at the busiest moment`,
    ...table(plan.space.map((item) => [formatGiB(item.bytes), item.what])),
    "",
    `Duration: about ${formatDuration(duration.totalSec)}`,
    `  ${formatDuration(duration.measurementSec)} measuring: ${duration.runs} fio runs of ${profile.runtimeSec} s + ${FIXED_SEC_PER_RUN} s each (measured), files laid out at an assumed ${ASSUMED_LAYOUT_BYTES_PER_SEC / 1024 ** 2} MiB/s`,
    `  ${formatDuration(duration.provisioningSec)} provisioning (a rough guess: ${provisioned(plan).join(", ")})`,
    ...designLines(designs.alternatives, designs.records),
  );
  return `${lines.join("\n")}\n`;
}
