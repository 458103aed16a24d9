import { existsSync, promises as fs } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { k3sServerScript, LONGHORN_QUIET_SCRIPT, longhornReadyScript } from "../bench/remote/k8s-scripts.js";
import {
  freeHostVolumeScript,
  guestAddressScript,
  hostDirectoryScript,
  hostVolumeScript,
  NODE_FIO_SCRIPT,
  releaseDeviceScript,
  releaseVmDiskScript,
  removeHostDirectoryScript,
  restartVmScript,
} from "../bench/remote/node-scripts.js";
import { scratchDir } from "./helpers/fio.js";
import { runScript, shellcheck } from "./helpers/scripts.js";

// The scripts the node and the k3s server run, executed for real with stand-ins for Proxmox's and Kubernetes'
// commands (qm, pvesm, apt-get, blkdiscard, curl, k3s) first on PATH; each stand-in logs how it was called.

async function standIns(
  t: { teardown: (fn: () => Promise<void>) => void },
  scripts: Record<string, string>,
  options: { onlyThese?: boolean } = {},
) {
  const dir = await scratchDir("layerbench-stand-ins-");
  t.teardown(dir.cleanup);
  const bin = join(dir.path, "bin");
  const log = join(dir.path, "calls");
  await fs.mkdir(bin);
  await fs.writeFile(log, "");
  // sleep returns at once: the scripts' waits are counted, not waited for.
  const all = { sleep: "", ...scripts };
  for (const [name, body] of Object.entries(all)) {
    await fs.writeFile(join(bin, name), `#!/bin/sh\necho "${name} $*" >> "$CALLS"\n${body}\n`, { mode: 0o755 });
  }
  // A PATH of the stand-ins alone (and what a script needs besides them): "fio is not installed" is then true.
  const path = options.onlyThese ? await minimalPath(dir.path, bin) : undefined;
  const run = (script: string, env: Record<string, string> = {}) =>
    runScript(script, {
      binDir: bin,
      env: { ...(path && { PATH: path }), ...env },
      standInEnv: { CALLS: log, STATE: dir.path },
    });
  const calls = async () => (await fs.readFile(log, "utf8")).trim().split("\n").filter(Boolean);
  return { run, calls, dir: dir.path, bin };
}

async function minimalPath(root: string, bin: string): Promise<string> {
  const tools = join(root, "tools");
  await fs.mkdir(tools);
  for (const tool of ["sh", "hostname", "cat", "tail", "tr", "rm", "mkdir", "touch", "chmod", "dirname"])
    await fs.symlink(`/usr/bin/${tool}`, join(tools, tool)).catch(() => fs.symlink(`/bin/${tool}`, join(tools, tool)));
  return `${bin}:${tools}`;
}

const FAKE_FIO_INSTALL = `printf '#!/bin/sh\\necho fio-3.33\\n' > "$(dirname "$0")/fio"; chmod +x "$(dirname "$0")/fio"`;

test("fio on the node: left alone when there, installed with apt-get when missing", async (t) => {
  const present = await standIns(t, { fio: "echo fio-3.37", "apt-get": "exit 1" });
  const already = await present.run(NODE_FIO_SCRIPT);
  t.is(already.code, 0, already.stderr);
  t.is(already.stdout.trim(), "fio-3.37");
  t.false((await present.calls()).some((call) => call.startsWith("apt-get")));

  // A node without a subscription: apt-get update fails on the enterprise repository, fio comes from Debian's.
  const missing = await standIns(
    t,
    { "apt-get": `case "$1" in update) exit 100;; install) ${FAKE_FIO_INSTALL};; esac` },
    { onlyThese: true },
  );
  const installed = await missing.run(NODE_FIO_SCRIPT);
  t.is(installed.code, 0, installed.stderr);
  t.is(installed.stdout.trim(), "fio-3.33");
  t.regex(installed.stderr, /apt-get update reported errors .* installing fio anyway/);
  t.deepEqual(await missing.calls(), ["apt-get update -qq", "apt-get install -y -qq fio"]);
  t.is(await shellcheck(NODE_FIO_SCRIPT), "");
});

