import { type ChildProcess, execFile, spawn } from "node:child_process";
import { promises as fs } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parse } from "yaml";
import { guestAccelerator } from "../../bench/qemu/accelerator.js";
import { pciBridges, pciPlacement, qemuDiskArgs } from "../../bench/qemu/disk-args.js";
import { cacheDirectory, prepareGuest } from "../../bench/qemu/guest.js";
import { type Accelerator, guestCpu } from "../../bench/qemu/run-guest.js";
import { DEFAULT_VARIANT, type VmDiskVariant } from "../../bench/variants/vm-variants.js";
import type { ScriptResult } from "../helpers/scripts.js";
import { freePort } from "../helpers/sshd.js";
import { type DebianImage, ROOT_LABEL } from "./debian-image.js";
import type { DeclaredGuest } from "./declared-guests.js";
import { nocloudIso } from "./nocloud.js";

// A declared VM booted for real: the Debian 13 image on its boot disk (virtio0), its data disks as qemu-server 9
// attaches them (bench/qemu/disk-args.ts, each a sparse file of the declared size), the cloud-init drive on ide2
// where the provider puts it (bpg proxmoxtf/resource/vm/vm.go: findExistingCloudInitDrive(..., "ide2")), the guest
// agent's virtio-serial port as qemu-server adds it for `agent: enabled` (QemuServer.pm), i440fx as Proxmox's
// default machine, and one NIC whose only way out is SSH from this machine: QEMU's user network with restrict=on
// sends nothing anywhere else.

const run = promisify(execFile);

export interface BootedGuest {
  accel: Accelerator;
  /** Seconds from QEMU's start until sshd let the user in. */
  bootSeconds: number;
  /** Why an earlier boot of the guest failed before /init, where it did. */
  earlierFault?: string;
  /** Runs a script as remote.Command does: the whole text as SSH's command, run by the user's login shell. */
  ssh(script: string, timeoutMs?: number): Promise<ScriptResult>;
  /** A directory with a stand-in `qm` whose `qm guest cmd VMID CMD` asks this guest's agent, as the node's does. */
  qmDir: string;
  stop(): Promise<void>;
}

/** A data disk as the provider's `disks` list declares it; absent fields take the provider's defaults. */
interface DeclaredDisk {
  interface: string;
  size: number;
  serial?: string;
  cache?: VmDiskVariant["cache"];
  aio?: VmDiskVariant["aio"];
  iothread?: boolean;
  discard?: VmDiskVariant["discard"];
  ssd?: boolean;
}

/**
 * The disk as the variant qemuDiskArgs renders: the provider's defaults where the declaration is silent (bpg
 * proxmoxtf/resource/vm/disk/schema.go: cache none, aio io_uring, discard ignore). A disk on Ceph is a local file
 * here: the guest sees the same virtio device and serial either way.
 */
function diskVariant(disk: DeclaredDisk): VmDiskVariant {
  return {
    ...DEFAULT_VARIANT,
    id: disk.serial ?? disk.interface,
    bus: disk.interface.startsWith("scsi") ? "virtio-scsi-single" : "virtio-blk",
    cache: disk.cache ?? "none",
    aio: disk.aio ?? "io_uring",
    iothread: disk.iothread ?? false,
    discard: disk.discard ?? "ignore",
    ssd: disk.ssd ?? false,
    sizeGb: disk.size,
    storage: "zfs",
  };
}

/** Proxmox's MAC prefix (BC:24:11), then the vmId's low bytes. */
function macFor(vmId: number): string {
  const bytes = [(vmId >> 16) & 0xff, (vmId >> 8) & 0xff, vmId & 0xff];
  return ["bc", "24", "11", ...bytes.map((byte) => byte.toString(16).padStart(2, "0"))].join(":");
}

function exec(command: string, args: string[], timeoutMs: number): Promise<ScriptResult> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 255) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export interface BootOptions {
  image: DebianImage;
  guest: DeclaredGuest;
  /** Where the boot disk's copy and the data disks go: a disk that takes O_DIRECT (cache=none), not a RAM disk. */
  workDir: string;
  /** The private key whose public half the stack's user data authorizes. */
  privateKey: string;
  bootTimeoutMs: number;
}

