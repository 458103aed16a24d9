import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import * as pulumi from "@pulumi/pulumi";
import test from "ava";
import { type BenchConfig, parseBenchConfig } from "../bench/config/stack-config.js";
import { readStackFile } from "../bench/config/stack-file.js";
import { nthVmSettings } from "../bench/config/vm-settings.js";
import { diskSerial } from "../bench/variants/vm-variants.js";
import { createLayers } from "../components/layers.js";
import { scratchDir } from "./helpers/fio.js";
import { findDisk, guestDisks } from "./helpers/guest-model.js";
import {
  byName,
  outputValue,
  type RecordedResource,
  recordingMocks,
  withoutStackTraces,
} from "./helpers/pulumi-mocks.js";
import { shortArsOutput } from "./helpers/scripts.js";
import { StrictNode } from "./helpers/strict-node.js";

const K3S_KUBECONFIG = "apiVersion: v1\nclusters:\n- cluster:\n    server: https://127.0.0.1:6443\n  name: default\n";

// One real output of the ars workloads (short runs) stands for every fio Command's stdout.
const fioStdout = await shortArsOutput();

// A Proxmox VE 9 node: each VM fio script's disk lookup runs for real against that VM's guest as PVE 9 shows it.
const node = new StrictNode("9.1.1");
const scratch = await scratchDir("layerbench-guest-model-");
/** Serial -> the VM and guest device the script picked, for every VM fio Command of the first declaration. */
const located = new Map<string, string>();
// The lookup runs once, for the stack as the CLI reads it: the declarations after it change the run id, an
// address or the variant count, not a script, and each lookup is a shell run (48 of them a declaration).
let lookUpDisks = true;
// What the VMs' guest agents report on a refresh: a DHCP lease can change between two `pulumi up`s.
let reportedAddress = "10.0.0.9";
const resources = recordingMocks(async ({ type, name, inputs }) => {
  const serial = /find_disk "([^"]+)"/.exec(String(inputs.create))?.[1];
  if (lookUpDisks && serial && name.startsWith("fio-vm-") && type === "command:remote:Command") {
    const vm = node.vmWithDisk(serial);
    if (!vm) throw new Error(`${name}: no VM has a disk with serial ${serial}`);
    const guest = await guestDisks(vm.disks, node.major, scratch.path);
    try {
      const found = await findDisk(guest.sysfs, serial);
      if (!found.device) throw new Error(`${name}: ${found.message}`);
      located.set(serial, `VM ${vm.vmId} ${found.device}`);
    } finally {
      await guest.cleanup();
    }
  }
  if (name.startsWith("fio-") && type === "command:remote:Command") return { stdout: fioStdout };
  if (name === "k3s-kubeconfig") return { stdout: K3S_KUBECONFIG };
  if (name === "k3s-token") return { stdout: "K10secret::server:token\n" };
  if (type === "kubernetes:batch/v1:Job")
    return {
      metadata: {
        ...(inputs.metadata as object),
        uid: createHash("sha256").update(JSON.stringify(inputs)).digest("hex"),
      },
    };
  if (name === "node-zfs-baseline") return { stdout: "/dev/zvol/rpool/layerbench/homelab/baseline-zvol\n" };
  if (name.endsWith("-address")) return { stdout: "10.0.0.9\n" };
  if (type === "command:remote:Command") return { stdout: "fio-3.33\n" };
  if (type === "proxmoxve:index/vmLegacy:VmLegacy") return { ipv4Addresses: [["127.0.0.1"], [reportedAddress]] };
  return {};
}, node);

async function declare(config: BenchConfig): Promise<RecordedResource[]> {
  return withoutStackTraces(async () => {
    const layers = createLayers(config, pulumi.secret("key"), { project: "layerbench", stack: "homelab" });
    await outputValue(layers.results);
    return resources.splice(0);
  });
}

// The stack file as the CLI reads it.
const config = parseBenchConfig((await readStackFile(fileURLToPath(new URL("..", import.meta.url)), "homelab")).raw);
const first = await declare(config);
lookUpDisks = false;
const rerun = await declare({ ...config, runId: "2" });
reportedAddress = "10.0.0.77";
const refreshed = await declare(config);

