import { existsSync, promises as fs } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { jobFileProfile } from "../bench/core/job-file-profile.js";
import { toResultsDocument } from "../bench/core/results.js";
import { cpioArchive } from "../bench/qemu/cpio.js";
import { prepareGuest } from "../bench/qemu/guest.js";
import { runGuest } from "../bench/qemu/run-guest.js";
import type { ScriptRun } from "../bench/remote/fio-script.js";
import { validateVariant } from "../bench/variants/vm-variants.js";
import { runCli } from "./helpers/cli.js";
import { execFileAsync, QUICK_WRITES, scratchDir } from "./helpers/fio.js";

// The local guest booted for real under TCG (QEMU's emulator: it works on any CI machine), with short runs.

// Size-bound writes: a timed run costs its runtime on top of fio's start, about a second under TCG (9 runs of ars
// with --runtime 1: 35 s from boot to power-off; of these: 15 s).
const PROFILE = jobFileProfile(QUICK_WRITES, "quick-writes.fio");

/** A scratch directory on the disk of the checkout: /tmp may be a RAM disk, where cache=none (O_DIRECT) fails. */
async function diskScratch(): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await fs.mkdtemp(join(process.cwd(), ".layerbench-test-"));
  return { path, cleanup: () => fs.rm(path, { recursive: true, force: true }) };
}

