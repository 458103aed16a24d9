// The Ceph part of a stack's config: the user's existing Proxmox RBD storage (a `pveceph` pool; layerbench does
// not create Ceph), what the report names its variants by (the pool's size), and ceph-csi for the Kubernetes layer.
import { z } from "zod";
import { NAME, parseWith, STORAGE_ID } from "./schema-parts.js";

export interface CephCsiSettings {
  /** The cluster's fsid: ceph-csi's clusterID, which its config map and the StorageClasses share. */
  clusterId: string;
  /** Monitor addresses, host:port (v1 port 6789, as ceph-csi's examples give them). */
  monitors: string[];
  /** The cephx user the volumes are made as (without "client."); its key is the secret layerbench:cephUserKey. */
  userId: string;
  /** The ceph-csi-rbd Helm chart version, pinned. */
  chartVersion: string;
}

export interface CephSettings {
  /** The Proxmox RBD storage the `rbd` variants' disks go on (librbd: krbd off). */
  storage: string;
  /** An RBD storage of the same pool with krbd on, for `krbd` variants. */
  krbdStorage?: string;
  /** The storages' pool: the host-level run's test image goes there too. */
  pool: string;
  /** The pool's replica count and min_size, which every Ceph variant records; `plan --check` compares them. */
  size: number;
  minSize: number;
  csi?: CephCsiSettings;
}

/** ceph-csi 3.12.2 (October 2024): supports Kubernetes 1.29 to 1.31 and Ceph Reef and Squid, as k3s 1.33's API takes it. */
export const DEFAULT_CEPH_CSI_VERSION = "3.12.2";

const FSID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MONITOR = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/;

const CsiSchema = z
  .object({
    clusterId: z.string().regex(FSID, "use the cluster's fsid, as `ceph fsid` prints it"),
    monitors: z
      .array(z.string().regex(MONITOR, "use HOST:PORT, e.g. 10.0.0.1:6789 (`ceph mon dump` lists them)"))
      .min(1, "name at least one monitor"),
    userId: z.string().regex(NAME, "use a cephx user without 'client.', e.g. kubernetes").default("admin"),
    chartVersion: z
      .string()
      .regex(/^\d+\.\d+\.\d+$/, "use a ceph-csi-rbd chart version, e.g. 3.12.2")
      .default(DEFAULT_CEPH_CSI_VERSION),
  })
  .strict();

const CephSchema = z
  .object({
    storage: z.string().regex(STORAGE_ID, "use a Proxmox storage id (Datacenter > Storage), e.g. ceph-vm"),
    krbdStorage: z.string().regex(STORAGE_ID, "use a Proxmox storage id of an RBD storage with KRBD on").optional(),
    pool: z.string().regex(NAME, "use the Ceph pool of the storage, e.g. ceph-vm"),
    size: z.number().int().min(1).max(10).default(3),
    minSize: z.number().int().min(1).max(10).default(2),
    csi: CsiSchema.optional(),
  })
  .strict()
  .refine((ceph) => ceph.minSize <= ceph.size, { message: "minSize is larger than size", path: ["minSize"] })
  .refine((ceph) => ceph.krbdStorage !== ceph.storage, {
    message: "krbdStorage is the same storage as storage: krbd is a storage's setting, give one with KRBD on",
    path: ["krbdStorage"],
  });

export function parseCeph(value: unknown): CephSettings | undefined {
  if (value === undefined) return undefined;
  return parseWith("ceph", CephSchema, value);
}
