import { existsSync, promises as fs } from "node:fs";
import { release } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import { resolveProfile } from "../bench/core/profiles.js";
import {
  documentFromScriptOutputs,
  parseScriptOutput,
  renderFioScript,
  type ScriptTarget,
} from "../bench/remote/fio-script.js";
import { scratchDir, unwritableDir } from "./helpers/fio.js";
import { findDisk, guestDisks } from "./helpers/guest-model.js";
import { runScript, shellcheck, withLocalTarget } from "./helpers/scripts.js";

const profile = resolveProfile("ars", { runtimeSec: 1, size: "4m" });
const ids = profile.workloads.map((workload) => workload.id);

test("the script passes shellcheck for every kind of target", async (t) => {
  const targets: ScriptTarget[] = [
    { kind: "directory", path: "/tank/it's here" },
    { kind: "device", path: "/dev/zvol/rpool/layerbench/baseline-zvol" },
    { kind: "serial", serial: "blk-none" },
    { kind: "rbd", pool: "ceph-vm", image: "layerbench-quick-host", client: "admin", bytes: 1024 ** 3 },
  ];
  for (const target of targets) {
    t.is(
      await shellcheck(renderFioScript({ profile, repeat: 2, target, sudo: target.kind === "serial" })),
      "",
      target.kind,
    );
  }
});

test("through sudo, fio keeps every variable its job file reads (sudo keeps only what --preserve-env names)", (t) => {
  for (const kind of ["serial", "directory"] as const) {
    const target: ScriptTarget = kind === "serial" ? { kind, serial: "blk-none" } : { kind, path: "/tank" };
    const script = renderFioScript({ profile, repeat: 1, target, sudo: true });
    const jobFile = script.slice(script.indexOf("<<'LAYERBENCH_JOB_FILE'"), script.indexOf("\nLAYERBENCH_JOB_FILE\n"));
    const read = [...new Set([...jobFile.matchAll(/\$\{(\w+)\}/g)].map((match) => match[1]))].sort();
    t.deepEqual(read, ["LAYERBENCH_LOGS", "LAYERBENCH_TARGET"], kind);
    const kept = /sudo --preserve-env=(\S+) fio /.exec(script)?.[1].split(",").sort();
    t.deepEqual(kept, read, kind);
  }
});

test("on a directory: every workload and repeat runs for real, parses, and fio's files are removed", async (t) => {
  const dir = await scratchDir();
  t.teardown(dir.cleanup);
  const result = await runScript(
    renderFioScript({ profile, repeat: 2, target: { kind: "directory", path: dir.path } }),
  );
  t.is(result.code, 0, result.stderr);
  const output = parseScriptOutput(result.stdout, "host");
  t.deepEqual(output.failures, []);
  t.deepEqual(
    output.runs.map((run) => `${run.workload}#${run.attempt}`),
    ids.flatMap((id) => [`${id}#1`, `${id}#2`]),
  );
  t.true(output.runs.every((run) => (run.run.write?.iops ?? 0) > 0 && run.run.read === undefined));
  t.deepEqual(await fs.readdir(dir.path), []);
  // stderr is what the Command logs to Pulumi's engine: one line per workload run, which `matrix` shows as progress.
  t.deepEqual(
    result.stderr.trim().split("\n"),
    ids.flatMap((id) => [`layerbench: running ${id} #1`, `layerbench: running ${id} #2`]),
  );
});

test("on a device (here a file in its place, the target block swapped): the jobs share it in their own regions", async (t) => {
  const dir = await scratchDir();
  t.teardown(dir.cleanup);
  const script = withLocalTarget(
    renderFioScript({ profile, repeat: 1, target: { kind: "serial", serial: "blk-none" }, sudo: true }),
    join(dir.path, "disk.img"),
  );
  const result = await runScript(script);
  t.is(result.code, 0, result.stderr);
  const output = parseScriptOutput(result.stdout, "vm");
  t.deepEqual(
    output.runs.map((run) => run.workload),
    ids,
  );
  const stat = await fs.stat(join(dir.path, "disk.img"));
  t.true(stat.size >= 16 * 4 * 1024 ** 2, "16 jobs of 4 MiB at offset_increment=4m span 64 MiB");
});

test("a failing workload is reported and the others still run", async (t) => {
  const result = await runScript(
    renderFioScript({ profile, repeat: 1, target: { kind: "directory", path: await unwritableDir() } }),
  );
  t.is(result.code, 0);
  const output = parseScriptOutput(result.stdout, "host");
  t.deepEqual(output.runs, []);
  t.deepEqual(
    output.failures.map((failure) => failure.workload),
    ids,
    "every workload was tried",
  );
  t.true(output.failures.every((failure) => failure.message.length > 0));
});