/** A kernel's report of its own fault on the serial console. */
const KERNEL_FAULT = /Kernel panic - not syncing|Oops:|BUG:|general protection fault|double fault|invalid opcode:/;
/** Where the kernel hands over to the initramfs: nothing of the guest's system, nor of the program, ran before. */
const INIT_STARTED = "Run /init as init process";

/** A kernel that faulted before it started /init. */
class EarlyKernelFault extends Error {}

/** The console from just before the kernel's first fault (what follows is its consequence), else its last lines. */
function consoleExcerpt(lines: string[]): string {
  const fault = lines.findIndex((line) => KERNEL_FAULT.test(line));
  return (fault >= 0 ? lines.slice(Math.max(fault - 2, 0), fault + 40) : lines.slice(-15)).join("\n");
}

/**
 * Boots the declared VM and waits until its cloud-init user can log in over SSH. A kernel that faults before it
 * starts /init has run nothing of the guest's own system or of the program, whatever they do wrong: the guest is
 * booted once more, and the fault kept for the test's log.
 */
export async function bootDeclaredGuest(options: BootOptions): Promise<BootedGuest> {
  try {
    return await bootGuest(options);
  } catch (error) {
    if (!(error instanceof EarlyKernelFault)) throw error;
    return { ...(await bootGuest(options)), earlierFault: error.message };
  }
}

