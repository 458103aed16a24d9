import { promises as fs } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import { parseBenchConfig } from "../bench/config/stack-config.js";
import { readStackFile } from "../bench/config/stack-file.js";
import { planStack } from "../bench/plan/plan.js";
import { runCli } from "./helpers/cli.js";
import { scratchDir } from "./helpers/fio.js";
import { startSshd } from "./helpers/sshd.js";

// `layerbench plan` offline, and `--check` against a stand-in node: an OpenSSH server on loopback whose sessions
// find stand-in pveversion, zfs, qm and pvesm first on their PATH, and a stand-in Proxmox API on loopback.

const PROJECT = fileURLToPath(new URL("..", import.meta.url));
const TOKEN = "root@pam!layerbench=00000000-0000-0000-0000-000000000000";
const GiB = 1024 ** 3;

const state = await scratchDir("layerbench-node-state-");
const sshd = await startSshd({ STATE: state.path, LAYERBENCH_ARCSTATS: join(state.path, "arcstats") });
const standIns: Record<string, string> = {
  pveversion: 'cat "$STATE/pveversion"',
  zfs: 'case "$*" in "get -Hp -o value available rpool") cat "$STATE/available";; *) exit 1;; esac',
  // The cluster's VMs as `pvesh get /cluster/resources --type vm --output-format json` gives them: one file each.
  pvesh: [
    '[ "$*" = "get /cluster/resources --type vm --output-format json" ] || exit 2',
    "printf '['; sep=''",
    'for f in "$STATE"/vm-*; do',
    '  [ -f "$f" ] || continue',
    '  id=$(echo "$f" | sed "s/.*vm-//")',
    '  printf \'%s{"id":"qemu/%s","type":"qemu","vmid":%s,"name":"%s","node":"%s"}\' "$sep" "$id" "$id" "$(sed -n \'s/^name: //p\' "$f")" "$(sed -n \'s/^node: //p\' "$f")"',
    "  sep=','",
    "done",
    "printf ']\\n'",
  ].join("\n"),
  // pvesm status (pve-storage src/PVE/CLI/pvesm.pm print_status); with --content images, the storages for VM disks.
  pvesm: [
    'case "$*" in',
    '  "status --content images") cat "$STATE/images";;',
    "  status) printf 'Name Type Status Total Used Available %%\\nlocal dir active 1 1 1 1\\n'; sed 1d \"$STATE/images\";;",
    "esac",
  ].join("\n"),
};
for (const [name, body] of Object.entries(standIns))
  await fs.writeFile(join(sshd.binDir, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });

// The Proxmox API: only GET /api2/json/storage/local, only with the token.
let storageContent = "iso,vztmpl,backup,import,snippets";
const api: Server = createServer((request, response) => {
  if (request.headers.authorization !== `PVEAPIToken=${TOKEN}`) return void response.writeHead(401).end();
  if (request.url === "/api2/json/storage/local")
    return void response
      .writeHead(200, { "content-type": "application/json" })
      .end(JSON.stringify({ data: { storage: "local", content: storageContent } }));
  response.writeHead(404).end();
});
await new Promise<void>((resolve) => api.listen(0, "127.0.0.1", resolve));
const apiPort = (api.address() as { port: number }).port;

// A project with the quick stack pointed at the stand-in node, and one whose node does not answer.
const project = await scratchDir("layerbench-plan-project-");
const quick = await fs.readFile(join(PROJECT, "stacks", "Pulumi.quick.yaml"), "utf8");
await fs.mkdir(join(project.path, "stacks"));
const labStack = quick
  .replace("layerbench:nodeAddress: pve.example.lan", "layerbench:nodeAddress: 127.0.0.1")
  .replace("https://pve.example.lan:8006/", `http://127.0.0.1:${apiPort}/`);