test("a job killed under fio (fio exits 0, 'got signal=9') is a failed run, not one of 0 IOPS", async (t) => {
  const bin = await scratchDir("layerbench-killed-job-");
  t.teardown(bin.cleanup);
  // fio's output when a job's process is killed: its JSON, its main process's line on stderr, exit 0.
  await fs.writeFile(
    join(bin.path, "fio"),
    [
      "#!/bin/sh",
      `"${fileURLToPath(new URL("stand-in/fio", import.meta.url))}" "$@"`,
      'echo "fio: pid=5, got signal=9" >&2',
      "exit 0",
      "",
    ].join("\n"),
    { mode: 0o755 },
  );
  const dir = await scratchDir();
  t.teardown(dir.cleanup);
  const result = await runScript(
    renderFioScript({ profile, repeat: 1, target: { kind: "directory", path: dir.path } }),
    {
      binDir: bin.path,
    },
  );
  t.is(result.code, 0, result.stderr);
  const output = parseScriptOutput(result.stdout, "host");
  t.deepEqual(output.runs, []);
  t.deepEqual(
    output.failures.map((failure) => [failure.workload, /got signal=9/.test(failure.message)]),
    ids.map((id) => [id, true]),
  );
});

test("an RBD target on a node whose fio has no rbd engine stops before it makes an image", async (t) => {
  const bin = await scratchDir();
  t.teardown(bin.cleanup);
  // A fio built without librbd: --enghelp=rbd fails, as fio says of an engine it does not have.
  await fs.writeFile(join(bin.path, "fio"), '#!/bin/sh\n[ "$1" = --enghelp=rbd ] && exit 1\nexit 0\n', { mode: 0o755 });
  await fs.writeFile(join(bin.path, "rbd"), `#!/bin/sh\necho "$@" >> ${bin.path}/rbd.calls\n`, { mode: 0o755 });
  const result = await runScript(
    renderFioScript({
      profile,
      repeat: 1,
      target: { kind: "rbd", pool: "p", image: "i", client: "admin", bytes: 1024 ** 2 },
    }),
    { binDir: bin.path },
  );
  t.is(result.code, 2);
  t.regex(result.stderr, /^layerbench: the fio on .+ has no rbd engine \(a fio built without librbd\)$/m);
  t.false(existsSync(join(bin.path, "rbd.calls")), "no image made, none removed");
});

