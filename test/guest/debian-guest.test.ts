import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import test, { type ExecutionContext } from "ava";
import { parse } from "yaml";
import { parseScriptOutput, TARGET_BLOCK } from "../../bench/remote/fio-script.js";
import { guestAddressScript } from "../../bench/remote/node-scripts.js";
import { EXT4_EAGER_INIT } from "../../bench/variants/k8s-variants.js";
import { LONGHORN_DATA_PATH } from "../../components/backends/longhorn.js";
import { guestDisks } from "../helpers/guest-model.js";
import { runScript } from "../helpers/scripts.js";
import { freePort } from "../helpers/sshd.js";
import { type DebianImage, debianImage, GuestImageError } from "./debian-image.js";
import { type DeclaredGuest, declaredGuests } from "./declared-guests.js";
import { type BootedGuest, bootDeclaredGuest } from "./proxmox-guest.js";

// The real Debian 13 guest (test/guest/debian-image.ts) booted with each guest role the example stacks declare,
// taken from the program under the strict mocks: its cloud-init user data on a NoCloud drive as Proxmox VE makes
// it, its disks as qemu-server 9 attaches them. Over real SSH, as the user cloud-init makes (not root, with sshd's
// PATH), the program's own scripts run: each guest's readiness script and the bench VM's fio scripts.
// What runs after them cannot run here: k3s's installer, Longhorn and ceph-csi need the internet and Kubernetes
// binaries that Debian 13 does not package (only kubectl); they stay under the strict mocks.

const run = promisify(execFile);
const STACKS = ["quick", "homelab", "vmsize", "ceph"];
/** Under TCG on 2 cores sshd answered after 55-75 s (k3s node) and 80-100 s (the bench VM's 30 disks). */
const BOOT_TIMEOUT_MS = 10 * 60_000;

const work = await fs.mkdtemp(join(process.cwd(), ".layerbench-test-guest-"));
test.after.always(() => fs.rm(work, { recursive: true, force: true }));
const key = join(work, "id_ed25519");

/** What cloud-init is told, without the VM's own name: guests alike but for it play the same role. */
const roleOf = (guest: DeclaredGuest) => guest.userData.replace(/^hostname: .*$/m, "");

interface Setup {
  roles: DeclaredGuest[][];
  image: DebianImage;
}

/**
 * The stacks as their files say, with the test's key and runs of 3 s on 4 MiB (fio logs a second's average once the
 * second is over: a 1-s run may log none); the image with their packages.
 */
async function setUp(): Promise<Setup> {
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "layerbench-test", "-f", key]);
  const publicKey = (await fs.readFile(`${key}.pub`, "utf8")).trim();
  const guests = await declaredGuests(STACKS, (raw) => ({
    ...raw,
    runtime: 3,
    size: "4m",
    repeat: 1,
    // The fill before the first run: what every VM disk on Ceph gets, here on every disk.
    precondition: true,
    vm: { ...(raw.vm as object), sshPublicKey: publicKey },
  }));
  const roles = new Map<string, DeclaredGuest[]>();
  for (const guest of guests) roles.set(roleOf(guest), [...(roles.get(roleOf(guest)) ?? []), guest]);
  // Every package a role's user data installs: the image has them, as a guest that ran cloud-init once would.
  const rolePackages = guests.flatMap((guest) => (parse(guest.userData) as { packages?: string[] }).packages ?? []);
  return { roles: [...roles.values()], image: await debianImage(rolePackages) };
}
const setup = setUp();

test.serial("the example stacks declare two guest roles: the bench VM and the k3s node", async (t) => {
  const { roles } = await setup;
  const names = roles.map((members) => members.map((guest) => `${guest.stack}/${guest.name}`).join(" "));
  t.is(roles.length, 2, names.join(" | "));
  for (const role of ["bench-vm", "k3s-node"]) t.truthy(membersOf(roles, role), names.join(" | "));
});

/** The guests of a role, all named alike. */
function membersOf(roles: DeclaredGuest[][], role: string): DeclaredGuest[] | undefined {
  return roles.find((members) => members.every((guest) => guest.name.startsWith(`${role}-`)));
}