test.after.always(() => scratch.cleanup());

test("on a Proxmox VE 9 node every VM variant's script finds its own disk, to the last variant", (t) => {
  t.is(located.size, 48);
  t.is(new Set(located.values()).size, 48, "no two variants measure the same device");
  t.true(config.variants.every((variant) => located.has(diskSerial(variant))));
});

function changedInputs(before: RecordedResource[], after: RecordedResource[]): string[] {
  return before.flatMap((resource) => {
    const other = byName(after, resource.name);
    return Object.keys({ ...resource.inputs, ...other.inputs })
      .filter((key) => JSON.stringify(resource.inputs[key]) !== JSON.stringify(other.inputs[key]))
      .map((key) => `${resource.name}.${key}`);
  });
}

test("a refresh that sees new guest addresses re-runs nothing: no Command's inputs (connection included) change", (t) => {
  t.deepEqual(changedInputs(first, refreshed), []);
  t.true(first.filter((resource) => resource.type === "command:remote:Command").length > 100);
});

test("the full matrix: 48 valid variants, the 12 with aio=native and a caching mode left out", (t) => {
  t.is(config.variants.length, 48);
  t.is(config.skippedVariants.length, 12);
  t.true(
    config.skippedVariants.every(
      (skipped) => /aio=native needs cache none or directsync/.test(skipped.reason) && /-native$/.test(skipped.id),
    ),
  );
  t.true(
    config.variants.every((variant) => variant.aio !== "native" || ["none", "directsync"].includes(variant.cache)),
  );
});

test("two VMs hold them: at most 15 virtio-blk data disks and 31 disks in all per VM", (t) => {
  const vms = first
    .filter((resource) => resource.type === "proxmoxve:index/vmLegacy:VmLegacy" && resource.name.startsWith("bench-vm"))
    .sort((a, b) => a.name.localeCompare(b.name));
  t.deepEqual(
    vms.map((vm) => [vm.name, vm.inputs.vmId, vm.inputs.name, vm.inputs.scsiHardware]),
    [
      ["bench-vm-1-vm", 9101, "layerbench-homelab-1", "virtio-scsi-single"],
      ["bench-vm-2-vm", 9102, "layerbench-homelab-2", "virtio-scsi-single"],
    ],
  );
  const count = (vm: RecordedResource, prefix: string) =>
    vm.inputs.disks.filter((disk: { interface: string }) => disk.interface.startsWith(prefix)).length;
  t.deepEqual(
    vms.map((vm) => [count(vm, "virtio") - 1, count(vm, "scsi")]),
    [
      [15, 15],
      [9, 9],
    ],
  );
  t.deepEqual(
    vms.map((vm) => vm.inputs.disks.length),
    [31, 19],
    "the boot disk counts towards the provider's 31",
  );
});

test("with a static address, each further VM takes the next address, vmId and number", (t) => {
  const settings = { ...config.vm, ip: "192.168.1.50/24", gateway: "192.168.1.1" };
  t.like(nthVmSettings(settings, 0, 2), { vmId: 9101, name: "layerbench-homelab-1", ip: "192.168.1.50/24" });
  t.like(nthVmSettings(settings, 1, 2), {
    vmId: 9102,
    name: "layerbench-homelab-2",
    ip: "192.168.1.51/24",
    gateway: "192.168.1.1",
  });
  t.is(nthVmSettings(settings, 0, 1), settings, "a single VM keeps its settings as given");
});