test.serial(
  "one TCG boot measures three disks in Proxmox VE 9's and 8.4's shapes, each found by its serial",
  async (t) => {
    const dir = await diskScratch();
    t.teardown(dir.cleanup);
    const guest = await prepareGuest();
    t.true(existsSync(guest.kernel.vmlinuz) && existsSync(guest.initrd));
    t.is(
      guest.fioVersion,
      (await execFileAsync("fio", ["--version"])).stdout.trim(),
      "the host's own fio is in the guest",
    );
    // Proxmox VE 9's disk shape for a virtio-blk and a SCSI disk (a qcow2 file, as on a directory storage), 8.4's
    // for another SCSI disk.
    const disks = [
      { variant: validateVariant({ id: "blk-none", cache: "none", aio: "io_uring", iothread: true }), shape: "9" },
      {
        variant: validateVariant({
          id: "scsi-none",
          bus: "virtio-scsi-single",
          cache: "none",
          aio: "io_uring",
          storage: "dir",
          format: "qcow2",
        }),
        shape: "9",
      },
      {
        variant: validateVariant({
          id: "scsi-wb-8",
          bus: "virtio-scsi-single",
          cache: "writeback",
          aio: "threads",
          iothread: false,
        }),
        shape: "8",
      },
    ] as const;
    const started: string[] = [];
    const runs: Array<{ variant: string } & ScriptRun> = [];
    const byId = new Map<string, string>();
    const { args, seconds } = await runGuest({
      guest,
      accel: "tcg",
      disks: [...disks],
      imageDir: dir.path,
      imageBytes: 128 * 1024 ** 2,
      profile: PROFILE,
      repeat: 1,
      timeoutMs: 240_000,
      events: {
        workloadStarted: (variant, workload, attempt) => started.push(`${variant}/${workload}#${attempt}`),
        run: async (variant, run) => void runs.push({ variant, ...run }),
        failure: async (variant, failure) => t.fail(`${variant}: ${failure.message}`),
        byId: (name, device) => byId.set(name, device),
      },
    });
    const line = args.join(" ");
    t.regex(line, /-accel tcg -cpu qemu64 /, "without KVM, the CPU qemu-server gives a VM without KVM");
    const blockdev = JSON.parse(args[args.indexOf("-blockdev") + 1]);
    t.like(blockdev, { driver: "throttle", "node-name": "drive-virtio1", file: { driver: "raw" } });
    t.like(blockdev.file.file, {
      driver: "file",
      filename: join(dir.path, "blk-none.img"),
      aio: "io_uring",
      cache: { direct: true, "no-flush": false },
    });
    t.true(
      args.includes(
        "virtio-blk-pci,drive=drive-virtio1,id=virtio1,bus=pci.0,addr=0xb,iothread=iothread-virtio1,serial=blk-none,write-cache=on",
      ),
    );
    t.true(args.includes("iothread,id=iothread-virtio1"));
    // The qcow2 disk: a qcow2 format node over the file, as Blockdev.pm generate_format_blockdev gives it.
    const scsi0 = args
      .filter((_, index) => args[index - 1] === "-blockdev")
      .map((value) => JSON.parse(value))
      .find((node) => node["node-name"] === "drive-scsi0");
    t.like(scsi0.file, { driver: "qcow2", file: { driver: "file", filename: join(dir.path, "scsi-none.img") } });
    // Each SCSI disk's controller on the bridge pci.3, which the guest has with pci.1 and pci.2, as on Proxmox.
    t.regex(line, / virtio-scsi-pci,id=virtioscsi0,bus=pci\.3,addr=0x1[, ]/);
    t.regex(
      line,
      /pci-bridge,id=pci\.1,.* pci-bridge,id=pci\.2,.* pci-bridge,id=pci\.3,chassis_nr=3,bus=pci\.0,addr=0x5/,
    );
    t.true(
      args.includes(
        "scsi-hd,bus=virtioscsi0.0,channel=0,scsi-id=0,lun=0,drive=drive-scsi0,id=scsi0,device_id=drive-scsi0,serial=scsi-none,write-cache=on",
      ),
    );
    t.true(
      args.includes(
        `file=${join(dir.path, "scsi-wb-8.img")},if=none,id=drive-scsi1,cache=writeback,aio=threads,discard=ignore,format=raw,detect-zeroes=on`,
      ),
      "Proxmox VE 8.4's -drive",
    );
    t.true(
      args.includes("scsi-hd,bus=virtioscsi1.0,channel=0,scsi-id=0,lun=1,drive=drive-scsi1,id=scsi1,serial=scsi-wb-8"),
    );
    // What udev's rules make of them (systemd 60-persistent-storage.rules, with Debian's scsi_id): on PVE 9 the
    // SCSI link names the device_id, not the serial; on 8.4 QEMU reports the serial in VPD page 0x83.
    // Which SCSI disk the kernel probes first varies from boot to boot: sda and sdb name no slot.
    t.deepEqual([...byId.keys()].sort(), [
      "scsi-0QEMU_QEMU_HARDDISK_drive-scsi0",
      "scsi-0QEMU_QEMU_HARDDISK_scsi-wb-8",
      "virtio-blk-none",
    ]);
    t.deepEqual([...byId.values()].sort(), ["/dev/sda", "/dev/sdb", "/dev/vda"]);
    const workloads = PROFILE.workloads.map((workload) => workload.id);
    t.deepEqual(
      started,
      disks.flatMap(({ variant }) => workloads.map((workload) => `${variant.id}/${workload}#1`)),
    );
    t.deepEqual(
      runs.map((run) => `${run.variant}/${run.workload}`),
      disks
        .map(({ variant }) => variant.id)
        .flatMap((variant) => workloads.map((workload) => `${variant}/${workload}`)),
    );
    for (const run of runs) {
      const write = run.run.write!;
      t.true(write.iops > 0 && write.ioBytes > 0, `${run.variant}/${run.workload} wrote`);
      t.is(run.run.fioVersion, guest.fioVersion);
    }
    t.deepEqual(await fs.readdir(dir.path), [], "the images and the run's initramfs are removed");
    t.log(`TCG guest: ${seconds.toFixed(1)} s from boot to power-off for 9 runs`);
  },
);