/** Boots the role's guest with the most data disks; runs, as its login user, the readiness script of every member. */
async function bootAndReady(t: ExecutionContext, role: string): Promise<{ guest: DeclaredGuest; booted: BootedGuest }> {
  const { roles, image } = await setup;
  const members = membersOf(roles, role);
  if (!members) throw new Error(`no ${role} role`);
  const guest = members.reduce((most, member) => (member.vm.disks.length > most.vm.disks.length ? member : most));
  const dir = await fs.mkdtemp(join(work, `${guest.stack}-${guest.name}-`));
  const booted = await bootDeclaredGuest({
    image,
    guest,
    workDir: dir,
    privateKey: key,
    bootTimeoutMs: BOOT_TIMEOUT_MS,
  });
  t.teardown(booted.stop);
  if (booted.earlierFault) t.log(`booted again after a kernel fault before /init: ${booted.earlierFault}`);
  t.log(`${guest.stack}/${guest.name}: SSH after ${booted.bootSeconds.toFixed(0)} s under ${booted.accel}`);
  const who = await booted.ssh('id -u; echo "$PATH"; . /etc/os-release; echo "$VERSION_ID"');
  const [uid, path, release] = who.stdout.trim().split("\n");
  t.not(uid, "0", "the login user is not root");
  t.is(path, "/usr/local/bin:/usr/bin:/bin:/usr/games", "sshd's PATH for a user other than root: no sbin");
  t.is(release, "13");
  for (const member of members) {
    const ready = await booted.ssh(member.readyScript);
    if (ready.code !== 0) t.log((await booted.ssh("cloud-init status --long")).stdout);
    t.is(ready.code, 0, `${member.stack}/${member.name}'s readiness script: ${ready.stderr.trim()}`);
  }
  return { guest, booted };
}

/** Debian's QEMU user network gives the guest this address by DHCP. */
const GUEST_ADDRESS = "10.0.2.15";

test.serial(
  "bench VM: ready as its non-root user; every disk found by its serial as udev names it; fio runs",
  async (t) => {
    const { guest, booted } = await bootAndReady(t, "bench-vm");
    const dataDisks: Array<{ interface: string; serial: string }> = guest.vm.disks.slice(1);
    // The by-id names real udev gives the disks are those the strict mocks' guest model gives them (and so the
    // names that the program's ZFS and Ceph release scripts look for): virtio-SERIAL, and for SCSI under qemu-server
    // 9 the device_id, scsi-0QEMU_QEMU_HARDDISK_drive-scsiN.
    const listing = await booted.ssh(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a template.
      'for link in /dev/disk/by-id/*; do echo "${link##*/} $(readlink -f "$link")"; done',
    );
    const links = new Map(
      listing.stdout
        .trim()
        .split("\n")
        .map((line) => line.split(" ") as [string, string])
        .filter(([name]) => !name.startsWith("ata-QEMU_DVD-ROM")),
    );
    const model = await guestDisks(dataDisks, 9, work);
    t.teardown(model.cleanup);
    t.deepEqual([...links.keys()].sort(), [...model.byId.keys()].sort());

    // Each declared fio script's own lookup, up to the end of its target block, in the real sysfs: the disk it
    // finds is the one udev names after that variant's disk.
    t.is(guest.fioScripts.length, dataDisks.length, guest.fioScripts.map(({ name }) => name).join(" "));
    const lookups = guest.fioScripts
      .map(
        ({ name, script }) =>
          `(\n${script.slice(0, script.indexOf(TARGET_BLOCK.end))}\necho "${name} $LAYERBENCH_TARGET"\n)`,
      )
      .join("\n");
    const found = await booted.ssh(lookups);
    t.is(found.code, 0, found.stderr);
    const devices = new Map(
      found.stdout
        .trim()
        .split("\n")
        .map((line) => line.split(" ") as [string, string]),
    );
    for (const disk of dataDisks) {
      const script = guest.fioScripts.find(({ serial }) => serial === disk.serial);
      const udevName = disk.interface.startsWith("scsi")
        ? `scsi-0QEMU_QEMU_HARDDISK_drive-${disk.interface}`
        : `virtio-${disk.serial}`;
      t.is(devices.get(script?.name ?? ""), links.get(udevName), `${disk.interface} (serial ${disk.serial})`);
    }

    // The whole script, fill and series included, on the first disk of each bus.
    for (const bus of ["virtio", "scsi"]) {
      const disk = dataDisks.find((candidate) => candidate.interface.startsWith(bus));
      const fio = guest.fioScripts.find(({ serial }) => serial === disk?.serial);
      if (!disk || !fio) continue;
      const started = Date.now();
      const result = await booted.ssh(fio.script);
      t.log(`${fio.name} on ${disk.interface}: exit ${result.code} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
      t.is(result.code, 0, `${fio.name}: ${result.stderr.trim().split("\n").slice(-3).join(" | ")}`);
      const output = parseScriptOutput(result.stdout, fio.name);
      t.deepEqual(output.failures, [], fio.name);
      t.is(output.precondition?.ok, true, `${fio.name}: the fill before the runs`);
      t.is(output.environment.os, "Debian GNU/Linux 13 (trixie)");
      t.true(output.runs.length > 0, fio.name);
      for (const { workload, run } of output.runs) {
        t.true(run.write !== undefined && run.write.ioBytes > 0, `${fio.name} ${workload}: bytes written`);
        t.true((run.series?.iops.length ?? 0) > 0, `${fio.name} ${workload}: a per-second series from fio's logs`);
      }
    }

    // The node asks the guest agent for the address: the program's own script, on the real agent's answer.
    const address = await runScript(guestAddressScript(Number(guest.vm.vmId)), { binDir: booted.qmDir });
    t.is(address.stdout.trim(), GUEST_ADDRESS, address.stderr);
  },
);

