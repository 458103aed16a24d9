// Every kind of Kubernetes volume a k8s variant can measure, one descriptor each: what a variant of the kind may
// say, where its volumes live, how the report names it. The record is typed by VOLUME_KINDS, so a kind without
// every part does not compile; what a kind installs is its backend (components/backends/), its part of the plan
// bench/plan/backend-plans.ts, both records over the same kinds.

export const VOLUME_KINDS = ["local-path", "longhorn", "ceph-rbd", "openebs-hostpath", "storageclass"] as const;
export type VolumeKind = (typeof VOLUME_KINDS)[number];

export interface VolumeKindDescriptor {
  /** How report.md and the plan name it. */
  label: string;
  /** The options a variant of the kind takes besides `id` and `kind`. */
  options: readonly string[];
  /** Its volumes are directories on the k3s node's boot disk, which must hold one. */
  onBootDisk: boolean;
  /** Longhorn's replica and locality axes cross it; a kind that does not is measured once whatever their values. */
  crossesAxes: boolean;
  /** Where its rules come from, for the README. */
  source: string;
}

export const VOLUME_KIND_DESCRIPTORS: Record<VolumeKind, VolumeKindDescriptor> = {
  "local-path": {
    label: "local-path",
    options: [],
    onBootDisk: true,
    crossesAxes: false,
    source: "k3s's bundled local-path-provisioner (/var/lib/rancher/k3s/storage)",
  },
  longhorn: {
    label: "Longhorn",
    options: ["replicas", "dataLocality"],
    onBootDisk: false,
    crossesAxes: true,
    source: "longhorn/longhorn-manager",
  },
  "ceph-rbd": {
    label: "ceph-csi RBD",
    options: [],
    onBootDisk: false,
    crossesAxes: false,
    source: "ceph/ceph-csi charts/ceph-csi-rbd",
  },
  "openebs-hostpath": {
    label: "OpenEBS hostpath",
    options: [],
    onBootDisk: true,
    crossesAxes: false,
    source: "openebs/dynamic-localpv-provisioner deploy/helm/charts",
  },
  storageclass: {
    label: "StorageClass",
    options: ["storageClass", "manifest", "chart", "fill"],
    onBootDisk: false,
    crossesAxes: false,
    source: "your StorageClass (kubestr's approach: any CSI driver by configuration)",
  },
};

/** Every option some kind takes: the keys a k8s variant may have at all. */
export const VOLUME_OPTIONS = [
  "id",
  "kind",
  ...new Set(VOLUME_KINDS.flatMap((kind) => VOLUME_KIND_DESCRIPTORS[kind].options)),
];
