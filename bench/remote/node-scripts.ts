import { MARKER_SHELL } from "./markers.js";
import { rbdCachePolicyShell, rbdFeaturesShell } from "./rbd-shell.js";

// Shell the Proxmox node runs for layerbench besides ZFS: fio for the baseline, releasing what a measurement
// wrote to a zvol, and the guest's address from its agent. POSIX sh, checked by shellcheck in the tests.

const FAIL = `fail() { echo "layerbench: $*" >&2; exit 2; }`;

/**
 * A stock Proxmox VE node has no fio: install it from Debian's repositories (idempotent). `apt-get update` may
 * report errors for the enterprise repository on a node without a subscription; fio comes from Debian's own.
 */
export const NODE_FIO_SCRIPT = [
  "set -u",
  FAIL,
  "if ! command -v fio >/dev/null 2>&1; then",
  '  command -v apt-get >/dev/null 2>&1 || fail "fio is not installed on $(hostname) and there is no apt-get to install it with: install fio there"',
  '  echo "layerbench: installing fio on $(hostname)" >&2',
  '  apt-get update -qq >&2 || echo "layerbench: apt-get update reported errors (an enterprise repository without a subscription?); installing fio anyway" >&2',
  '  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fio >&2 || fail "apt-get could not install fio on $(hostname): check the node\'s package repositories, or install fio by hand"',
  "fi",
  "fio --version",
  "",
].join("\n");

/**
 * Gives back to the pool what a measurement wrote to a zvol or thin LV (both keep every written block): blkdiscard on
 * the node's device once the variant's last run is done. The benchmark's data is never read again; a zvol that
 * cannot be discarded is reported and left as it is, so that no measurement after it is lost.
 */
function releaseScript(locate: string[], what: string): string {
  return [
    "set -u",
    `warn() { echo "layerbench: could not release ${what}: $*" >&2; exit 0; }`,
    ...locate,
    // A disk on an RBD storage without krbd is no device of the node's (pve-storage RBDPlugin.pm path: an rbd: URL
    // QEMU opens with librbd), and QEMU holds the image's exclusive lock: it keeps what it wrote until destroy.
    `case "$device" in rbd:*) echo "layerbench: ${what} is an RBD image that QEMU opens itself: what it wrote stays in the pool until destroy" >&2; exit 0 ;; esac`,
    // A disk on a directory, NFS or CIFS storage is a file (raw or qcow2) of the node's: a hole punched in a qcow2
    // file would cut its metadata, so what fio wrote stays there until destroy deletes the file.
    `[ -f "$device" ] && { echo "layerbench: ${what} is a file ($device): what it wrote stays on its storage until destroy" >&2; exit 0; }`,
    '[ -b "$device" ] || warn "$device is not a block device"',
    'blkdiscard "$device" || warn "blkdiscard $device failed"',
    `echo "layerbench: released what the benchmark wrote to ${what} ($device)" >&2`,
    "",
  ].join("\n");
}

export function releaseDeviceScript(device: string): string {
  return releaseScript([`device='${device}'`], device);
}

/** A VM disk on a Ceph RBD storage: its pool, and the cache librbd gives it, none for krbd (the host's page cache). */
export interface CephDisk {
  pool: string;
  librbdCache?: "off" | "client";
}

/**
 * What the results record of a VM disk on Ceph, read on the node (the guest sees a disk, not an image): the image's
 * features, as pve-storage made it (RBDPlugin.pm alloc_image takes the cluster's defaults), and librbd's cache as
 * one word, as the host's Ceph run records it: off, or the client's policy. QEMU sets rbd_cache itself by the
 * cache mode (block/rbd.c qemu_rbd_connect), the policy is the client's configuration. As pveceph's client.admin.
 */
function cephDiskFactsLines(ceph: CephDisk): string[] {
  const rbd = "rbd --id admin";
  const name = `'${ceph.pool}'/"\${volume#*:}"`;
  return [
    MARKER_SHELL.environment("imageFeatures", rbdFeaturesShell(rbd, name)),
    ...(ceph.librbdCache === "off" ? [MARKER_SHELL.environment("rbdCache", "off")] : []),
    ...(ceph.librbdCache === "client" ? [MARKER_SHELL.environment("rbdCache", rbdCachePolicyShell(rbd, name))] : []),
  ];
}