test("fio on the node: an apt-get that cannot install it is one clear error", async (t) => {
  const node = await standIns(t, { "apt-get": "exit 100" }, { onlyThese: true });
  const result = await node.run(NODE_FIO_SCRIPT);
  t.is(result.code, 2);
  t.regex(
    result.stderr,
    /^layerbench: apt-get could not install fio on \S+: check the node's package repositories, or install fio by hand$/m,
  );
});

// What `qm guest cmd VMID network-get-interfaces` prints: the agent's reply, loopback first.
const INTERFACES = JSON.stringify(
  [
    { name: "lo", "ip-addresses": [{ "ip-address-type": "ipv4", "ip-address": "127.0.0.1", prefix: 8 }] },
    {
      name: "eth0",
      "hardware-address": "bc:24:11:00:00:01",
      "ip-addresses": [
        { "ip-address-type": "ipv6", "ip-address": "fe80::1", prefix: 64 },
        { "ip-address-type": "ipv4", "ip-address": "192.168.1.77", prefix: 24 },
      ],
    },
  ],
  null,
  2,
);

test("guest address: the agent's first IPv4 address that is not loopback, once the agent answers", async (t) => {
  // The agent answers on the third try (a guest still booting).
  const node = await standIns(t, {
    qm: `n=$(cat "$STATE/n" 2>/dev/null || echo 0); echo $((n + 1)) > "$STATE/n"; [ "$n" -ge 2 ] || exit 255; cat <<'EOF'\n${INTERFACES}\nEOF`,
  });
  const script = guestAddressScript(9100);
  const result = await node.run(script);
  t.is(result.code, 0, result.stderr);
  t.is(result.stdout, "192.168.1.77\n");
  t.deepEqual(await node.calls(), [
    "qm guest cmd 9100 network-get-interfaces",
    "sleep 10",
    "qm guest cmd 9100 network-get-interfaces",
    "sleep 10",
    "qm guest cmd 9100 network-get-interfaces",
  ]);
  t.is(await shellcheck(script), "");
});

test("restart after a change of disks: a clean shutdown, a start, then the agent's answer", async (t) => {
  // The agent answers on the second ping (the guest still booting).
  const node = await standIns(t, {
    qm: `case "$1 $3" in "guest 9101") n=$(cat "$STATE/n" 2>/dev/null || echo 0); echo $((n + 1)) > "$STATE/n"; [ "$n" -ge 1 ];; esac`,
  });
  const script = restartVmScript(9101);
  const result = await node.run(script);
  t.is(result.code, 0, result.stderr);
  t.deepEqual(await node.calls(), [
    "qm shutdown 9101 --timeout 180 --forceStop 1",
    "qm start 9101",
    "qm guest cmd 9101 ping",
    "sleep 10",
    "qm guest cmd 9101 ping",
  ]);
  t.regex(result.stderr, /^layerbench: the data disks of VM 9101 changed: stopping and starting it/m);
  t.is(await shellcheck(script), "");
  const refused = await (await standIns(t, { qm: `[ "$1" != start ]` })).run(script);
  t.is(refused.code, 2);
  t.regex(refused.stderr, /^layerbench: qm start 9101 failed$/m);
});

test("guest address: an agent that never reports an address fails after 15 minutes, naming the VM", async (t) => {
  const node = await standIns(t, {
    qm: `echo '[{"name":"lo","ip-addresses":[{"ip-address-type":"ipv4","ip-address":"127.0.0.1"}]}]'`,
  });
  const result = await node.run(guestAddressScript(9101));
  t.is(result.code, 2);
  t.regex(result.stderr, /^layerbench: the guest agent of VM 9101 reported no IPv4 address in 15 minutes/m);
  t.is((await node.calls()).filter((call) => call === "sleep 10").length, 89);
});

