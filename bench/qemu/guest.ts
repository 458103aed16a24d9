import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, promises as fs } from "node:fs";
import { homedir, release } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { DiskFormat } from "../storage/vm-storages.js";
import { UserError } from "../util/errors.js";
import { writeFileAtomic } from "../util/files.js";
import { type CpioEntry, cpioArchive, hostFile, parentDirectories } from "./cpio.js";
import { GUEST_INIT, GUEST_SCSI_ID } from "./init.js";

// The local guest: a kernel (the host's own, or Debian's cloud kernel extracted from its package) and an
// initramfs with busybox-static, fio and udev's scsi_id with the libraries they link, the virtio modules and an init. Built once
// and cached; a change of fio, busybox, the kernel or the init makes a new one.

const run = promisify(execFile);

/** What the guest's disks need, and what they need in turn is found from the modules themselves. */
const WANTED_MODULES = ["virtio_pci", "virtio_blk", "virtio_scsi", "sd_mod"];
const DEBIAN_KERNEL_PACKAGE = "linux-image-cloud-amd64";
/** Part of the cache key: bump it when the way the initramfs is put together changes. */
const LAYOUT_VERSION = "3";
/** Where Debian's udev package keeps scsi_id (/lib is /usr/lib on merged-/usr systems, which older ones are not). */
const SCSI_ID_PATHS = ["/usr/lib/udev/scsi_id", "/lib/udev/scsi_id"];

export interface GuestKernel {
  vmlinuz: string;
  /** The module files the guest loads, dependencies first. */
  modules: string[];
  /** "host" or the Debian package it came from. */
  source: string;
}

export interface GuestImage {
  /** The QEMU that boots it. */
  qemu: string;
  kernel: GuestKernel;
  initrd: string;
  fioVersion: string;
  /** `qemu-system-x86_64 --version`'s first line. */
  qemuVersion: string;
}

export class GuestBuildError extends UserError {}

export function cacheDirectory(): string {
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "layerbench", "guest");
}

const normalize = (name: string) => name.replace(/-/g, "_");

/** Module name → file, for every module file of the kernel; compressed ones are left out (busybox insmod cannot read them). */
async function moduleFiles(modulesDir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.name.endsWith(".ko")) files.set(normalize(entry.name.slice(0, -3)), path);
    }
  };
  await walk(join(modulesDir, "kernel"));
  return files;
}

async function builtinModules(modulesDir: string): Promise<Set<string>> {
  const text = await fs.readFile(join(modulesDir, "modules.builtin"), "utf8").catch(() => "");
  return new Set(
    text
      .split("\n")
      .filter(Boolean)
      .map((line) => normalize(line.slice(line.lastIndexOf("/") + 1).replace(/\.ko$/, ""))),
  );
}

/** The modules to load, dependencies first (from each module's own "depends=" field); built-in ones need nothing. */
async function moduleLoadOrder(modulesDir: string): Promise<string[] | undefined> {
  const [files, builtin] = await Promise.all([moduleFiles(modulesDir), builtinModules(modulesDir)]);
  const order: string[] = [];
  const visit = async (name: string): Promise<boolean> => {
    if (builtin.has(name)) return true;
    const file = files.get(name);
    if (!file) return false;
    if (order.includes(file)) return true;
    const text = (await fs.readFile(file)).toString("latin1");
    const depends = /depends=([^\0]*)/.exec(text)?.[1] ?? "";
    for (const dependency of depends.split(",").filter(Boolean))
      if (!(await visit(normalize(dependency)))) return false;
    order.push(file);
    return true;
  };
  for (const name of WANTED_MODULES) if (!(await visit(name))) return undefined;
  return order;
}

async function hostKernel(): Promise<GuestKernel | undefined> {
  const vmlinuz = `/boot/vmlinuz-${release()}`;
  const modulesDir = `/lib/modules/${release()}`;
  try {
    await fs.access(vmlinuz, fs.constants.R_OK);
    const modules = await moduleLoadOrder(modulesDir);
    return modules && { vmlinuz, modules, source: "host" };
  } catch {
    return undefined;
  }
}