test.serial(
  "layerbench run with a directory and a VM target, the ars profile in the guest: one document, the guest's accelerator said in results and report",
  async (t) => {
    const dir = await diskScratch();
    t.teardown(dir.cleanup);
    const out = join(dir.path, "out");
    const host = join(dir.path, "host");
    await fs.mkdir(host);
    const result = await runCli([
      "run",
      "--runtime",
      "2",
      "--size",
      "4m",
      "--target",
      `host=${host}`,
      // One VM target: each timed run costs its runtime and about 2 s of fio's start under TCG; the other buses and
      // shapes are measured in the first test's boot.
      "--target",
      `scsi-wb=vm:bus=virtio-scsi-single,cache=writeback,ssd=on,dir=${dir.path}`,
      "--out",
      out,
    ]);
    t.is(result.code, 0, result.stderr);
    const document = toResultsDocument(
      JSON.parse(await fs.readFile(join(out, "results.json"), "utf8")),
      "results.json",
    );
    t.deepEqual(
      document.variants.map((variant) => [variant.id, variant.layer, variant.baseline]),
      [
        ["host", "local", true],
        ["scsi-wb", "vm", false],
      ],
    );
    const accel = document.variants[1].options.accel;
    t.true(accel === "kvm" || accel === "tcg");
    t.like(document.variants[1].options, { bus: "virtio-scsi-single", cache: "writeback", ssd: true, accel, pve: "9" });
    // What ran it: the QEMU here, and what the script found in the guest (its kernel, QEMU's machine type).
    const ranOn = document.variants[1].environment ?? {};
    t.regex(ranOn.qemu ?? "", /^QEMU emulator version \d+\.\d+/);
    t.regex(ranOn.machine ?? "", /^pc-i440fx-\d+\.\d+/);
    t.truthy(ranOn.kernel);
    t.truthy(document.variants[0].environment?.kernel, "the host's kernel for the directory target");
    t.true(
      document.variants
        .slice(1)
        .every(
          (variant) =>
            variant.workloads.length === 3 &&
            variant.workloads.every((workload) => (workload.summary.write?.iops?.mean ?? 0) > 0),
        ),
    );
    // The guest's runs second by second, as a directory's (the series marker after each run's end). A short run under
    // a loaded TCG may log no whole second (2-s runs here), so not every run need have one; before, none did.
    const series = document.variants[1].workloads.flatMap((workload) => workload.runs.map((run) => run.series));
    t.true(
      series.some((entry) => (entry?.iops.length ?? 0) > 0),
      "a series for the VM target's runs",
    );
    const markdown = await fs.readFile(join(out, "report.md"), "utf8");
    if (accel === "tcg") {
      t.regex(
        result.stderr,
        /WARNING: KVM does not work here, VM targets run under TCG: emulated CPU: not representative of VirtIO overhead/,
      );
      t.regex(
        markdown,
        /^> \*\*Warning: emulated CPU: not representative of VirtIO overhead\.\*\* scsi-wb ran in a local guest without KVM/m,
      );
      t.regex(markdown, /^\| scsi-wb \(emulated CPU\) \| /m);
    } else {
      t.notRegex(markdown, /emulated CPU/);
    }
    t.deepEqual((await fs.readdir(dir.path)).sort(), ["host", "out"], "no image left behind");
  },
);

test.serial(
  "run --axes --design main-effects: 10 of the 20 valid variants in one guest; the report fits them; plan --confirm proposes the next run",
  async (t) => {
    const dir = await diskScratch();
    t.teardown(dir.cleanup);
    const out = join(dir.path, "out");
    const jobFile = join(dir.path, "one.fio");
    // One workload, 1 MiB of writes: the design, not fio, is under test.
    await fs.writeFile(jobFile, "[global]\nioengine=psync\n[randwrite]\nrw=randwrite\nbs=4k\nsize=1m\n");
    const axes =
      "bus=virtio-blk,virtio-scsi-single;cache=none,directsync,writethrough,writeback,unsafe;iothread=on,off";
    const result = await runCli(
      ["run", "--profile", jobFile, "--axes", axes, "--design", "main-effects", "--seed", "5", "--out", out],
      { cwd: dir.path },
    );
    t.is(result.code, 0, result.stderr);
    const document = toResultsDocument(
      JSON.parse(await fs.readFile(join(out, "results.json"), "utf8")),
      "results.json",
    );
    const [design] = document.designs ?? [];
    // 1 + 1 (bus) + 4 (cache) + 1 (iothread) = 7 parameters and 3 more: 10 of 2 x 5 x 2.
    t.like(design, { layer: "vm", kind: "main-effects" });
    t.is(design.candidates.length, 20);
    t.deepEqual(
      document.variants.map((variant) => variant.id),
      ["local", ...design.chosen],
    );
    t.true(design.chosen.includes("blk-none-iot"), "the all-defaults variant");
    t.true(document.variants.slice(1).every((variant) => (variant.workloads[0]?.summary.write?.iops?.mean ?? 0) > 0));
    const markdown = await fs.readFile(join(out, "report.md"), "utf8");
    t.regex(
      markdown,
      /^Design main-effects: 10 of the 20 valid variants of the axes measured \(D-efficiency 0\.\d{3} against measuring all 20\)\.$/m,
    );
    if (document.variants[1].options.accel === "tcg")
      t.true(
        markdown.includes(`** ${design.chosen.join(", ")} ran in a local guest without KVM`),
        "the warning names every variant of the guest",
      );
    // Measured in the seed's order, the model takes a drift term where that order allows: one parameter more.
    const drift = /^Drift: .* took out [-+]\d+\.\d % from the first run to the last/m.test(markdown);
    t.regex(
      markdown,
      drift
        ? /^Model: 8 parameters fitted to the means of 10 variants \(10 runs\): 2 degrees of freedom for the error\./m
        : /^Model: 7 parameters fitted to the means of 10 variants \(10 runs\): 3 degrees of freedom for the error\./m,
    );
    t.is(document.order?.seed, 5);
    t.deepEqual(
      [document.order?.sequence[0], document.order?.sequence.at(-1)],
      ["local", "local"],
      "the baseline before and after the guest's disks",
    );
    const plan = await runCli(["plan", "--confirm", join(out, "results.json")]);
    t.is(plan.code, 0, plan.stderr);
    t.regex(plan.stdout, /^vm: design main-effects, 10 of 20 valid variants measured$/m);
    t.regex(
      plan.stdout,
      /^ {4}predicted best {2}[a-z-]+ [0-9.]+× \(95 %: [0-9.]+–[0-9.]+\), (not measured|measured [0-9.]+×)$/m,
    );
    const next = /--axes '([^']+)' --design main-effects --confirm (\S+)$/m.exec(plan.stdout);
    if (next) {
      // The axes as they were given: iothread as on/off, not true/false.
      t.is(next[1], axes);
      t.true(next[2].split(",").every((id) => design.candidates.some((candidate) => candidate.id === id)));
    } else {
      t.regex(plan.stdout, /nothing left to confirm/);
    }
    t.deepEqual((await fs.readdir(dir.path)).sort(), ["one.fio", "out"], "no image left behind");
  },
);