test("release: the zvol behind a VM disk found with qm config and pvesm path, then discarded", async (t) => {
  const node = await standIns(t, {
    qm: "printf 'boot: order=virtio0\\nvirtio1: lb-quick-16k-lz4-standard:vm-9100-disk-1,aio=io_uring,cache=none,iothread=1,serial=blk-none,size=32G\\nvirtio2: lb-quick-16k-lz4-standard:vm-9100-disk-2,cache=writeback,size=32G\\n'",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a template.
    pvesm: 'echo "$STATE/zvol-${2##*:}"',
    blkdiscard: "exit 0",
  });
  // A block device node standing for the zvol (we are root here, as on the node).
  const made = await runScript(`mknod '${join(node.dir, "zvol-vm-9100-disk-2")}' b 7 250`);
  t.is(made.code, 0, `mknod: ${made.stderr}`);
  const script = releaseVmDiskScript(9100, "virtio2");
  const result = await node.run(script);
  t.is(result.code, 0, result.stderr);
  t.deepEqual(await node.calls(), [
    "qm config 9100",
    "pvesm path lb-quick-16k-lz4-standard:vm-9100-disk-2",
    `blkdiscard ${join(node.dir, "zvol-vm-9100-disk-2")}`,
  ]);
  t.regex(result.stderr, /released what the benchmark wrote to disk virtio2 of VM 9100/);
  t.is(await shellcheck(script), "");
});

test("release: a disk that is a qcow2 file on a directory storage is left whole, said so, never discarded", async (t) => {
  const node = await standIns(t, {
    qm: "echo 'scsi0: vm-files:9100/vm-9100-disk-1.qcow2,cache=none,size=32G'",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a template.
    pvesm: 'echo "$STATE/images/${2#*:}"',
    blkdiscard: "exit 0",
  });
  // The file as pve-storage's DirPlugin.pm path gives it: images/VMID/NAME under the storage's path.
  await fs.mkdir(join(node.dir, "images", "9100"), { recursive: true });
  await fs.writeFile(join(node.dir, "images", "9100", "vm-9100-disk-1.qcow2"), "QFI\xfb");
  const result = await node.run(releaseVmDiskScript(9100, "scsi0"));
  t.is(result.code, 0, result.stderr);
  t.regex(
    result.stderr,
    /disk scsi0 of VM 9100 is a file \(.*vm-9100-disk-1\.qcow2\): what it wrote stays on its storage until destroy/,
  );
  t.false((await node.calls()).some((call) => call.startsWith("blkdiscard")));
  t.is(await fs.readFile(join(node.dir, "images", "9100", "vm-9100-disk-1.qcow2"), "utf8"), "QFI\xfb");
});

test("release: what cannot be released is reported and the measurements go on (exit 0)", async (t) => {
  const node = await standIns(t, {
    qm: "echo 'virtio1: x:vm-9100-disk-1,size=8G'",
    pvesm: "echo /nonexistent",
    blkdiscard: "exit 1",
  });
  const noDisk = await node.run(releaseVmDiskScript(9100, "virtio7"));
  t.is(noDisk.code, 0);
  t.regex(noDisk.stderr, /could not release disk virtio7 of VM 9100: VM 9100 has no disk virtio7/);
  const notBlock = await node.run(releaseDeviceScript("/nonexistent/zvol"));
  t.is(notBlock.code, 0);
  t.regex(notBlock.stderr, /could not release \/nonexistent\/zvol: \/nonexistent\/zvol is not a block device/);
  t.false((await node.calls()).some((call) => call.startsWith("blkdiscard")));
});