test("every variant's disk carries exactly its options, found by a unique serial of at most 20 characters", (t) => {
  const disks = first
    .filter((resource) => resource.type === "proxmoxve:index/vmLegacy:VmLegacy" && resource.name.startsWith("bench-vm"))
    .flatMap((vm) => vm.inputs.disks.slice(1));
  const serials = disks.map((disk: { serial: string }) => disk.serial);
  t.is(new Set(serials).size, 48);
  t.true(serials.every((serial: string) => serial.length <= 20));
  for (const variant of config.variants) {
    const disk = disks.find((candidate: { serial: string }) => candidate.serial === diskSerial(variant));
    t.truthy(disk, variant.id);
    t.like(
      disk,
      {
        cache: variant.cache,
        aio: variant.aio,
        iothread: variant.iothread,
        discard: variant.discard,
        size: 40,
        datastoreId: "lb-homelab-16k-lz4-standard",
      },
      variant.id,
    );
    t.regex(
      disk.interface,
      variant.bus === "virtio-blk" ? /^virtio([1-9]|1[0-5])$/ : /^scsi([0-9]|[12][0-9]|30)$/,
      variant.id,
    );
    t.is(
      disk.ssd,
      variant.bus === "virtio-blk" ? undefined : false,
      `${variant.id}: ssd only where the bus supports it`,
    );
  }
});

test("51 fio runs in one chain: the host, both VMs' 48 variants in the seed's order, the baseline again in their middle and at their end", (t) => {
  const steps = first.filter((resource) => /^fio-(host|vm-).*-(fio|release)$/.test(resource.name));
  const fio = steps.filter((resource) => resource.name.endsWith("-fio"));
  t.is(fio.length, 51);
  t.deepEqual(
    [25, 50].map((index) => fio[index].name),
    ["fio-host-pass-2-fio", "fio-host-pass-3-fio"],
  );
  const vmOrder = fio.filter((resource) => resource.name.startsWith("fio-vm-")).map((resource) => resource.name);
  const given = config.variants.map((variant) => `fio-vm-${variant.id}-fio`);
  t.deepEqual([...vmOrder].sort(), [...given].sort());
  t.notDeepEqual(vmOrder, given, "shuffled: drift over the hours of runs is not read as the first axis's effect");
  const stepUrns = new Set(steps.map((resource) => resource.urn));
  fio.forEach((resource, index) => {
    const previous = resource.dependencies.filter((dependency) => stepUrns.has(dependency));
    t.deepEqual(
      previous,
      index === 0 ? [] : [byName(first, fio[index - 1].name.replace(/-fio$/, "-release")).urn],
      resource.name,
    );
  });
  t.is(fio[0].name, "fio-host-fio");
  // fio in the guests reads the target and the log directory from its environment, which sudo keeps only when told to.
  t.true(
    fio
      .filter((resource) => resource.name.startsWith("fio-vm-"))
      .every((resource) => /sudo --preserve-env=LAYERBENCH_TARGET,LAYERBENCH_LOGS fio/.test(resource.inputs.create)),
  );
});

test("changing the run id re-runs every measurement and nothing else: fio Commands' triggers, the pods' Jobs", (t) => {
  t.deepEqual(rerun.map((resource) => resource.name).sort(), first.map((resource) => resource.name).sort());
  const changed = changedInputs(first, rerun);
  const vmAndHost = first.filter(
    (resource) => /^fio-(host|vm-)/.test(resource.name) && resource.type === "command:remote:Command",
  );
  const k8sVariants = config.k8s?.variants.map((variant) => variant.id) ?? [];
  t.is(k8sVariants.length, 8);
  const guests = ["bench-vm-1", "bench-vm-2", "k3s-node-1", "k3s-node-2", "k3s-node-3"];
  t.deepEqual(
    changed.sort(),
    [
      // fio and the release of what it wrote.
      ...vmAndHost.map((resource) => `${resource.name}.triggers`),
      // A new volume (the claim named after the run id) and pod template replace the Job (it runs fio again on an
      // empty volume); its new uid makes the log Command read again; Longhorn must be quiet again before it.
      ...k8sVariants.flatMap((id) => [
        `fio-k8s-${id}-pvc.metadata`,
        `fio-k8s-${id}-job.spec`,
        `fio-k8s-${id}-log.triggers`,
        `fio-k8s-${id}-quiet.triggers`,
      ]),
      // A DHCP lease may have changed since the last run: the guests' addresses are asked for again.
      ...guests.map((guest) => `${guest}-address.triggers`),
    ].sort(),
  );
  t.deepEqual(byName(rerun, "fio-host-fio").inputs.triggers, ["2"]);
  t.is(byName(rerun, "fio-k8s-local-path-job").inputs.spec.template.metadata.annotations["layerbench/run-id"], "2");
});