/** The volume behind a VM's disk from `qm config`, its device from `pvesm path`; on Ceph, what the disk is first. */
export function releaseVmDiskScript(vmId: number, diskInterface: string, ceph?: CephDisk): string {
  return releaseScript(
    [
      `volume=$(qm config ${vmId} | sed -n 's/^${diskInterface}: \\([^,]*\\).*/\\1/p')`,
      `[ -n "$volume" ] || warn "VM ${vmId} has no disk ${diskInterface}"`,
      ...(ceph ? cephDiskFactsLines(ceph) : []),
      'device=$(pvesm path "$volume") || warn "pvesm path $volume failed"',
    ],
    `disk ${diskInterface} of VM ${vmId}`,
  );
}

/** Attempts, 5 s apart, to remove an image whose last client's watch may outlive it by about 30 s (a killed fio). */
const IMAGE_REMOVE_TRIES = 12;

/**
 * Removes the stack's own RBD image if a run left it (a script killed by `kill -9` or a lost node cannot remove
 * it itself): `pulumi destroy` leaves nothing on the pool. An image still in use after a minute fails the destroy,
 * naming it, so that it is never forgotten: the next destroy tries again. As pveceph's client.admin.
 */
export function removeRbdImageScript(pool: string, image: string): string {
  const name = `'${pool}/${image}'`;
  return [
    "set -u",
    FAIL,
    `rbd --id admin info ${name} >/dev/null 2>&1 || exit 0`,
    "tries=0",
    `until rbd --id admin rm --no-progress ${name} >/dev/null 2>&1; do`,
    "  tries=$((tries + 1))",
    `  [ "$tries" -ge ${IMAGE_REMOVE_TRIES} ] && fail "the RBD image ${pool}/${image} a run left is still in use after a minute: see rbd status ${pool}/${image}, then rbd rm ${pool}/${image}"`,
    "  sleep 5",
    "done",
    `echo "layerbench: removed the RBD image ${pool}/${image} a run left" >&2`,
    "",
  ].join("\n");
}

/** Tries (10 s apart) to get the guest's address from its agent: up to 15 minutes, as the provider waits for it. */
const ADDRESS_TRIES = 90;

/**
 * Prints the guest's first IPv4 address that is not loopback, as its agent reports it now. Read by a Command on
 * the node, so that the address is looked up once per run id and a later refresh of the VM cannot change the
 * connection of the measurements (pulumi-command replaces a Command whose connection changed).
 */
export function guestAddressScript(vmId: number): string {
  const pick = [
    "perl -MJSON::PP -0777 -ne '",
    'for my $if (@{decode_json($_)}) { next if ($if->{name} // "") eq "lo";',
    ' for my $ip (@{$if->{"ip-addresses"} // []}) {',
    '  if ($ip->{"ip-address-type"} eq "ipv4" && $ip->{"ip-address"} !~ /^127\\./) { print $ip->{"ip-address"}, "\\n"; exit } } }',
    "'",
  ].join("");
  return [
    "set -u",
    FAIL,
    "tries=0",
    "while :; do",
    `  address=$(qm guest cmd ${vmId} network-get-interfaces 2>/dev/null | ${pick})`,
    '  [ -n "$address" ] && break',
    "  tries=$((tries + 1))",
    `  [ "$tries" -ge ${ADDRESS_TRIES} ] && fail "the guest agent of VM ${vmId} reported no IPv4 address in 15 minutes: is qemu-guest-agent running in the guest, and DHCP on its bridge?"`,
    "  sleep 10",
    "done",
    'echo "$address"',
    "",
  ].join("\n");
}

/** Seconds a guest has to shut down cleanly (ACPI) before `qm shutdown --forceStop` stops it. */
const SHUTDOWN_TIMEOUT_SEC = 180;