test.serial(
  "bad VM targets and missing QEMU: one line naming the value, or the Debian packages to install",
  async (t) => {
    const dir = await scratchDir();
    t.teardown(dir.cleanup);
    const bin = join(dir.path, "bin");
    await fs.mkdir(bin);
    await fs.symlink((await execFileAsync("sh", ["-c", "command -v fio"])).stdout.trim(), join(bin, "fio"));
    const out = join(dir.path, "out");
    const cases: Array<{ args: string[]; env?: NodeJS.ProcessEnv; message: RegExp }> = [
      {
        args: ["--target", "a=vm:cache=fast"],
        message:
          /^layerbench: VM target "a": cache "fast" is not allowed: use one of none, directsync, writethrough, writeback, unsafe$/,
      },
      {
        args: ["--target", "a=vm:ssd=on"],
        message:
          /^layerbench: VM target "a": ssd emulation is not supported on virtio-blk disks: use bus virtio-scsi-single$/,
      },
      {
        args: ["--target", "a=vm:aio=native,cache=writeback"],
        message: /^layerbench: VM target "a": aio=native needs cache none or directsync/,
      },
      {
        args: ["--target", "a=vm:iothread=yes"],
        message: /^layerbench: VM target "a": iothread=yes is not allowed: use on or off$/,
      },
      {
        args: ["--target", "a=vm:queues=4"],
        message:
          /^layerbench: VM target "a": unknown option "queues": use bus, cache, aio, iothread, discard, ssd, format, dir, pve, rbd, id, conf$/,
      },
      {
        args: ["--target", "a=vm:pve=7"],
        message:
          /^layerbench: VM target "a": pve=7 is not allowed: use 8 or 9 \(the Proxmox VE release whose disk arguments the guest gets\)$/,
      },
      {
        args: ["--target", "Big=vm:cache=none"],
        message: /^layerbench: VM target id "Big" is not allowed: use lower-case letters/,
      },
      {
        args: ["--axes", "cache=none,fast"],
        message:
          /^layerbench: --axes: cache "fast" is not allowed: use one of none, directsync, writethrough, writeback, unsafe$/,
      },
      {
        args: ["--axes", "queues=1,2"],
        message: /^layerbench: --axes: unknown axis "queues": use bus, cache, aio, iothread, discard, ssd, format$/,
      },
      {
        args: ["--axes", "cache=none,writeback", "--design", "main-effects+interactions"],
        message: /^layerbench: --design main-effects\+interactions needs --interactions: a list of axis pairs$/,
      },
      {
        args: ["--design", "main-effects"],
        message: /^layerbench: --design needs --axes: a design chooses among its variants$/,
      },
      {
        args: ["--target", "a=vm:cache=none"],
        env: { ...process.env, PATH: bin },
        message:
          /^layerbench: the local VM guest needs qemu-system-x86, busybox-static: sudo apt-get install qemu-system-x86 busybox-static$/,
      },
    ];
    for (const { args, env, message } of cases) {
      const result = await runCli(["run", "--size", "4m", "--runtime", "1", ...args, "--out", out], {
        cwd: dir.path,
        env,
      });
      t.is(result.code, 1, args.join(" "));
      t.is(result.stderr.trim().split("\n").length, 1, result.stderr);
      t.regex(result.stderr.trim(), message);
      t.false(existsSync(out));
    }
  },
);