await fs.writeFile(join(project.path, "stacks", "Pulumi.lab.yaml"), labStack);
await fs.writeFile(
  join(project.path, "stacks", "Pulumi.far.yaml"),
  quick
    .replace("layerbench:nodeAddress: pve.example.lan", "layerbench:nodeAddress: unreachable.test")
    .replace("vmId: 9100", "vmId: 9300"),
);
// The unreachable node: a port nothing listens on.
await fs.appendFile(
  sshd.clientConfig,
  ["Host unreachable.test", "  HostName 127.0.0.1", "  Port 9", "  ConnectTimeout 3", ""].join("\n"),
);

const env = { ...process.env, LAYERBENCH_SSH: `ssh -F ${sshd.clientConfig}`, PROXMOX_VE_API_TOKEN: TOKEN };

async function node(facts: {
  pveversion: string;
  availableGiB: number;
  /** By vmId: its name, on node pve, or its name and node. */
  vms?: Record<number, string | { name: string; node: string }>;
  content?: string;
  /** local-zfs: its status and free GiB, or absent (a node installed on ext4/LVM). */
  localZfs?: { status: string; availableGiB: number } | "absent";
  /** /proc/spl/kstat/zfs/arcstats's size and c_min, GiB. */
  arc?: { size: number; min: number };
  /** More storages that take VM disks: id, pve-storage type and free GiB, all active. */
  imageStorages?: Array<{ id: string; type: string; availableGiB: number }>;
}) {
  storageContent = facts.content ?? "iso,vztmpl,backup,import,snippets";
  const zfs = facts.localZfs ?? { status: "active", availableGiB: 100 };
  const KiB = (gib: number) => gib * 1024 * 1024;
  await fs.writeFile(
    join(state.path, "images"),
    `Name Type Status Total (KiB) Used (KiB) Available (KiB) %\n${
      zfs === "absent"
        ? ""
        : `local-zfs zfspool ${zfs.status} ${KiB(200)} ${KiB(200 - zfs.availableGiB)} ${KiB(zfs.availableGiB)} 50.00%\n`
    }${(facts.imageStorages ?? [])
      .map(
        ({ id, type, availableGiB }) =>
          `${id} ${type} active ${KiB(500)} ${KiB(500 - availableGiB)} ${KiB(availableGiB)} 10.00%\n`,
      )
      .join("")}`,
  );
  const arc = facts.arc ?? { size: 0, min: 0 };
  await fs.writeFile(
    join(state.path, "arcstats"),
    `13 1 0x01 123 33456 1 2\nname type data\nhits 4 100\nsize 4 ${arc.size * GiB}\nc_min 4 ${arc.min * GiB}\n`,
  );
  await fs.writeFile(join(state.path, "pveversion"), `${facts.pveversion}\n`);
  await fs.writeFile(join(state.path, "available"), `${facts.availableGiB * GiB}\n`);
  for (const file of await fs.readdir(state.path)) if (file.startsWith("vm-")) await fs.rm(join(state.path, file));
  for (const [id, vm] of Object.entries(facts.vms ?? {})) {
    const { name, node = "pve" } = typeof vm === "string" ? { name: vm } : vm;
    await fs.writeFile(
      join(state.path, `vm-${id}`),
      `boot: order=virtio0\nname: ${name}\nnode: ${node}\nmemory: 4096\n`,
    );
  }
}

test.after.always(async () => {
  await sshd.stop();
  api.close();
  await state.cleanup();
  await project.cleanup();
});