test.serial(
  "k3s node: ready as its non-root user with Longhorn's and ceph-csi's needs; Longhorn's disk as the checks expect",
  async (t) => {
    const { guest, booted } = await bootAndReady(t, "k3s-node");
    // cloud-init's fs_setup and mounts: ext4 labelled longhorn on the node's own disk, mounted where Longhorn keeps
    // its replicas, made by a mkfs.ext4 that was given the options that write inode tables and journal at once.
    const mount = await booted.ssh(`findmnt -n -o SOURCE,FSTYPE,LABEL ${LONGHORN_DATA_PATH}`);
    t.is(mount.stdout.trim().replace(/\s+/g, " "), "/dev/vdb ext4 longhorn");
    // cloud-init logs each command it runs (cloudinit/subp.py) with its arguments as a Python list.
    const mkfs = await booted.ssh("sudo grep -h \"Running command \\['/usr/sbin/mkfs.ext4'\" /var/log/cloud-init.log");
    t.true(mkfs.stdout.includes(EXT4_EAGER_INIT.map((option) => `'${option}'`).join(", ")), mkfs.stdout || mkfs.stderr);
    const address = await runScript(guestAddressScript(Number(guest.vm.vmId)), { binDir: booted.qmDir });
    t.is(address.stdout.trim(), GUEST_ADDRESS, address.stderr);
  },
);

test.serial(
  "a Debian mirror that does not answer stops the image's build at once, in one line naming it",
  async (t) => {
    await setup;
    const cache = await fs.mkdtemp(join(work, "cache-"));
    const closed = await freePort();
    process.env.LAYERBENCH_DEBIAN_MIRROR = `http://127.0.0.1:${closed}/debian`;
    t.teardown(() => {
      delete process.env.LAYERBENCH_DEBIAN_MIRROR;
    });
    const started = Date.now();
    const error = await t.throwsAsync(debianImage(["fio"], cache), { instanceOf: GuestImageError });
    t.regex(
      error?.message ?? "",
      new RegExp(`^cannot reach Debian's mirror .*127\\.0\\.0\\.1:${closed}/debian/.*ECONNREFUSED`),
    );
    t.false(error?.message.includes("\n"));
    t.true(Date.now() - started < 20_000);
    t.deepEqual(await fs.readdir(cache), [], "nothing built");
  },
);