test.serial(
  "design main-effects on the same stack: its first VM kept (no second VM with its vmId), holding the 12 chosen disks; the results record the design of both layers",
  async (t) => {
    const file = await readStackFile(fileURLToPath(new URL("..", import.meta.url)), "homelab");
    const raw = { ...file.raw, vmVariants: { ...(file.raw.vmVariants as object), design: "main-effects" } };
    const designed = parseBenchConfig(raw);
    const results = await withoutStackTraces(() =>
      outputValue(createLayers(designed, pulumi.secret("key"), { project: "layerbench", stack: "homelab" }).results),
    );
    const declared = resources.splice(0);
    const vms = declared.filter(
      (resource) => resource.type === "proxmoxve:index/vmLegacy:VmLegacy" && resource.name.startsWith("bench-vm"),
    );
    t.deepEqual(
      vms.map((vm) => vm.name),
      ["bench-vm-1-vm"],
    );
    const serials = vms[0].inputs.disks.slice(1).map((disk: { serial: string }) => disk.serial);
    t.deepEqual(
      serials,
      designed.design?.chosen.map((id) => diskSerial({ id })),
    );
    t.is(serials.length, 12);
    t.deepEqual(
      results.variants.filter((variant) => variant.layer === "vm").map((variant) => variant.id),
      designed.design?.chosen,
    );
    const [vm, k8s] = results.designs ?? [];
    t.like(vm, { layer: "vm", kind: "main-effects" });
    t.is(vm.candidates.length, 48);
    // The Kubernetes record names the variants as the results do.
    t.like(k8s, { layer: "k8s", kind: "full" });
    t.true(k8s.chosen.every((id) => results.variants.some((variant) => variant.id === id && variant.layer === "k8s")));
  },
);

test.serial(
  "a VM is deleted before its replacement, and one whose data disks change is stopped and started first",
  async (t) => {
    const vms = first.filter((resource) => resource.type === "proxmoxve:index/vmLegacy:VmLegacy");
    t.is(vms.length, 5);
    t.true(
      vms.every((vm) => vm.deleteBeforeReplace),
      "the strict node refuses a VM without it",
    );
    const disks = byName(first, "bench-vm-1-disks");
    t.is(disks.inputs.create, "true", "nothing on creation: the VM boots with all its disks");
    t.regex(disks.inputs.update, /^qm shutdown 9101 --timeout 180 --forceStop 1 .*\nqm start 9101 /m);
    t.regex(disks.inputs.environment.LAYERBENCH_DISKS, /^[0-9a-f]{16}$/);
    t.true(disks.dependencies.includes(byName(first, "bench-vm-1-vm").urn));
    for (const after of ["bench-vm-1-ready", "bench-vm-1-address"])
      t.true(byName(first, after).dependencies.includes(disks.urn), `${after} waits for the restart`);
    // One variant fewer: the slots of the rest move up, so both VMs' disks change; the scripts do not.
    // Serial: each declaration takes the resources registered since the last one.
    const fewer = await declare({ ...config, variants: config.variants.slice(1) });
    for (const vm of ["bench-vm-1", "bench-vm-2"]) {
      const before = byName(first, `${vm}-disks`).inputs.environment.LAYERBENCH_DISKS;
      t.not(byName(fewer, `${vm}-disks`).inputs.environment.LAYERBENCH_DISKS, before, `${vm} restarts`);
      t.deepEqual(byName(fewer, `${vm}-address`).inputs.triggers, [
        "1",
        byName(fewer, `${vm}-disks`).inputs.environment.LAYERBENCH_DISKS,
      ]);
    }
    const moved = config.variants[1].id;
    t.is(byName(fewer, `fio-vm-${moved}-fio`).inputs.create, byName(first, `fio-vm-${moved}-fio`).inputs.create);
    t.deepEqual(
      changedInputs(first, rerun).filter((change) => change.endsWith("-disks.environment")),
      [],
      "a new run id restarts nothing",
    );
  },
);
