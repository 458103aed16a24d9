// Every kind of Proxmox storage a VM variant's disk can live on, one descriptor each: what pve-storage and
// qemu-server do with a disk there, and where the stack finds the storage. A new kind is one entry here: the
// record is typed by VM_STORAGES, so a kind without every part does not compile, and every switch over a
// descriptor's `placement` or `device` ends in assertNever.

/** The `storage` a VM variant names. */
export const VM_STORAGES = ["zfs", "rbd", "krbd", "lvmthin", "dir", "nfs", "cifs"] as const;
export type VmStorage = (typeof VM_STORAGES)[number];

/** Disk image formats layerbench declares (pve-storage also knows vmdk and subvol, which no VM disk here uses). */
export const DISK_FORMATS = ["raw", "qcow2"] as const;
export type DiskFormat = (typeof DISK_FORMATS)[number];

/** pve-storage's plugin types (src/PVE/Storage/*Plugin.pm `type`), as storage.cfg and `pvesm status` name them. */
export type PveStorageType = "zfspool" | "rbd" | "lvmthin" | "dir" | "nfs" | "cifs";

/**
 * Where the stack finds the Proxmox storage of a disk: a ZFS storage it makes per set of ZFS options, the user's
 * RBD storage (layerbench:ceph.storage, or ceph.krbdStorage for krbd), or a storage of the user's named in
 * layerbench:storages.
 */
export type Placement = "stack-zfs" | "ceph" | "ceph-krbd" | "user";

/** What the node sees of a disk: a block device it can discard, a file, or an image only QEMU's librbd opens. */
export type NodeDevice = "block" | "file" | "librbd";

export interface VmStorageKind {
  pveType: PveStorageType;
  /** How report.md, the plan and the README name it. */
  label: string;
  /**
   * The formats the plugin takes (pve-storage src/PVE/Storage/Plugin.pm get_formats: raw only where the plugin
   * declares none; each plugin's plugindata `format`), the default first.
   */
  formats: readonly DiskFormat[];
  /**
   * Why qemu-server does not give the disk io_uring by default (src/PVE/QemuServer/Drive.pm
   * storage_allows_io_uring_default), given whether its cache mode opens it with O_DIRECT; undefined where it does.
   */
  ioUringRefusal(cacheDirect: boolean): string | undefined;
  placement: Placement;
  device: NodeDevice;
  /**
   * Whether the disk is filled before its first measurement whatever the stack's precondition says: a thin
   * volume (an RBD image, a thin LV, a sparse or qcow2 file) reads zeros without touching the disks under it.
   */
  filledBeforeMeasuring: boolean;
  /** The storage id layerbench:storages takes for it when the stack names none (user placements only). */
  defaultStorageId?: string;
  /** The source file whose rules the descriptor encodes, for refusals and the README. */
  source: string;
}

const ZFSPOOL: VmStorageKind = {
  pveType: "zfspool",
  label: "ZFS",
  // ZFSPoolPlugin.pm plugindata: raw and subvol (containers'), raw for disks.
  formats: ["raw"],
  ioUringRefusal: () => undefined,
  placement: "stack-zfs",
  device: "block",
  // The stack's precondition decides: a zvol is filled with it, as the baseline zvol is.
  filledBeforeMeasuring: false,
  source: "pve-storage src/PVE/Storage/ZFSPoolPlugin.pm",
};

/** An RBD image through QEMU's librbd: pve-storage declares no formats for RBD (raw only). */
const RBD: VmStorageKind = {
  pveType: "rbd",
  label: "Ceph RBD (librbd)",
  formats: ["raw"],
  ioUringRefusal: () => undefined,
  placement: "ceph",
  device: "librbd",
  filledBeforeMeasuring: true,
  source: "pve-storage src/PVE/Storage/RBDPlugin.pm",
};

const KRBD: VmStorageKind = {
  ...RBD,
  label: "Ceph RBD (krbd)",
  ioUringRefusal: (cacheDirect) =>
    cacheDirect ? undefined : "io_uring on krbd with a cache mode through the host's page cache hangs",
  placement: "ceph-krbd",
  device: "block",
};

/** LVM-thin: `local-lvm` of an ext4 or xfs install. LvmThinPlugin.pm alloc_image dies on any format but raw. */
const LVMTHIN: VmStorageKind = {
  pveType: "lvmthin",
  label: "LVM-thin",
  formats: ["raw"],
  ioUringRefusal: () => undefined,
  placement: "user",
  device: "block",
  filledBeforeMeasuring: true,
  // The Proxmox VE installer's thin pool on an ext4 or xfs root (pve/data).
  defaultStorageId: "local-lvm",
  source: "pve-storage src/PVE/Storage/LvmThinPlugin.pm",
};

/** A file in a directory: raw (sparse, preallocation off) or qcow2 (preallocation=metadata), Plugin.pm alloc_image. */
const DIR: VmStorageKind = {
  pveType: "dir",
  label: "directory",
  // DirPlugin.pm plugindata format: raw, qcow2, vmdk, subvol; raw the default.
  formats: ["raw", "qcow2"],
  ioUringRefusal: () => undefined,
  placement: "user",
  device: "file",
  filledBeforeMeasuring: true,
  source: "pve-storage src/PVE/Storage/DirPlugin.pm",
};

const NFS: VmStorageKind = {
  ...DIR,
  pveType: "nfs",
  label: "NFS",
  source: "pve-storage src/PVE/Storage/NFSPlugin.pm",
};

const CIFS: VmStorageKind = {
  ...DIR,
  pveType: "cifs",
  label: "CIFS",
  ioUringRefusal: () => "io_uring on CIFS causes problems since kernel 5.15",
  source: "pve-storage src/PVE/Storage/CIFSPlugin.pm",
};

export const VM_STORAGE_KINDS: Record<VmStorage, VmStorageKind> = {
  zfs: ZFSPOOL,
  rbd: RBD,
  krbd: KRBD,
  lvmthin: LVMTHIN,
  dir: DIR,
  nfs: NFS,
  cifs: CIFS,
};

/** Whether a disk of this kind is an image of the stack's Ceph pool (through librbd or krbd). */
export const onCephPool = (storage: VmStorage) => {
  const { placement } = VM_STORAGE_KINDS[storage];
  return placement === "ceph" || placement === "ceph-krbd";
};

/** The kinds whose storage the user names in layerbench:storages. */
export const USER_STORAGES = VM_STORAGES.filter((storage) => VM_STORAGE_KINDS[storage].placement === "user");

/** layerbench:storages: the user's Proxmox storage id per kind whose placement is "user". */
export type UserStorages = Partial<Record<VmStorage, string>>;