test("the initramfs writer makes archives busybox cpio reads back, file modes and links included", async (t) => {
  const dir = await scratchDir();
  t.teardown(dir.cleanup);
  const archive = cpioArchive([
    { kind: "dir", path: "bin" },
    { kind: "file", path: "bin/hello", executable: true, data: Buffer.from("#!/bin/sh\necho hello\n") },
    { kind: "file", path: "notes.txt", data: Buffer.from("odd length!") },
    { kind: "symlink", path: "bin/hi", target: "hello" },
  ]);
  await fs.writeFile(join(dir.path, "a.cpio"), archive);
  const { stdout } = await execFileAsync("sh", [
    "-c",
    `cd '${dir.path}' && mkdir x && cd x && busybox cpio -i -d < ../a.cpio 2>/dev/null && ls -l bin notes.txt && cat notes.txt && ./bin/hi`,
  ]);
  t.regex(stdout, /-rwxr-xr-x .* hello/);
  t.regex(stdout, /lrwxrwxrwx .* hi -> hello/);
  t.regex(stdout, /-rw-r--r-- .* notes\.txt/);
  t.regex(stdout, /odd length!hello\n$/);
});

test.serial(
  "a guest that crashes (QEMU killed) fails its own disk's remaining runs, with the signal; the targets after it still run",
  async (t) => {
    const dir = await diskScratch();
    t.teardown(dir.cleanup);
    const [a, b, out] = ["a", "b", "out"].map((name) => join(dir.path, name));
    await Promise.all([fs.mkdir(a), fs.mkdir(b)]);
    const jobFile = join(dir.path, "quick-writes.fio");
    await fs.writeFile(jobFile, QUICK_WRITES);
    // In the order given, for the kill to find the guest at its 4th run: a, blk, b, then a again.
    const args = [
      "run",
      "--profile",
      jobFile,
      "--order",
      "given",
      "--target",
      `a=${a}`,
      "--target",
      `blk=vm:bus=virtio-blk,cache=none,dir=${dir.path}`,
    ];
    const result = await runCli([...args, "--target", `b=${b}`, "--out", out], {
      // Once the guest runs its first workload, QEMU is killed as the OOM killer or a kill -9 would.
      whileRunning: (_child, stderr) => {
        const timer = setInterval(async () => {
          if (!/running \[4\/12\] blk /.test(stderr())) return;
          clearInterval(timer);
          const qemu = await execFileAsync("pgrep", ["-f", `qemu-system.*${dir.path}`]).catch(() => ({ stdout: "" }));
          for (const pid of qemu.stdout.split("\n").filter(Boolean)) process.kill(Number(pid), "SIGKILL");
        }, 100);
      },
    });
    t.is(result.code, 1, result.stderr);
    t.regex(
      result.stderr,
      /^layerbench: the guest stopped before its last variant \(\w+, after \d+ s\): QEMU was killed by SIGKILL: its disks' remaining runs are recorded as failed$/m,
    );
    const document = toResultsDocument(
      JSON.parse(await fs.readFile(join(out, "results.json"), "utf8")),
      "results.json",
    );
    t.deepEqual(
      document.variants.map((variant) => [variant.id, variant.workloads.length]).filter(([id]) => id !== "blk"),
      [
        ["a", 3],
        ["b", 3],
      ],
      "the directory after the guest is measured",
    );
    const failed = (document.failures ?? []).filter((failure) => failure.variant === "blk");
    t.true(failed.length >= 2, "the guest's runs not made are failed");
    t.true(failed.every((failure) => /QEMU was killed by SIGKILL/.test(failure.message)));
    t.deepEqual(document.notRun ?? [], []);
  },
);