async function bootGuest(options: BootOptions): Promise<BootedGuest> {
  const { image, guest, workDir } = options;
  const vm = guest.vm;
  const user = loginUser(guest.userData);
  const { accel } = await guestAccelerator(await prepareGuest(), cacheDirectory());
  // A socket's path has at most 107 bytes: in the temporary directory, not the work directory.
  const socketDir = await fs.mkdtemp(join(tmpdir(), "lb-qga-"));
  const agentSocket = join(socketDir, "qga.sock");
  const port = await freePort();
  const boot = join(workDir, "virtio0.raw");
  await run("cp", ["--sparse=always", image.rootImage, boot]);
  const [, ...declaredData] = vm.disks as DeclaredDisk[];
  const dataArgs: string[] = [];
  for (const disk of declaredData) {
    const file = join(workDir, `${disk.interface}.raw`);
    await fs.writeFile(file, "");
    await fs.truncate(file, disk.size * 1024 ** 3);
    dataArgs.push(...qemuDiskArgs(diskVariant(disk), disk.interface, { driver: "file", path: file, volid: file }, "9"));
  }
  const ipv4 = vm.initialization?.ipConfigs?.[0]?.ipv4;
  if (ipv4?.address !== "dhcp") throw new Error(`${guest.name}: the test network gives addresses by DHCP only`);
  const mac = macFor(Number(vm.vmId));
  const iso = await nocloudIso(workDir, guest.userData, [{ mac, ipv4: "dhcp" }]);
  const consoleLog = join(workDir, "console.log");
  const args = [
    "-machine",
    "pc",
    "-accel",
    accel,
    "-cpu",
    guestCpu(accel),
    "-smp",
    String(Math.min(Number(vm.cpu?.cores ?? 2), 2)),
    "-m",
    String(Math.min(Number(vm.memory?.dedicated ?? 2048), 3072)),
    "-nodefaults",
    "-display",
    "none",
    "-no-reboot",
    "-serial",
    `file:${consoleLog}`,
    "-kernel",
    image.vmlinuz,
    "-initrd",
    image.initrd,
    "-append",
    // As the local guest's (bench/qemu/run-guest.ts): no early timer check to panic under a busy TCG.
    `root=LABEL=${ROOT_LABEL} rw console=ttyS0 panic=-1 no_timer_check`,
    ...pciBridges(vm.scsiHardware === "virtio-scsi-single"),
    "-drive",
    `file=${boot},if=none,id=drive-virtio0,format=raw,discard=unmap`,
    "-device",
    `virtio-blk-pci,drive=drive-virtio0,id=virtio0,${pciPlacement("virtio0")}`,
    ...dataArgs,
    "-drive",
    `file=${iso},if=none,id=drive-ide2,media=cdrom,readonly=on`,
    "-device",
    "ide-cd,bus=ide.1,unit=0,drive=drive-ide2,id=ide2",
    "-netdev",
    `user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:${port}-:22`,
    "-device",
    // PCI.pm: net0 at 0x12, the agent's virtio-serial (qga0) at 0x8.
    `virtio-net-pci,mac=${mac},netdev=net0,bus=pci.0,addr=0x12,id=net0`,
    "-chardev",
    `socket,path=${agentSocket},server=on,wait=off,id=qga0`,
    "-device",
    "virtio-serial,id=qga0,bus=pci.0,addr=0x8",
    "-device",
    "virtserialport,chardev=qga0,name=org.qemu.guest_agent.0",
  ];
  const started = Date.now();
  const qemu: ChildProcess = spawn("qemu-system-x86_64", args, { stdio: ["ignore", "ignore", "pipe"] });
  let qemuError = "";
  qemu.stderr?.setEncoding("utf8").on("data", (chunk: string) => (qemuError += chunk));
  const killOnExit = () => qemu.kill("SIGKILL");
  process.once("exit", killOnExit);
  const sshArgs = [
    "-i",
    options.privateKey,
    "-p",
    String(port),
    "-o",
    "StrictHostKeyChecking=no",
    "-o",
    "UserKnownHostsFile=/dev/null",
    "-o",
    "LogLevel=ERROR",
    "-o",
    "BatchMode=yes",
    "-o",
    "ConnectTimeout=10",
    `${user}@127.0.0.1`,
  ];
  const stop = async () => {
    process.removeListener("exit", killOnExit);
    if (qemu.exitCode === null && qemu.signalCode === null) {
      const closed = new Promise((resolve) => qemu.once("close", resolve));
      qemu.kill("SIGTERM");
      await closed;
    }
    await fs.rm(socketDir, { recursive: true, force: true });
  };
  try {
    for (;;) {
      if (qemu.exitCode !== null || qemu.signalCode !== null)
        throw new Error(`QEMU stopped: ${qemuError.trim() || `exit ${qemu.exitCode ?? qemu.signalCode}`}`);
      if (Date.now() - started > options.bootTimeoutMs)
        throw new Error(`no SSH login after ${options.bootTimeoutMs / 1000} s`);
      const probe = await exec("ssh", [...sshArgs, "true"], 30_000);
      if (probe.code === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 3000));
    }
  } catch (error) {
    const consoleLines = (await fs.readFile(consoleLog, "utf8").catch(() => "")).trim().split("\n");
    await stop();
    const message = `${guest.stack} ${guest.name}: ${(error as Error).message}\nconsole:\n${consoleExcerpt(consoleLines)}`;
    const fault = consoleLines.findIndex((line) => KERNEL_FAULT.test(line));
    const init = consoleLines.findIndex((line) => line.includes(INIT_STARTED));
    throw fault >= 0 && (init < 0 || fault < init) ? new EarlyKernelFault(message) : new Error(message);
  }
  return {
    accel,
    bootSeconds: (Date.now() - started) / 1000,
    ssh: (script, timeoutMs = 600_000) => exec("ssh", [...sshArgs, script], timeoutMs),
    qmDir: await qmStandIn(socketDir, agentSocket),
    stop,
  };
}

/** The login user of the user data: the first of its `users`, the one with the stack's key. */
function loginUser(userData: string): string {
  const name = (parse(userData) as { users?: Array<{ name?: unknown }> }).users?.[0]?.name;
  if (typeof name !== "string") throw new Error("the user data names no user");
  return name;
}

/**
 * `qm guest cmd VMID COMMAND` on a node sends guest-COMMAND to the VM's agent socket and prints what the agent
 * returns as JSON (PVE::API2::Qemu::Agent): here over the socket QEMU gives this guest's virtio-serial port.
 */
async function qmStandIn(dir: string, socket: string): Promise<string> {
  const ask = fileURLToPath(new URL("qm-guest-cmd.cjs", import.meta.url));
  await fs.writeFile(
    join(dir, "qm"),
    `#!/bin/sh\n[ "$1 $2" = "guest cmd" ] || { echo "stand-in qm: only guest cmd" >&2; exit 2; }\nexec node '${ask}' '${socket}' "$4"\n`,
    { mode: 0o755 },
  );
  return dir;
}