test("plan of the homelab stack, offline: resources, pool space, memory and duration", async (t) => {
  const result = await runCli(["plan", "--stack", "homelab"]);
  t.is(result.code, 0, result.stderr);
  t.regex(
    result.stdout,
    /^layerbench plan: stack homelab on node pve \(pve\.example\.lan\), profile ars, 3 run\(s\) per workload$/m,
  );
  t.regex(result.stdout, /^VMs: 5, 26 GiB of memory in all/m);
  t.regex(
    result.stdout,
    /^ {2}9101 {2}layerbench-homelab-1 {2}pve {3}bench {2}4 {6}4 GiB {3}boot 8 GiB \+ 30 x 40 GiB \(31 disks\)$/m,
  );
  t.regex(
    result.stdout,
    /^ {2}9200 {2}layerbench-k3s-1 {6}pve {3}k3s {4}4 {6}6 GiB {3}boot 32 GiB \+ 200 GiB for Longhorn \(2 disks\)$/m,
  );
  t.regex(result.stdout, /^Proxmox storages: lb-homelab-16k-lz4-standard$/m);
  t.regex(
    result.stdout,
    /^Longhorn: 7 volumes of 19 GiB, 13 replicas \(one a node, 13 on pve\); each k3s node a 200 GiB disk, 140 GiB schedulable/m,
  );
  t.regex(result.stdout, /^Pool rpool: at most 362 GiB written at the busiest moment$/m);
  t.regex(result.stdout, /^Duration: about 9h25m$/m);
  // The baseline three times among the 48 VM variants: (3 + 48 + 8) targets x 3 workloads x 3 runs.
  t.regex(result.stdout, /^ {2}9h08m measuring: 531 fio runs of 60 s \+ 0\.5 s each/m);
  t.is(result.stderr, "");
});