/** Debian's cloud kernel (virtio drivers, small), downloaded once with apt-get and unpacked into the cache. */
async function debianKernel(cacheDir: string): Promise<GuestKernel> {
  const dir = join(cacheDir, "debian-kernel");
  const find = async (): Promise<GuestKernel | undefined> => {
    const boot = await fs.readdir(join(dir, "root", "boot")).catch((): string[] => []);
    const vmlinuz = boot.find((name) => name.startsWith("vmlinuz-"));
    if (!vmlinuz) return undefined;
    const kernelRelease = vmlinuz.slice("vmlinuz-".length);
    const modules = await moduleLoadOrder(join(dir, "root", "lib", "modules", kernelRelease));
    if (!modules)
      throw new GuestBuildError(
        `Debian's kernel ${kernelRelease} lacks usable virtio modules (${WANTED_MODULES.join(", ")})`,
      );
    return { vmlinuz: join(dir, "root", "boot", vmlinuz), modules, source: `Debian ${kernelRelease}` };
  };
  const cached = await find();
  if (cached) return cached;
  await fs.mkdir(dir, { recursive: true });
  try {
    const { stdout } = await run("apt-cache", ["depends", DEBIAN_KERNEL_PACKAGE]);
    const versioned = /Depends: (linux-image-\S+)/.exec(stdout)?.[1];
    if (!versioned) throw new Error(`apt-cache names no kernel package for ${DEBIAN_KERNEL_PACKAGE}`);
    await run("apt-get", ["download", "-q", versioned], { cwd: dir });
    const deb = (await fs.readdir(dir)).find((name) => name.startsWith(versioned) && name.endsWith(".deb"));
    if (!deb) throw new Error(`apt-get download ${versioned} left no .deb`);
    await run("dpkg-deb", ["-x", join(dir, deb), join(dir, "root")]);
    await fs.rm(join(dir, deb));
  } catch (error) {
    throw new GuestBuildError(
      `no kernel for the local guest: /boot/vmlinuz-${release()} is not usable and Debian's ${DEBIAN_KERNEL_PACKAGE} could not be fetched (${(error as Error).message.split("\n")[0]})`,
    );
  }
  const kernel = await find();
  if (!kernel) throw new GuestBuildError(`the ${DEBIAN_KERNEL_PACKAGE} package held no vmlinuz`);
  return kernel;
}

/** The shared libraries a dynamic executable loads, with the loader, as ldd lists them. */
async function sharedLibraries(executable: string): Promise<string[]> {
  const { stdout } = await run("ldd", [executable]);
  return [...stdout.matchAll(/(?:=>\s*)?(\/\S+)\s+\(0x/g)].map((match) => match[1]);
}

async function isStatic(executable: string): Promise<boolean> {
  try {
    await run("ldd", [executable]);
    return false;
  } catch {
    return true;
  }
}

async function which(command: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? "").split(":")) {
    const path = join(dir, command);
    if (dir && existsSync(path)) return path;
  }
  return undefined;
}

/**
 * qemu-img, for a qcow2 disk: made as pve-storage makes one on a directory storage (Plugin.pm alloc_image,
 * preallocation=metadata by default for qcow2, preallocation_cmd_opt). Debian's qemu-utils.
 */
export async function qemuImg(): Promise<string> {
  const path = await which("qemu-img");
  if (!path) throw new GuestBuildError("a qcow2 VM target needs qemu-img: sudo apt-get install qemu-utils");
  return path;
}

/** Makes a disk image file of the variant's format: raw sparse (preallocation off, pve-storage's default), or qcow2. */
export async function createDiskImage(path: string, format: DiskFormat, bytes: number): Promise<void> {
  if (format === "raw") {
    await fs.writeFile(path, "");
    await fs.truncate(path, bytes);
    return;
  }
  await run(await qemuImg(), ["create", "-q", "-o", "preallocation=metadata", "-f", format, path, String(bytes)]);
}