test("an RBD image whose killed client's watch lingers is removed once Ceph lets it go, or named when it stays", async (t) => {
  const bin = await scratchDir();
  t.teardown(bin.cleanup);
  // fio's runs all fail here: what matters is the image's removal when the script ends.
  await fs.writeFile(join(bin.path, "fio"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
  await fs.writeFile(join(bin.path, "sleep"), "#!/bin/sh\n", { mode: 0o755 });
  // rbd rm refuses while the image has watchers: here the first REFUSALS times.
  const rbd = [
    "#!/bin/sh",
    'echo "$*" >> "$CALLS"',
    'case "$*" in',
    '  *" info "*) [ -e "$STATE/made" ] || exit 2 ;;',
    '  *" create "*) touch "$STATE/made" ;;',
    '  *" rm "*) n=$(cat "$STATE/rm" 2>/dev/null || echo 0); echo $((n + 1)) > "$STATE/rm"; [ "$n" -ge "$REFUSALS" ] || { echo "rbd: error: image still has watchers" >&2; exit 16; } ;;',
    "esac",
  ];
  await fs.writeFile(join(bin.path, "rbd"), `${rbd.join("\n")}\n`, { mode: 0o755 });
  const script = renderFioScript({
    profile,
    repeat: 1,
    target: { kind: "rbd", pool: "p", image: "i", client: "admin", bytes: 1024 ** 2 },
  });
  for (const [refusals, removed] of [
    [3, true],
    [99, false],
  ] as const) {
    const state = await scratchDir();
    t.teardown(state.cleanup);
    const calls = join(state.path, "calls");
    const result = await runScript(script, {
      binDir: bin.path,
      standInEnv: { CALLS: calls, STATE: state.path, REFUSALS: String(refusals) },
    });
    const removals = (await fs.readFile(calls, "utf8")).split("\n").filter((call) => call.includes(" rm ")).length;
    if (removed) {
      t.is(removals, refusals + 1, "asked again until the watch is gone");
      t.notRegex(result.stderr, /still in use/);
    } else {
      t.is(removals, 12, "asked for a minute, every 5 s");
      t.regex(result.stderr, /the RBD image p\/i is still in use after a minute and stays: remove it with rbd rm p\/i/);
    }
  }
});

test("a disk whose serial no disk has stops the script with a message naming the disks it saw", async (t) => {
  const result = await runScript(
    renderFioScript({ profile, repeat: 1, target: { kind: "serial", serial: "no-such-disk" } }),
    { env: { LAYERBENCH_SYSFS: "/nonexistent" } },
  );
  t.is(result.code, 2);
  t.is(result.stdout, "");
  t.regex(result.stderr, /^layerbench: no disk with serial no-such-disk in this guest \(disks and serials: none\)$/m);
});

for (const pve of [8, 9]) {
  test(`every data disk of a Proxmox VE ${pve} guest is found by its serial, whatever udev named it`, async (t) => {
    const scratch = await scratchDir();
    t.teardown(scratch.cleanup);
    const disks = [
      { interface: "virtio0" },
      { interface: "virtio1", serial: "blk-none" },
      { interface: "scsi0", serial: "scsi-none" },
      { interface: "scsi1", serial: "scsi-wb" },
      { interface: "scsi2", serial: "lb-0123456789abcdef0" },
    ];
    const guest = await guestDisks(disks, pve, scratch.path);
    for (const disk of disks.filter((candidate) => candidate.serial)) {
      const found = await findDisk(guest.sysfs, disk.serial ?? "");
      t.is(found.device, `/dev/${guest.kernelNames.get(disk.interface)}`, `${disk.serial} on ${disk.interface}`);
    }
    // udev's SCSI names: the serial on 8.4, the slot on 9 (device_id), so a lookup by name would fail there.
    t.is(guest.byId.has("scsi-0QEMU_QEMU_HARDDISK_scsi-none"), pve === 8);
    t.is(guest.byId.has("scsi-0QEMU_QEMU_HARDDISK_drive-scsi0"), pve === 9);
    const missing = await findDisk(guest.sysfs, "gone");
    t.is(missing.device, undefined);
    t.regex(
      missing.message,
      /no disk with serial gone in this guest \(disks and serials: vda= vdb=blk-none sda=lb-0123456789abcdef0 sdb=scsi-wb sdc=scsi-none\)/,
    );
  });
}

test("output cut short is an error naming the workload; outputs of several scripts make one document", async (t) => {
  const dir = await scratchDir();
  t.teardown(dir.cleanup);
  const { stdout } = await runScript(
    renderFioScript({ profile, repeat: 1, target: { kind: "directory", path: dir.path } }),
  );
  const cut = stdout.slice(0, stdout.lastIndexOf("@@layerbench end"));
  t.throws(() => parseScriptOutput(cut, "fio-host"), {
    message: "fio-host: output of randwrite-1m-qd1 #1 is cut short (no end marker)",
  });
  const output = parseScriptOutput(stdout, "fio-host");
  const failed = {
    runs: [],
    environment: {},
    failures: [{ workload: ids[0], attempt: 1, message: "fio: io_u error" }],
  };
  const document = documentFromScriptOutputs(
    { kind: "pulumi", project: "layerbench", stack: "test", runId: "7" },
    profile,
    1,
    [
      { spec: { id: "host-zvol", layer: "host", options: {}, baseline: true }, output },
      { spec: { id: "blk-none", layer: "vm", options: { cache: "none" }, baseline: false }, output: failed },
    ],
  );
  t.deepEqual(
    document.variants.map((variant) => variant.id),
    ["host-zvol"],
    "a variant with no runs has no entry",
  );
  t.deepEqual(document.failures, [{ variant: "blk-none", workload: ids[0], attempt: 1, message: "fio: io_u error" }]);
  t.is(document.createdAt, new Date(output.runs.at(-1)?.run.startedAt ?? 0).toISOString());
  t.is(document.variants[0].workloads[0].title, profile.workloads[0].title);
  // What ran it, as the script found it on this machine (no Proxmox VE here: no pve, qemu or zfs).
  const osRelease = await fs.readFile("/etc/os-release", "utf8");
  t.like(document.variants[0].environment, {
    kernel: release(),
    os: /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(osRelease)?.[1],
  });
  t.is(document.variants[0].environment?.pve, undefined);
});

test("--precondition: the disk is filled once, sequentially, before its first measurement; the time reported apart", async (t) => {
  const dir = await scratchDir();
  t.teardown(dir.cleanup);
  const filled = resolveProfile("ars", { runtimeSec: 1, size: "4m", precondition: true });
  const onDirectory = renderFioScript({ profile: filled, repeat: 1, target: { kind: "directory", path: dir.path } });
  t.notRegex(onDirectory, /precondition/, "a directory's files are laid out by fio itself: nothing to fill");
  const script = withLocalTarget(
    renderFioScript({ profile: filled, repeat: 1, target: { kind: "serial", serial: "blk-none" }, sudo: true }),
    join(dir.path, "disk.img"),
  );
  t.regex(script, /--rw=write --bs=1m --ioengine=psync --direct=1 --size=64m /, "the 16 x 4 MiB region the jobs use");
  t.is(await shellcheck(script), "");
  const result = await runScript(script);
  t.is(result.code, 0, result.stderr);
  t.is(result.stderr.split("\n")[0], `layerbench: preconditioning ${join(dir.path, "disk.img")}`, "before any run");
  const output = parseScriptOutput(result.stdout, "vm");
  t.true(output.precondition?.ok);
  t.true((output.precondition?.seconds ?? -1) >= 0);
  t.is(output.runs.length, 3, "then every workload, measured as without it");
  const document = documentFromScriptOutputs({ kind: "local", host: "h" }, filled, 1, [
    { spec: { id: "blk-none", layer: "vm", options: {}, baseline: false }, output },
  ]);
  t.is(document.variants[0].preconditionSec, output.precondition?.seconds);
  t.true(document.profile.precondition);

  const failed = parseScriptOutput("@@layerbench precondition 3 failed fio: No space left on device\n", "vm");
  t.deepEqual(failed.precondition, { seconds: 3, ok: false, message: "fio: No space left on device" });
  const withFailure = documentFromScriptOutputs({ kind: "local", host: "h" }, filled, 1, [
    { spec: { id: "blk-none", layer: "vm", options: {}, baseline: false }, output: { ...output, ...failed } },
  ]);
  t.deepEqual(
    withFailure.failures?.map((failure) => [failure.variant, failure.workload, failure.message]),
    [["blk-none", "precondition", "fio: No space left on device"]],
  );
});

test("a volume the run owns (ceph-csi's): filled to its end, the fill removed, then measured with room to spare", async (t) => {
  const volume = await scratchDir("layerbench-volume-");
  t.teardown(volume.cleanup);
  const small = resolveProfile("ars", { runtimeSec: 1, size: "4m" });
  const plain = renderFioScript({ profile: small, repeat: 1, target: { kind: "directory", path: volume.path } });
  t.notRegex(plain, /fill_device/, "a directory that is not the run's own volume is never filled");
  const script = renderFioScript({
    profile: small,
    repeat: 1,
    target: { kind: "directory", path: volume.path, fill: true },
  });
  t.is(await shellcheck(script), "");
  const scriptFile = join(volume.path, "..", `${basename(volume.path)}.sh`);
  await fs.writeFile(scriptFile, script);
  t.teardown(() => fs.rm(scriptFile, { force: true }));
  // A small file system of its own, as the pod's volume is (the fill takes every free byte), in a mount namespace
  // of the test's, so that no root is needed and nothing stays mounted; what is left on it is listed before it goes.
  const result = await runScript(
    `exec unshare --user --map-root-user --mount sh -c 'mount -t tmpfs -o size=96m tmpfs "$1" && sh "$2"; status=$?; echo "left: $(ls -A "$1")" >&2; exit $status' sh '${volume.path}' '${scriptFile}'`,
  );
  t.is(result.code, 0, result.stderr);
  t.is(result.stderr.split("\n")[0], `layerbench: filling the volume at ${volume.path} (not measured)`);
  t.regex(result.stderr, /^left: $/m, "the fill and fio's files are gone");
  const output = parseScriptOutput(result.stdout, "k8s");
  t.true(output.precondition?.ok, "ENOSPC ends the fill, not the script");
  t.deepEqual(output.failures, []);
  t.is(output.runs.length, 3, "every workload measured after it");
  t.true(output.runs.every((run) => (run.run.write?.iops ?? 0) > 0));
});

test("a full disk: the failure names fio's error, not its last words; the local runner's rule is the same", async (t) => {
  // fio's stderr when the disk fills: the cause first, its last words after (as reported in issue 23).
  const stderr = [
    "fio: io_u error on file /data/x.0.0: No space left on device: write offset=2097152, buflen=65536",
    "fio: pid=4242, err=28/file:io_u.c:1889, func=io_u error, error=No space left on device",
    "",
    "Run status group 0 (all jobs):",
    "got signal=6",
    "file hash not empty on exit",
  ].join("\n");
  const bin = await scratchDir("layerbench-full-disk-");
  t.teardown(bin.cleanup);
  await fs.writeFile(join(bin.path, "fio"), `#!/bin/sh\ncat >&2 <<'EOF'\n${stderr}\nEOF\nexit 1\n`, { mode: 0o755 });
  const dir = await scratchDir();
  t.teardown(dir.cleanup);
  const result = await runScript(
    renderFioScript({ profile, repeat: 1, target: { kind: "directory", path: dir.path } }),
    {
      binDir: bin.path,
    },
  );
  const [first] = parseScriptOutput(result.stdout, "host").failures;
  t.regex(first.message, /io_u error on file .*: No space left on device/);
  t.notRegex(first.message, /file hash not empty/);
  const { fioFailureCause } = await import("../bench/local/fio-process.js");
  t.is(fioFailureCause(stderr).replaceAll(" | ", " "), first.message.trim());
});
