import { execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, promises as fs, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

// A real Debian 13 guest for the tests: a root file system made by mmdebstrap from Debian's own packages (systemd,
// udev, cloud-init, OpenSSH, sudo, Debian's cloud kernel and the packages the program's guest roles install), put
// on an ext4 disk image, with that kernel and its initrd beside it. Built once per machine and kept while nothing
// that goes into it changes.
//
// What differs from a Debian 13 cloud image on Proxmox, and why it does not change what the tests see:
// - the guest has no internet: its apt source is an empty local repository, and the roles' packages are installed
//   when the image is built (from the same mirror, as root, as cloud-init would), so that cloud-init's own
//   `package_update` and `packages` run for real and find them installed, in seconds instead of minutes of dpkg
//   under TCG;
// - the kernel and initrd are given to QEMU instead of being found by GRUB on the disk.

const run = promisify(execFile);

export const DEBIAN_SUITE = "trixie";
/** What a Debian cloud image has that the tests rely on; the roles' packages come from the program. */
const BASE_PACKAGES = [
  "systemd-sysv",
  "udev",
  "dbus",
  "openssh-server",
  "sudo",
  "cloud-init",
  "netplan.io",
  "linux-image-cloud-amd64",
  "ca-certificates",
  "iproute2",
  // Debian's cloud images have them; cloud-init's resizefs and fs_setup call resize2fs and mkfs.ext4.
  "e2fsprogs",
  "kmod",
  "procps",
];
/** Part of the cache key: bump it when the way the image is put together changes. */
const LAYOUT_VERSION = "1";
export const ROOT_LABEL = "lb-root";
const IMAGE_SIZE = "3G";
/** mmdebstrap downloads about 130 MB: ample on a slow mirror, and a hang ends with a message instead of CI's limit. */
const BUILD_TIMEOUT_MS = 20 * 60_000;

export interface DebianImage {
  /** The root file system: an ext4 image labelled ROOT_LABEL, to be copied before a boot writes to it. */
  rootImage: string;
  vmlinuz: string;
  initrd: string;
  /** `dpkg-query` of the image: package and version, one a line. */
  packages: string;
}

export class GuestImageError extends Error {}

export function cacheDirectory(): string {
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "layerbench", "debian-guest");
}

/** The Debian mirror this machine's apt already uses (deb822 or one-line sources), else Debian's redirector. */
export function debianMirror(): string {
  if (process.env.LAYERBENCH_DEBIAN_MIRROR) return process.env.LAYERBENCH_DEBIAN_MIRROR;
  const files = ["/etc/apt/sources.list.d/debian.sources", "/etc/apt/sources.list"];
  for (const file of files) {
    const text = existsSync(file) ? readFileSync(file, "utf8") : "";
    const uri =
      /^URIs:\s*(\S+\/debian)\/?\s*$/m.exec(text)?.[1] ??
      /^deb\s+(?:\[[^\]]*\]\s+)?(\S+\/debian)\/?\s/m.exec(text)?.[1];
    if (uri) return uri;
  }
  return "http://deb.debian.org/debian";
}

/**
 * What mmdebstrap runs in the new root before it is packed: the root's mount, an apt source that needs no network,
 * cloud-init's NoCloud datasource only (no probes of cloud metadata addresses), networkd for netplan.
 */
const CUSTOMIZE = [
  `echo 'LABEL=${ROOT_LABEL} / ext4 defaults,errors=remount-ro 0 1' > "$1/etc/fstab"`,
  'mkdir -p "$1/srv/layerbench-apt" && : > "$1/srv/layerbench-apt/Packages"',
  `echo 'deb [trusted=yes] file:/srv/layerbench-apt ./' > "$1/etc/apt/sources.list"`,
  `echo 'Acquire::Languages "none";' > "$1/etc/apt/apt.conf.d/99layerbench-test"`,
  `printf 'datasource_list: [NoCloud, None]\\napt:\\n  preserve_sources_list: true\\n' > "$1/etc/cloud/cloud.cfg.d/99-layerbench-test.cfg"`,
  ': > "$1/etc/resolv.conf"',
  'chroot "$1" systemctl enable systemd-networkd >/dev/null 2>&1',
];

async function missingTools(): Promise<string[]> {
  const tools: Array<[string, string]> = [
    ["mmdebstrap", "mmdebstrap"],
    ["mkfs.ext4", "e2fsprogs"],
    ["genisoimage", "genisoimage"],
    ["qemu-system-x86_64", "qemu-system-x86"],
    ["ssh", "openssh-client"],
  ];
  const found = await Promise.all(
    tools.map(([tool]) =>
      run("sh", ["-c", `command -v ${tool} || [ -x /usr/sbin/${tool} ] || [ -x /sbin/${tool} ]`]).then(
        () => true,
        () => false,
      ),
    ),
  );
  return tools.filter((_, index) => !found[index]).map(([, pkg]) => pkg);
}