test("host volume on a block storage: made with pvesm alloc once, its device printed; freed on destroy, gone is no error", async (t) => {
  // pvesm as pve-storage's CLI answers: path fails for a volume that does not exist; alloc makes it (a block node).
  const node = await standIns(t, {
    pvesm: [
      'case "$1" in',
      '  path) [ -e "$STATE/lv" ] || { echo "no such logical volume" >&2; exit 1; }; echo "$STATE/lv";;',
      '  alloc) mknod "$STATE/lv" b 7 251 && echo "successfully created \'$2:$4\'";;',
      '  free) rm -f "$STATE/lv";;',
      "esac",
    ].join("\n"),
  });
  const script = hostVolumeScript("local-lvm", 9400, "vm-9400-layerbench-lab-host", 16 * 1024 ** 3);
  const made = await node.run(script);
  t.is(made.code, 0, made.stderr);
  t.is(made.stdout.trim().split("\n").pop(), join(node.dir, "lv"));
  const again = await node.run(script);
  t.is(again.code, 0, again.stderr);
  t.deepEqual(
    (await node.calls()).filter((call) => call.startsWith("pvesm alloc")),
    ["pvesm alloc local-lvm 9400 vm-9400-layerbench-lab-host 16384M --format raw"],
    "made once, used again by the next run",
  );
  const freed = await node.run(freeHostVolumeScript("local-lvm", "vm-9400-layerbench-lab-host"));
  t.is(freed.code, 0, freed.stderr);
  t.false((await fs.readdir(node.dir)).includes("lv"));
  const gone = await node.run(freeHostVolumeScript("local-lvm", "vm-9400-layerbench-lab-host"));
  t.is(gone.code, 0, "a volume the VM's destroy removed already");
  const full = await (
    await standIns(t, { pvesm: '[ "$1" = alloc ] && { echo "not enough space" >&2; exit 5; }; exit 1' })
  ).run(script);
  t.is(full.code, 2);
  t.regex(full.stderr, /^layerbench: pvesm alloc on storage local-lvm failed: is it active, with room for 16 GiB\?$/m);
  for (const text of [script, freeHostVolumeScript("local-lvm", "x")]) t.is(await shellcheck(text), "");
});

test("host directory on a file storage: under the storage's path from pvesh, made, and removed on destroy", async (t) => {
  const node = await standIns(t, {
    pvesh: 'printf \'{"storage":"vm-files","type":"dir","path":"%s/store"}\\n\' "$STATE"',
  });
  const made = await node.run(hostDirectoryScript("vm-files", "layerbench-lab-host"));
  t.is(made.code, 0, made.stderr);
  const directory = join(node.dir, "store", "layerbench-lab-host");
  t.is(made.stdout.trim(), directory);
  await fs.writeFile(join(directory, "left-by-a-killed-run.0.0"), "x");
  const removed = await node.run(removeHostDirectoryScript("vm-files", "layerbench-lab-host"));
  t.is(removed.code, 0, removed.stderr);
  t.false(existsSync(directory));
  const noPath = await (await standIns(t, { pvesh: 'echo \'{"storage":"local-lvm","type":"lvmthin"}\'' })).run(
    hostDirectoryScript("local-lvm", "x"),
  );
  t.is(noPath.code, 2);
  t.regex(noPath.stderr, /storage local-lvm has no path: is it a directory, NFS or CIFS storage\?/);
  for (const text of [hostDirectoryScript("s", "d"), removeHostDirectoryScript("s", "d")])
    t.is(await shellcheck(text), "");
});

test("k3s installer: downloaded to a file and checked; a failed download fails the install instead of passing as done", async (t) => {
  const script = k3sServerScript({ version: "v1.33.3+k3s1", nodeIp: "10.0.0.21" });
  const offline = await standIns(t, { curl: "exit 6" });
  // mktemp's file goes to TMPDIR: one of the test's own, to see it removed.
  const tmp = await scratchDir("layerbench-k3s-tmp-");
  t.teardown(tmp.cleanup);
  const failed = await offline.run(script.replaceAll("command -v k3s", "command -v k3s-not-here"), {
    TMPDIR: tmp.path,
  });
  t.is(failed.code, 1);
  t.regex(failed.stderr, /could not download the k3s installer from https:\/\/get\.k3s\.io/);
  t.deepEqual(await fs.readdir(tmp.path), [], "the installer's temporary file is removed on failure too");
  t.false((await offline.calls()).some((call) => call.startsWith("sudo") || call.startsWith("k3s")));

  const captive = await standIns(t, {
    curl: 'while [ "$1" != "-o" ]; do shift; done; echo "<html>sign in</html>" > "$2"',
  });
  const wrong = await captive.run(script.replaceAll("command -v k3s", "command -v k3s-not-here"));
  t.is(wrong.code, 1);
  t.regex(wrong.stderr, /https:\/\/get\.k3s\.io did not return the k3s install script/);
});