test("plan of a stack across three nodes counts in the stack node's pool only what lives there", async (t) => {
  // The ceph stack: k3s VMs on pve1, pve2 and pve3, one Longhorn volume of 3 replicas, one on each k3s node.
  const result = await runCli(["plan", "--stack", "ceph"]);
  t.is(result.code, 0, result.stderr);
  t.regex(result.stdout, /^ {2}\d+ GiB +boot disks of 2 VM\(s\) on pve1 /m, "the bench VM and the first k3s VM");
  t.regex(result.stdout, /^Longhorn: 1 volume of 19 GiB, 3 replicas \(one a node, 1 on pve1\);/m);
  t.regex(result.stdout, /^ {2}\d+ GiB +Longhorn replicas on pve1's k3s node\(s\): 1 of what fio writes per volume/m);
  t.regex(result.stdout, /^ceph-csi: 1 RBD volume of 19 GiB/m);
});

test("plan shows design full and main-effects side by side, with design full and with design main-effects", async (t) => {
  const full = await runCli(["plan", "--stack", "homelab"]);
  t.is(full.code, 0, full.stderr);
  // (3 baseline passes + 48 + 8) x 3 workloads x 3 repeats = 531 runs; main-effects: (3 + 12 + 8) x 9 = 207.
  t.regex(full.stdout, /^ {2}full \(this stack\) +48 +8 +531 +about 9h25m$/m);
  t.regex(full.stdout, /^ {2}main-effects +12 +8 +207 +about 3h58m$/m);
  const homelab = await fs.readFile(join(PROJECT, "stacks", "Pulumi.homelab.yaml"), "utf8");
  const designed = await scratchDir("layerbench-plan-design-");
  t.teardown(designed.cleanup);
  await fs.mkdir(join(designed.path, "stacks"));
  await fs.writeFile(
    join(designed.path, "stacks", "Pulumi.homelab.yaml"),
    homelab.replace("      sizeGb: 40\n    axes:", "      sizeGb: 40\n    design: main-effects\n    axes:"),
  );
  const main = await runCli(["plan", "--stack", "homelab", "--project", designed.path]);
  t.is(main.code, 0, main.stderr);
  t.regex(main.stdout, /^ {2}full +48 +8 +531 +about 9h25m$/m);
  t.regex(main.stdout, /^ {2}main-effects \(this stack\) +12 +8 +207 +about 3h58m$/m);
  t.regex(main.stdout, /^Duration: about 3h58m$/m);
  t.regex(main.stdout, /^VMs: 4, /m, "one bench VM holds the 12 disks");
  t.regex(
    main.stdout,
    /^Chosen by main-effects \(vm, 12 of 48 valid variants, D-efficiency 0\.980 against measuring all 48\): blk-none-iot-uring, /m,
  );
});

test("the plan's arithmetic: 59 targets x 3 workloads x 3 repeats; pool space from the profile's footprints", async (t) => {
  const file = await readStackFile(PROJECT, "homelab");
  const plan = planStack(parseBenchConfig(file.raw), "homelab");
  // The baseline three times (start, middle and end of the VM variants), 48 VM and 8 Kubernetes variants.
  t.is(plan.duration.runs, (3 + 48 + 8) * 3 * 3);
  // Every run: 60 s + 0.5 s; each Kubernetes target also lays out 18 GiB of files at 500 MiB/s and starts a pod (60 s).
  t.true(Math.abs(plan.duration.measurementSec - (531 * 60.5 + 8 * (60 + (18 * 1024) / 500))) < 1e-6);
  t.is(plan.memoryMb, 2 * 4096 + 3 * 6144);
  t.deepEqual(
    plan.space.map((item) => item.bytes / GiB),
    [2 * 8 + 3 * 32, 16, 13 * 18],
  );
  t.true(plan.vms.every((vm) => vm.disks.length <= 31));
});

test.serial("--check against a node that is ready: every finding ok, exit 0", async (t) => {
  await node({
    pveversion: "pve-manager/8.4.1/2a5fa54a8503f96d (running kernel: 6.8.12-9-pve)",
    availableGiB: 100,
    arc: { size: 8, min: 1 },
  });
  const result = await runCli(["plan", "--stack", "lab", "--check", "--project", project.path], { env });
  t.is(result.code, 0, result.stdout + result.stderr);
  t.regex(result.stdout, /^ok {4}Proxmox VE 8\.4\.1$/m);
  t.regex(result.stdout, /^ok {4}pool rpool: 100 GiB free, the stack writes up to 24 GiB$/m);
  t.regex(
    result.stdout,
    /^ok {4}memory: \d+(\.\d)? GiB available \(MemAvailable \d+(\.\d)? GiB \+ 7\.0 GiB of ZFS ARC above its minimum, which ZFS gives back\), the stack's VMs take 4\.0 GiB$/m,
  );
  t.regex(result.stdout, /^ok {4}datastore local-zfs: 100 GiB free, the stack's disks there take up to 8\.0 GiB$/m);
  // Proxmox VE 8.4 is Debian 12; the default guest image is Debian 13's (Proxmox VE 9's).
  t.regex(
    result.stdout,
    /^warn {2}fio: the host runs Debian 12's, vm\.imageUrl \(https:\/\/cloud\.debian\.org\/images\/cloud\/trixie\/latest\/debian-13-genericcloud-amd64\.qcow2\) another release's: set them to Debian 12 \(bookworm\)/m,
  );
  t.regex(result.stdout, /^ok {4}fio: \/usr\/bin\/fio$/m);
  t.regex(result.stdout, /^ok {4}vmIds 9100: free in the cluster$/m);
  t.regex(result.stdout, /^ok {4}datastore local takes import content$/m);
  t.regex(result.stdout, /^ok {4}datastore local takes snippets content$/m);
  t.notRegex(result.stdout, /^FAIL/m);
});

test.serial(
  "--check of a stack with k3s VMs on two nodes: this node's memory for its own VMs, the other node named",
  async (t) => {
    await node({ pveversion: "pve-manager/8.4.1/2a5fa54a8503f96d (running kernel: 6.8.12-9-pve)", availableGiB: 500 });
    await fs.writeFile(
      join(project.path, "stacks", "Pulumi.spread.yaml"),
      `${labStack.replace("vmId: 9100", "vmId: 9500")}  layerbench:k8s:\n    enabled: true\n    vm: { vmId: 9600, memoryMb: 8192 }\n    proxmoxNodes: [pve, { name: pve2, address: 127.0.0.2 }]\n`,
    );
    t.teardown(() => fs.rm(join(project.path, "stacks", "Pulumi.spread.yaml")));
    const result = await runCli(["plan", "--stack", "spread", "--check", "--project", project.path], { env });
    // k3s-1 and k3s-3 on pve with the bench VM (4 + 8 + 8 GiB), k3s-2 on pve2.
    t.regex(result.stdout, /^ {2}9601 {2}layerbench-k3s-2 {2}pve2 {2}k3s /m);
    t.regex(result.stdout, /^(ok|FAIL) +memory: \d+(\.\d)? GiB available, the stack's VMs take 20 GiB/m);
    t.regex(result.stdout, /^warn {2}nodes pve2: not asked \(only pve is\); their VMs take 8\.0 GiB on pve2$/m);
    t.regex(result.stdout, /^ok {4}vmIds 9500, 9600, 9601, 9602: free in the cluster$/m);
  },
);

test.serial(
  "--check of VM disks on the user's storages: each named storage's type and room, the key that names it",
  async (t) => {
    // A node installed on ext4: local-lvm takes the boot disk and the LVM-thin variant; vm-files is an NFS storage
    // where the stack asks for a directory storage.
    await node({
      pveversion: "pve-manager/9.0.3/abc (running kernel: 6.14.8-2-pve)",
      availableGiB: 500,
      imageStorages: [
        { id: "local-lvm", type: "lvmthin", availableGiB: 300 },
        { id: "vm-files", type: "nfs", availableGiB: 300 },
      ],
    });
    const storages = (await fs.readFile(join(PROJECT, "stacks", "Pulumi.storages.yaml"), "utf8"))
      .replace("layerbench:nodeAddress: pve.example.lan", "layerbench:nodeAddress: 127.0.0.1")
      .replace("https://pve.example.lan:8006/", `http://127.0.0.1:${apiPort}/`)
      .replace("layerbench:dataset: tank/layerbench", "layerbench:dataset: rpool/layerbench");
    await fs.writeFile(join(project.path, "stacks", "Pulumi.mixed.yaml"), storages);
    t.teardown(() => fs.rm(join(project.path, "stacks", "Pulumi.mixed.yaml")));
    const result = await runCli(["plan", "--stack", "mixed", "--check", "--project", project.path], { env });
    t.is(result.code, 1, result.stdout + result.stderr);
    // The bench VM's boot disk (8 GiB), the k3s VM's (48), the LVM-thin variant's disk (32) and the host-level
    // run's volume (ars at 1g: 16 GiB).
    t.regex(result.stdout, /^ok {4}datastore local-lvm: 300 GiB free, the stack's disks there take up to 104 GiB$/m);
    t.regex(
      result.stdout,
      /^FAIL {2}datastore vm-files \(storages\.dir\) is a nfs storage, not dir: name a dir storage there$/m,
    );
    t.is(result.stdout.match(/^FAIL/gm)?.length, 1, result.stdout);
  },
);

test.serial("--check reports each planted problem in one line and exits 1", async (t) => {
  await node({
    pveversion: "pve-manager/8.3.2/3e76eec21c4a14a7 (running kernel: 6.8.12-4-pve)",
    availableGiB: 10,
    vms: { 9100: { name: "web", node: "pve2" } },
    content: "iso,vztmpl,backup,snippets",
  });
  const result = await runCli(["plan", "--stack", "lab", "--check", "--project", project.path], { env });
  t.is(result.code, 1);
  t.regex(
    result.stdout,
    /^FAIL {2}Proxmox VE 8\.3\.2: importing the cloud image \(content type import\) needs 8\.4 or later$/m,
  );
  t.regex(
    result.stdout,
    /^FAIL {2}pool rpool: 10 GiB free, the stack writes up to 24 GiB: free space or use a smaller size\/fewer variants$/m,
  );
  t.regex(
    result.stdout,
    /^FAIL {2}vmId 9100 is taken by VM "web" on node pve2: choose other vmIds \(layerbench:vm\.vmId, k8s\.vm\.vmId\)$/m,
  );
  t.regex(
    result.stdout,
    /^FAIL {2}datastore local does not take import content: add it in Datacenter > Storage > local > Content$/m,
  );
  t.is(result.stdout.match(/^FAIL/gm)?.length, 4);
  t.regex(result.stderr, /pulumi up cannot go ahead/);
});

test.serial("--check of the boot datastore: missing (a node on ext4/LVM), inactive, too small", async (t) => {
  const cases: Array<[NonNullable<Parameters<typeof node>[0]["localZfs"]>, RegExp]> = [
    [
      "absent",
      /^FAIL {2}datastore local-zfs \(vm\.bootDatastore\) does not exist on pve: name one that pvesm status lists$/m,
    ],
    [
      { status: "inactive", availableGiB: 100 },
      /^FAIL {2}datastore local-zfs \(vm\.bootDatastore\) is inactive on pve$/m,
    ],
    [
      { status: "active", availableGiB: 5 },
      /^FAIL {2}datastore local-zfs: 5\.0 GiB free, the stack's disks there take up to 8\.0 GiB: free space or choose another \(vm\.bootDatastore\)/m,
    ],
  ];
  for (const [localZfs, message] of cases) {
    await node({ pveversion: "pve-manager/9.0.3/abc (running kernel: 6.14.8-2-pve)", availableGiB: 100, localZfs });
    const result = await runCli(["plan", "--stack", "lab", "--check", "--project", project.path], { env });
    t.is(result.code, 1, result.stdout);
    t.regex(result.stdout, message);
    t.is(result.stdout.match(/^FAIL/gm)?.length, 1, result.stdout);
  }
});

test.serial("--check: this stack's own VMs from an earlier up are not a clash", async (t) => {
  await node({
    pveversion: "pve-manager/9.0.3/abc (running kernel: 6.14.8-2-pve)",
    availableGiB: 100,
    vms: { 9100: "layerbench" },
  });
  const result = await runCli(["plan", "--stack", "lab", "--check", "--project", project.path], { env });
  t.is(result.code, 0, result.stdout);
  t.regex(result.stdout, /^ok {4}vmId 9100: layerbench exists already, from an earlier pulumi up of this stack$/m);
  t.regex(result.stdout, /^ok {4}fio: the host, guests and pods all run Debian 13's$/m);
});

test("--check against an unreachable node fails in one line naming the node", async (t) => {
  const result = await runCli(["plan", "--stack", "far", "--check", "--project", project.path], { env });
  t.is(result.code, 1);
  const failures = result.stdout.split("\n").filter((line) => line.startsWith("FAIL"));
  t.is(failures.length, 1, result.stdout + result.stderr);
  t.regex(
    failures[0],
    /^FAIL {2}node pve \(unreachable\.test\): cannot run commands over SSH as root: .*(refused|Connection)/,
  );
});

test.serial("--check without an API token says what was not checked", async (t) => {
  await node({ pveversion: "pve-manager/8.4.1/x", availableGiB: 100 });
  const { PROXMOX_VE_API_TOKEN: _token, ...withoutToken } = env;
  const result = await runCli(["plan", "--stack", "lab", "--check", "--project", project.path], { env: withoutToken });
  t.is(result.code, 0);
  t.regex(
    result.stdout,
    /^warn {2}Proxmox API: datastore local's content types not checked: set PROXMOX_VE_API_TOKEN/m,
  );
});

test("two stacks with the same vmIds on the same node: plan refuses, and matrix up creates nothing", async (t) => {
  const clash = await scratchDir("layerbench-plan-clash-");
  t.teardown(clash.cleanup);
  await fs.mkdir(join(clash.path, "stacks"));
  await fs.writeFile(join(clash.path, "stacks", "Pulumi.a.yaml"), quick);
  await fs.writeFile(join(clash.path, "stacks", "Pulumi.b.yaml"), quick);
  const plan = await runCli(["plan", "--stack", "a", "--project", clash.path]);
  t.is(plan.code, 1);
  t.regex(plan.stdout, /^FAIL {2}stack b uses vmIds 9100 on node pve too: give one of them other vmIds/m);
  const up = await runCli(["matrix", "up", "--stack", "a", "--project", clash.path], { env });
  t.is(up.code, 1);
  t.regex(up.stdout, /^FAIL {2}stack b uses vmIds 9100/m);
  t.regex(up.stderr, /the node checks failed \(FAIL lines above\); nothing was created/);
});