/** One line when the mirror does not answer within 20 s, instead of an apt that retries for many minutes. */
async function checkMirror(mirror: string): Promise<void> {
  const url = `${mirror}/dists/${DEBIAN_SUITE}/Release`;
  let reason: string;
  try {
    const response = await fetch(url, { method: "HEAD", signal: AbortSignal.timeout(20_000) });
    if (response.ok) return;
    reason = `HTTP ${response.status}`;
  } catch (error) {
    const cause = (error as Error & { cause?: Error }).cause;
    reason = cause?.message ?? (error as Error).message;
  }
  throw new GuestImageError(
    `cannot reach Debian's mirror for the real Debian 13 guest: ${url}: ${reason} (set LAYERBENCH_DEBIAN_MIRROR to another mirror)`,
  );
}

function mmdebstrap(args: string[], logFile: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("mmdebstrap", args, { stdio: ["ignore", "pipe", "pipe"] });
    const chunks: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => chunks.push(chunk));
    const timer = setTimeout(() => child.kill("SIGTERM"), BUILD_TIMEOUT_MS);
    child.on("error", reject);
    child.on("close", async (code, signal) => {
      clearTimeout(timer);
      const log = Buffer.concat(chunks).toString("utf8");
      await fs.writeFile(logFile, log);
      if (code === 0) return resolve();
      const last = log.trim().split("\n").filter(Boolean).slice(-3).join(" | ");
      reject(
        new GuestImageError(
          `mmdebstrap ${signal ? `stopped after ${BUILD_TIMEOUT_MS / 60_000} min` : `failed (exit ${code})`}: ${last} (whole log: ${logFile})`,
        ),
      );
    });
  });
}

/** The image with the roles' packages, from the cache when nothing that goes into it has changed. */
export async function debianImage(rolePackages: string[], cacheDir = cacheDirectory()): Promise<DebianImage> {
  const packages = [...new Set([...BASE_PACKAGES, ...rolePackages])].sort();
  const mirror = debianMirror();
  const key = createHash("sha256")
    .update([LAYOUT_VERSION, DEBIAN_SUITE, mirror, ...packages, ...CUSTOMIZE].join("\n"))
    .digest("hex")
    .slice(0, 16);
  const dir = join(cacheDir, key);
  const image: DebianImage = {
    rootImage: join(dir, "root.ext4"),
    vmlinuz: join(dir, "vmlinuz"),
    initrd: join(dir, "initrd.img"),
    packages: "",
  };
  if (existsSync(join(dir, "packages.txt")))
    return { ...image, packages: await fs.readFile(join(dir, "packages.txt"), "utf8") };

  const missing = await missingTools();
  if (missing.length > 0)
    throw new GuestImageError(
      `the real Debian 13 guest needs ${missing.join(", ")}: sudo apt-get install ${missing.join(" ")} (or sh bench/install-deps.sh --tests)`,
    );
  if (process.getuid?.() !== 0)
    throw new GuestImageError(
      "the real Debian 13 guest's image is built as root (mmdebstrap and mkfs.ext4 -d keep its files' owners): run npm run test:guest as root",
    );
  await checkMirror(mirror);
  await fs.mkdir(cacheDir, { recursive: true });
  // What a build that was killed left behind.
  for (const name of await fs.readdir(cacheDir))
    if (name.startsWith("building-")) await fs.rm(join(cacheDir, name), { recursive: true, force: true });
  const building = await fs.mkdtemp(join(cacheDir, "building-"));
  try {
    const root = join(building, "root");
    await mmdebstrap(
      [
        "--variant=minbase",
        `--include=${packages.join(",")}`,
        '--aptopt=Acquire::http::Timeout "30"',
        '--aptopt=Acquire::Retries "3"',
        ...CUSTOMIZE.map((hook) => `--customize-hook=${hook}`),
        `--customize-hook=chroot "$1" dpkg-query -W -f '\${Package} \${Version}\\n' > "$1/../packages.txt"`,
        DEBIAN_SUITE,
        root,
        mirror,
      ],
      join(cacheDir, "build.log"),
    );
    const boot = await fs.readdir(join(root, "boot"));
    const vmlinuz = boot.find((name) => name.startsWith("vmlinuz-"));
    const initrd = boot.find((name) => name.startsWith("initrd.img-"));
    if (!vmlinuz || !initrd) throw new GuestImageError(`the image's /boot has no kernel and initrd: ${boot.join(" ")}`);
    await fs.copyFile(join(root, "boot", vmlinuz), join(building, "vmlinuz"));
    await fs.copyFile(join(root, "boot", initrd), join(building, "initrd.img"));
    await run("mkfs.ext4", ["-q", "-F", "-L", ROOT_LABEL, "-d", root, join(building, "root.ext4"), IMAGE_SIZE]);
    await fs.rm(root, { recursive: true, force: true });
    await fs.rm(dir, { recursive: true, force: true });
    await fs.rename(building, dir);
  } finally {
    await fs.rm(building, { recursive: true, force: true });
  }
  // Images of older keys are of no further use.
  for (const name of await fs.readdir(cacheDir))
    if (/^[0-9a-f]{16}$/.test(name) && name !== key)
      await fs.rm(join(cacheDir, name), { recursive: true, force: true });
  return { ...image, packages: await fs.readFile(join(dir, "packages.txt"), "utf8") };
}
