import { type K8sSettings, LONGHORN_RESERVED } from "../config/k8s-config.js";
import { type Profile, totalFootprint } from "../core/profiles.js";
import { type K8sVariant, OPENEBS_BASE_PATH, type VolumeKind, variantsByKind } from "../variants/k8s-variants.js";

// What `plan` says of each storage backend of the Kubernetes layer, from the stack's config alone: the disk it
// adds to every k3s node, the pool space its volumes keep, its lines, and how long it takes to install. The
// other half of a backend, what it declares, is components/backends/<kind>.ts; a kind in VOLUME_KINDS (bench/storage/k8s-volumes.ts) without
// an entry here or there does not compile.

const GiB = 1024 ** 3;

export interface SpaceItem {
  what: string;
  /** Bytes written to the pool at most, at the busiest moment of the run. */
  bytes: number;
}

/** A backend's part of a stack's plan. */
export interface BackendPlan {
  /** The disk every k3s node gets for it, beside its boot disk (on the k3s VMs' boot datastore). */
  nodeDisk?: { slot: string; sizeGb: number };
  /** Pool space its volumes keep until destroy. */
  space: SpaceItem[];
  lines: string[];
  /** A rough guess of its install's duration, in seconds: not measured (no Proxmox node here). */
  provisioningSec: number;
}

interface BackendPlanning {
  /** How the plan names it. */
  name: string;
  /** `here`: the Proxmox node whose pool the plan counts, and how many k3s nodes run on it. */
  plan(k8s: K8sSettings, variants: K8sVariant[], profile: Profile, here: StackNode): BackendPlan;
}

/** The stack's Proxmox node, whose pool the plan counts, and the k3s nodes on it. */
export interface StackNode {
  name: string;
  k3sNodes: number;
}

const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? "" : "s"}`;

const LONGHORN_PLANNING: BackendPlanning = {
  name: "Longhorn",
  plan: (k8s, variants, profile, here) => {
    const longhorn = variants.flatMap((variant) => (variant.kind === "longhorn" ? [variant] : []));
    const replicas = longhorn.reduce((sum, variant) => sum + variant.replicas, 0);
    // Longhorn puts at most one replica of a volume on a node (replica-soft-anti-affinity is false by default,
    // longhorn-manager types/setting.go): this node's pool holds a replica per volume and k3s node on it, at most.
    const replicasHere = longhorn.reduce((sum, variant) => sum + Math.min(variant.replicas, here.k3sNodes), 0);
    // A replica keeps what fio wrote in its volume until destroy: every workload's files, at most the volume.
    const writtenPerVolume = Math.min(k8s.volumeSizeGb * GiB, totalFootprint(profile));
    const schedulableGb = Math.floor(k8s.longhornDiskGb * (1 - LONGHORN_RESERVED));
    return {
      nodeDisk: { slot: "longhorn", sizeGb: k8s.longhornDiskGb },
      space:
        replicasHere > 0
          ? [
              {
                what: `Longhorn replicas on ${here.name}'s k3s node(s): ${replicasHere} of what fio writes per volume, kept until destroy`,
                bytes: replicasHere * writtenPerVolume,
              },
            ]
          : [],
      lines: [
        `Longhorn: ${plural(longhorn.length, "volume")} of ${k8s.volumeSizeGb} GiB, ${plural(replicas, "replica")} (one a node, ${replicasHere} on ${here.name}); each k3s node a ${k8s.longhornDiskGb} GiB disk, ${schedulableGb} GiB schedulable (${LONGHORN_RESERVED * 100} % reserved), up to ${longhorn.length * k8s.volumeSizeGb} GiB scheduled`,
      ],
      provisioningSec: 300,
    };
  },
};

/** k3s's own: volumes on the node's boot disk, deleted with their claim after each measurement. */
const LOCAL_PATH_PLANNING: BackendPlanning = {
  name: "local-path",
  plan: () => ({ space: [], lines: [], provisioningSec: 0 }),
};

/** ceph-csi: each volume an image of the stack's Ceph pool, filled before its runs, kept with its claim. */
const CEPH_RBD_PLANNING: BackendPlanning = {
  name: "ceph-csi (RBD)",
  plan: (k8s, variants) => ({
    // The pool's raw use depends on its size, which `plan --check` reads with the quota: this is what is written.
    space: [],
    lines: [
      `ceph-csi: ${plural(variants.length, "RBD volume")} of ${k8s.volumeSizeGb} GiB, each filled before its runs: up to ${variants.length * k8s.volumeSizeGb} GiB on the Ceph pool until destroy`,
    ],
    provisioningSec: 120,
  }),
};

/** OpenEBS LocalPV hostpath: its provisioner from the chart, volumes as directories on the k3s node's boot disk. */
const OPENEBS_HOSTPATH_PLANNING: BackendPlanning = {
  name: "OpenEBS LocalPV hostpath",
  plan: (k8s, variants) => ({
    space: [],
    lines: [
      `OpenEBS LocalPV hostpath (chart localpv-provisioner ${k8s.openebsVersion}): ${plural(variants.length, "volume")} of ${k8s.volumeSizeGb} GiB, each a directory under ${OPENEBS_BASE_PATH} on the first k3s node's boot disk, deleted with its claim after its runs`,
    ],
    provisioningSec: 90,
  }),
};

/** The user's StorageClasses: made from their manifests, or by their charts; their volumes' space is theirs to know. */
const STORAGE_CLASS_PLANNING: BackendPlanning = {
  name: "your StorageClasses",
  plan: (k8s, variants) => {
    const classes = variants.flatMap((variant) => (variant.kind === "storageclass" ? [variant] : []));
    return {
      space: [],
      lines: classes.map(
        (variant) =>
          `StorageClass ${variant.storageClass} (${variant.id}): ${[
            ...(variant.chart
              ? [`chart ${variant.chart.name} ${variant.chart.version} in namespace ${variant.chart.namespace}`]
              : []),
            ...(variant.manifest
              ? [`made from the stack's manifest, provisioner ${variant.manifest.provisioner}`]
              : []),
          ].join(
            ", ",
          )}; a ${k8s.volumeSizeGb} GiB volume${variant.fill ? ", filled before its runs" : ""}, deleted with its claim`,
      ),
      provisioningSec: classes.some((variant) => variant.chart) ? 180 : 0,
    };
  },
};

const PLANNING: Record<VolumeKind, BackendPlanning> = {
  "local-path": LOCAL_PATH_PLANNING,
  longhorn: LONGHORN_PLANNING,
  "ceph-rbd": CEPH_RBD_PLANNING,
  "openebs-hostpath": OPENEBS_HOSTPATH_PLANNING,
  storageclass: STORAGE_CLASS_PLANNING,
};

/** Each backend the variants use, in the order of its first variant, with its part of the plan. */
export function backendPlans(
  k8s: K8sSettings,
  profile: Profile,
  here: StackNode,
): Array<{ kind: VolumeKind; name: string } & BackendPlan> {
  return [...variantsByKind(k8s.variants)].map(([kind, variants]) => {
    const planning = PLANNING[kind];
    return { kind, name: planning.name, ...planning.plan(k8s, variants, profile, here) };
  });
}