/**
 * A VM stopped and started again, run when its data disks change. qemu-server applies a changed disk of a
 * running VM only in part: a new slot is hot-plugged, but for a slot it already has, cache, aio, discard,
 * iothread and ssd stay pending until the VM is stopped, and a new serial is written to the config without
 * reaching the running device at all (src/PVE/QemuServer.pm vmconfig_update_disk: serial is neither among the
 * options that make a change pending nor applied). Variant slots are given in order, so adding a variant moves
 * the ones after it: without a restart they would be measured with another variant's options. `qm start` applies
 * what is pending; the guest agent answering is when the guest is back.
 */
export function restartVmScript(vmId: number): string {
  return [
    "set -u",
    FAIL,
    `echo "layerbench: the data disks of VM ${vmId} changed: stopping and starting it so that every disk runs with its own options" >&2`,
    `qm shutdown ${vmId} --timeout ${SHUTDOWN_TIMEOUT_SEC} --forceStop 1 || fail "qm shutdown ${vmId} failed"`,
    `qm start ${vmId} || fail "qm start ${vmId} failed"`,
    "tries=0",
    `until qm guest cmd ${vmId} ping >/dev/null 2>&1; do`,
    "  tries=$((tries + 1))",
    `  [ "$tries" -ge ${ADDRESS_TRIES} ] && fail "the guest agent of VM ${vmId} did not answer within 15 minutes of its restart"`,
    "  sleep 10",
    "done",
    "",
  ].join("\n");
}

/**
 * A raw volume of the user's storage for the host-level run, made by pve-storage as it makes a VM disk there
 * (`pvesm alloc`: a thin LV on an LVM-thin storage), named after the bench VM's vmId as pve-storage requires
 * (vm-VMID-...); its device printed last. One that exists from an earlier run is used again.
 */
export function hostVolumeScript(storage: string, vmId: number, name: string, bytes: number): string {
  const volume = `'${storage}:${name}'`;
  return [
    "set -u",
    FAIL,
    `if ! device=$(pvesm path ${volume} 2>/dev/null) || [ ! -b "$device" ]; then`,
    `  pvesm alloc '${storage}' ${vmId} '${name}' ${Math.ceil(bytes / 1024 ** 2)}M --format raw >&2 || fail "pvesm alloc on storage ${storage} failed: is it active, with room for ${Math.ceil(bytes / 1024 ** 3)} GiB?"`,
    `  device=$(pvesm path ${volume}) || fail "pvesm path ${storage}:${name} failed"`,
    "fi",
    '[ -b "$device" ] || fail "$device is not a block device: the host-level run measures a volume of a block storage"',
    'echo "$device"',
    "",
  ].join("\n");
}

/** Frees the host-level run's volume on destroy; one already gone (its VM's destroy removed it) is no error. */
export function freeHostVolumeScript(storage: string, name: string): string {
  const volume = `'${storage}:${name}'`;
  return [
    "set -u",
    FAIL,
    `pvesm path ${volume} >/dev/null 2>&1 || exit 0`,
    `pvesm free ${volume} >&2 || fail "pvesm free ${storage}:${name} failed: remove it by hand (pvesm free ${storage}:${name})"`,
    "",
  ].join("\n");
}

/** The storage's path from storage.cfg, as pvesh gives it; nfs and cifs storages are mounted there. */
function storagePathLines(storage: string): string[] {
  return [
    `path=$(pvesh get /storage/'${storage}' --output-format json | perl -MJSON::PP -0777 -ne 'print decode_json($_)->{path} // ""')`,
    `[ -n "$path" ] || fail "storage ${storage} has no path: is it a directory, NFS or CIFS storage?"`,
  ];
}

/**
 * A directory of the stack's own on a file storage (directory, NFS, CIFS), for the host-level run: fio's files go
 * where the storage keeps its disk images' files, and the fio script removes them after its runs.
 */
export function hostDirectoryScript(storage: string, directory: string): string {
  return [
    "set -u",
    FAIL,
    ...storagePathLines(storage),
    `mkdir -p "$path/${directory}" || fail "cannot make $path/${directory} on storage ${storage}"`,
    `echo "$path/${directory}"`,
    "",
  ].join("\n");
}

/** Removes that directory on destroy, with whatever a killed run left in it. */
export function removeHostDirectoryScript(storage: string, directory: string): string {
  return ["set -u", FAIL, ...storagePathLines(storage), `rm -rf "$path/${directory}"`, ""].join("\n");
}