/** Checks what the local guest needs on the host; one line naming the Debian packages when something is missing. */
export async function guestTools(): Promise<{ qemu: string; busybox: string; fio: string; scsiId: string }> {
  const [qemu, busybox, fio] = await Promise.all([which("qemu-system-x86_64"), which("busybox"), which("fio")]);
  const scsiId = SCSI_ID_PATHS.find((path) => existsSync(path));
  const missing = [
    ...(qemu ? [] : ["qemu-system-x86"]),
    ...(busybox && (await isStatic(busybox)) ? [] : ["busybox-static"]),
    ...(fio ? [] : ["fio"]),
    // The guest names its SCSI disks as udev does, with udev's own scsi_id.
    ...(scsiId ? [] : ["udev"]),
  ];
  if (missing.length > 0 || !qemu || !busybox || !fio || !scsiId) {
    throw new GuestBuildError(
      `the local VM guest needs ${missing.join(", ")}: sudo apt-get install ${missing.join(" ")}`,
    );
  }
  return { qemu, busybox, fio, scsiId };
}

async function fileIdentity(path: string): Promise<string> {
  const stat = await fs.stat(path);
  return `${path}:${stat.size}:${stat.mtimeMs}`;
}

/** The kernel and the initramfs, from the cache when nothing they are made of has changed. */
export async function prepareGuest(cacheDir = cacheDirectory()): Promise<GuestImage> {
  const tools = await guestTools();
  const kernel = (await hostKernel()) ?? (await debianKernel(cacheDir));
  const { modules } = kernel;
  const libraries = [...new Set([...(await sharedLibraries(tools.fio)), ...(await sharedLibraries(tools.scsiId))])];
  const fioVersion = (await run(tools.fio, ["--version"])).stdout.trim();
  const qemuVersion = (await run(tools.qemu, ["--version"])).stdout.split("\n")[0].trim();
  const identities = await Promise.all(
    [kernel.vmlinuz, ...modules, tools.fio, tools.scsiId, tools.busybox, ...libraries].map(fileIdentity),
  );
  const key = createHash("sha256")
    .update([LAYOUT_VERSION, ...identities, GUEST_INIT].join("\n"))
    .digest("hex")
    .slice(0, 16);
  const initrd = join(cacheDir, `initrd-${key}.cpio`);
  if (!existsSync(initrd)) {
    const moduleNames = modules.map((path) => path.slice(path.lastIndexOf("/") + 1, -3));
    const files: CpioEntry[] = [
      { kind: "file", path: "init", executable: true, data: Buffer.from(GUEST_INIT) },
      { kind: "file", path: "bin/busybox", executable: true, data: await fs.readFile(tools.busybox) },
      { kind: "file", path: "bin/fio", executable: true, data: await fs.readFile(tools.fio) },
      { kind: "file", path: GUEST_SCSI_ID.slice(1), executable: true, data: await fs.readFile(tools.scsiId) },
      { kind: "file", path: "layerbench/modules", data: Buffer.from(`${moduleNames.join("\n")}\n`) },
      // Executable: the kernel runs the loader (ld-linux) itself, which needs the permission.
      ...(await Promise.all(libraries.map((path) => hostFile(path, true)))),
      ...(await Promise.all(
        modules.map(async (path) => ({
          kind: "file" as const,
          path: `lib/modules/${path.slice(path.lastIndexOf("/") + 1)}`,
          data: await fs.readFile(path),
        })),
      )),
    ];
    const dirs = ["dev", "proc", "sys", "tmp", "bin", "layerbench"].map((path) => ({ kind: "dir" as const, path }));
    const archive = cpioArchive([
      ...dirs,
      ...parentDirectories(files.map((file) => file.path)).filter(
        (dir) => !dirs.some((known) => known.path === dir.path),
      ),
      ...files,
    ]);
    await fs.mkdir(cacheDir, { recursive: true });
    await writeFileAtomic(initrd, archive);
    // Older images of this cache are of no further use.
    for (const name of await fs.readdir(cacheDir)) {
      if (/^initrd-[0-9a-f]{16}\.cpio$/.test(name) && join(cacheDir, name) !== initrd)
        await fs.rm(join(cacheDir, name), { force: true });
    }
  }
  return { qemu: tools.qemu, kernel, initrd, fioVersion, qemuVersion };
}