test("k3s installer: the checked script runs with the pinned version and the server's flags", async (t) => {
  const node = await standIns(t, {
    curl: `while [ "$1" != "-o" ]; do shift; done; printf '#!/bin/sh\\necho "install.sh $INSTALL_K3S_VERSION $*" >> "$CALLS"\\nprintf "#!/bin/sh\\\\necho node1 Ready\\\\n" > "$BIN/k3s"; chmod +x "$BIN/k3s"\\n' > "$2"`,
  });
  const result = await runScript(k3sServerScript({ version: "v1.33.3+k3s1", nodeIp: "10.0.0.21" }), {
    binDir: node.bin,
    standInEnv: { CALLS: join(node.dir, "calls"), BIN: node.bin, STATE: node.dir },
  });
  t.is(result.code, 0, result.stderr);
  t.true(
    (await node.calls()).includes(
      "install.sh v1.33.3+k3s1 server --node-ip 10.0.0.21 --tls-san 10.0.0.21 --disable traefik --write-kubeconfig-mode 0600",
    ),
  );
});

test("Longhorn ready: waits for its workloads, then for every node's disk to be ready and schedulable", async (t) => {
  // The CSI plugin rolls out on the second look; node 3's disk becomes schedulable on the third.
  const node = await standIns(t, {
    k3s: [
      'case "$2" in',
      '  rollout) n=$(cat "$STATE/rollout" 2>/dev/null || echo 0); echo $((n + 1)) > "$STATE/rollout"; [ "$6" = daemonset/longhorn-csi-plugin ] && [ "$n" -lt 2 ] && exit 1; exit 0;;',
      '  get) n=$(cat "$STATE/get" 2>/dev/null || echo 0); echo $((n + 1)) > "$STATE/get"; printf "True True\\nTrue True\\nTrue %s\\n" "$([ "$n" -ge 2 ] && echo True || echo False)";;',
      "esac",
    ].join("\n"),
  });
  const script = longhornReadyScript(3);
  const result = await node.run(script);
  t.is(result.code, 0, result.stderr);
  const calls = await node.calls();
  t.is(
    calls.filter((call) => call.includes("rollout status -n longhorn-system daemonset/longhorn-csi-plugin")).length,
    2,
  );
  t.true(
    calls.indexOf(calls.find((call) => call.includes("deployment/csi-attacher"))!) <
      calls.findIndex((call) => call.includes("get nodes.longhorn.io")),
    "workloads first, then nodes",
  );
  t.true(
    calls.some((call) => call.includes("{range .items[*].status.diskStatus.*}")),
    "each disk's own conditions (status.diskStatus), not the node's",
  );
  t.true(calls.filter((call) => call === "sleep 5").length >= 3);
  t.is(await shellcheck(script), "");
});

test("Longhorn quiet: waits while a volume is attaching or rebuilding, or the API does not answer; detached and healthy volumes are quiet", async (t) => {
  const node = await standIns(t, {
    // The API server does not answer at first (no proof of quiet), then a replica rebuilds, then all is healthy.
    k3s: 'n=$(cat "$STATE/n" 2>/dev/null || echo 0); echo $((n + 1)) > "$STATE/n"; if [ "$n" -eq 0 ]; then exit 1; elif [ "$n" -lt 2 ]; then printf "pvc-a detached unknown\\npvc-b attached degraded\\n"; else printf "pvc-a detached unknown\\npvc-b attached healthy\\n"; fi',
  });
  const result = await node.run(LONGHORN_QUIET_SCRIPT);
  t.is(result.code, 0, result.stderr);
  t.is((await node.calls()).filter((call) => call === "sleep 5").length, 2);
  t.is(await shellcheck(LONGHORN_QUIET_SCRIPT), "");
});
