import type { Point } from "../core/linear-model.js";
import type { DesignRecord } from "../core/results.js";
import { VOLUME_KIND_DESCRIPTORS, VOLUME_KINDS, VOLUME_OPTIONS, type VolumeKind } from "../storage/k8s-volumes.js";
import { assertNever, UserError } from "../util/errors.js";
import { crossProduct, repeatedId } from "./axes.js";
import { applyDesign, axisFactors, type DesignSpec, FULL_DESIGN } from "./design.js";
import { type UserStorageClass, userStorageClass } from "./user-storage-class.js";

// A Kubernetes volume variant: k3s's local-path (Kubernetes without a storage system), a Longhorn StorageClass
// with its replica count and data locality, a ceph-csi RBD StorageClass on the stack's Ceph pool (whose size is
// its replica count), OpenEBS's LocalPV hostpath, or any StorageClass of the user's. Validated once, like the VM
// disk variants; each kind's descriptor is bench/storage/k8s-volumes.ts.

export { VOLUME_KINDS, type VolumeKind } from "../storage/k8s-volumes.js";
export const DATA_LOCALITIES = ["disabled", "best-effort", "strict-local"] as const;

export type DataLocality = (typeof DATA_LOCALITIES)[number];

export type { HelmChart, StorageClassManifest, UserStorageClass } from "./user-storage-class.js";

export type K8sVariant =
  | { id: string; kind: "local-path" }
  | { id: string; kind: "ceph-rbd" }
  | { id: string; kind: "openebs-hostpath" }
  | { id: string; kind: "longhorn"; replicas: number; dataLocality: DataLocality }
  | UserStorageClass;

export type K8sVariantInput = Partial<Record<string, unknown>>;

export interface K8sVariantMatrixInput {
  defaults?: K8sVariantInput;
  list?: K8sVariantInput[];
  /** Values per option (kind, replicas, dataLocality); the cross product is taken, invalid combinations skipped. */
  axes?: Partial<Record<"kind" | "replicas" | "dataLocality", unknown[]>>;
}

export class K8sVariantError extends UserError {}

// A StorageClass name is a DNS-1123 subdomain; keep ids to one label so that "lb-<id>" is always valid.
const ID_PATTERN = /^[a-z0-9]([a-z0-9-]{0,48}[a-z0-9])?$/;
const AXES = ["kind", "replicas", "dataLocality"];

/** Longhorn's replica count and locality against the node count; for other kinds, that they give neither. */
function combinationProblem(
  kind: VolumeKind,
  replicas: unknown,
  dataLocality: unknown,
  nodeCount: number,
): string | undefined {
  if (kind !== "longhorn") {
    if (replicas === undefined && dataLocality === undefined) return undefined;
    return kind === "ceph-rbd"
      ? "ceph-rbd volumes have the pool's replicas (layerbench:ceph.size) and no data locality (that is Longhorn's)"
      : `${kind} volumes have no replicas or data locality (those are Longhorn's)`;
  }
  if (typeof replicas !== "number" || !Number.isInteger(replicas) || replicas < 1 || replicas > nodeCount) {
    return `replicas ${JSON.stringify(replicas)} is not allowed: use a whole number from 1 to the node count (${nodeCount}), one replica per node`;
  }
  if (dataLocality === "strict-local" && replicas !== 1)
    return "dataLocality strict-local needs replicas 1 (Longhorn keeps the only replica on the pod's node)";
  return undefined;
}

/** Validates one variant against the cluster's node count. */
export function validateK8sVariant(input: K8sVariantInput, defaults: K8sVariantInput, nodeCount: number): K8sVariant {
  const merged = { ...defaults, ...input };
  const { id } = merged;
  if (typeof id !== "string" || !ID_PATTERN.test(id)) {
    throw new K8sVariantError(
      `k8s variant id ${JSON.stringify(id)} is not allowed: use at most 50 lower-case letters, digits and '-', starting and ending with a letter or digit`,
    );
  }
  const unknown = Object.keys(merged).find((key) => !VOLUME_OPTIONS.includes(key));
  if (unknown)
    throw new K8sVariantError(`k8s variant "${id}": unknown option "${unknown}": use ${VOLUME_OPTIONS.join(", ")}`);
  const kind = merged.kind ?? "longhorn";
  if (typeof kind !== "string" || !(VOLUME_KINDS as readonly string[]).includes(kind)) {
    throw new K8sVariantError(
      `k8s variant "${id}": kind ${JSON.stringify(kind)} is not allowed: use one of ${VOLUME_KINDS.join(", ")}`,
    );
  }
  const volumeKind = kind as VolumeKind;
  // Longhorn's default: three replicas, or one a node on a smaller cluster.
  const replicas = volumeKind === "longhorn" ? (merged.replicas ?? Math.min(3, nodeCount)) : merged.replicas;
  const problem = combinationProblem(volumeKind, replicas, merged.dataLocality, nodeCount);
  if (problem) throw new K8sVariantError(`k8s variant "${id}": ${problem}`);
  const foreign = Object.keys(merged).find(
    (key) =>
      !["id", "kind", "replicas", "dataLocality"].includes(key) &&
      !VOLUME_KIND_DESCRIPTORS[volumeKind].options.includes(key),
  );
  if (foreign)
    throw new K8sVariantError(
      `k8s variant "${id}": ${foreign} belongs to kind ${VOLUME_KINDS.find((other) => VOLUME_KIND_DESCRIPTORS[other].options.includes(foreign))}, not ${volumeKind}`,
    );
  switch (volumeKind) {
    case "local-path":
    case "ceph-rbd":
    case "openebs-hostpath":
      return { id, kind: volumeKind };
    case "storageclass":
      return userStorageClass(id, merged);
    case "longhorn": {
      const dataLocality = merged.dataLocality ?? "disabled";
      if (typeof dataLocality !== "string" || !(DATA_LOCALITIES as readonly string[]).includes(dataLocality)) {
        throw new K8sVariantError(
          `k8s variant "${id}": dataLocality ${JSON.stringify(dataLocality)} is not allowed: use one of ${DATA_LOCALITIES.join(", ")}`,
        );
      }
      return { id, kind: "longhorn", replicas: replicas as number, dataLocality: dataLocality as DataLocality };
    }
    default:
      return assertNever(volumeKind);
  }
}

function axisLabel(field: string, value: unknown): string {
  if (field === "replicas") return `r${String(value)}`;
  if (field === "dataLocality")
    return (
      ({ disabled: "nolocal", "best-effort": "besteffort", "strict-local": "strict" } as Record<string, string>)[
        String(value)
      ] ?? String(value)
    );
  return String(value);
}

/** The list, then the cross product of the axes (ids from the values, e.g. longhorn-r2-besteffort); ids unique. */
export function expandK8sVariants(
  matrix: K8sVariantMatrixInput,
  nodeCount: number,
  design: DesignSpec = FULL_DESIGN,
): { variants: K8sVariant[]; skipped: Array<{ id: string; reason: string }>; design?: DesignRecord } {
  const defaults = matrix.defaults ?? {};
  const listed = (matrix.list ?? []).map((input) => validateK8sVariant(input, defaults, nodeCount));
  const skipped: Array<{ id: string; reason: string }> = [];
  const axes = Object.entries(matrix.axes ?? {});
  for (const [field] of axes) {
    if (!AXES.includes(field)) throw new K8sVariantError(`unknown k8s axis "${field}": use ${AXES.join(", ")}`);
  }
  // local-path and ceph-rbd have no replica or locality axes: with kind as an axis the other axes do not cross it.
  if (design.kind !== "full" && axes.some(([field]) => field === "kind")) {
    throw new K8sVariantError(
      `design ${design.kind} needs axes that cross each other, and kind does not (local-path has no replicas or data locality): put local-path in the list, and keep replicas and dataLocality as axes`,
    );
  }
  const axisVariants: Array<{ variant: K8sVariant; point: Point }> = [];
  const seenIds = new Set<string>();
  for (const combination of crossProduct(
    axes,
    (field) => new K8sVariantError(`k8s axis "${field}" needs a list of at least one value`),
  )) {
    const input: K8sVariantInput = Object.fromEntries(combination);
    const kind = (input.kind ?? defaults.kind ?? "longhorn") as VolumeKind;
    // A kind the Longhorn axes do not cross (local-path, ceph-rbd, ...): one variant of it however many values they have.
    const alone = VOLUME_KIND_DESCRIPTORS[kind] !== undefined && !VOLUME_KIND_DESCRIPTORS[kind].crossesAxes;
    const labels = alone
      ? []
      : combination.filter(([field]) => field !== "kind").map(([field, value]) => axisLabel(field, value));
    const id = [kind, ...labels].join("-");
    if (seenIds.has(id)) continue;
    seenIds.add(id);
    const effective: K8sVariantInput = alone ? { id, kind } : { ...input, id };
    const problem = alone
      ? undefined
      : combinationProblem(
          kind,
          effective.replicas ?? defaults.replicas ?? Math.min(3, nodeCount),
          effective.dataLocality ?? defaults.dataLocality,
          nodeCount,
        );
    if (problem) {
      skipped.push({ id, reason: problem });
      continue;
    }
    const point = Object.fromEntries(combination.map(([field, value]) => [field, String(value)]));
    axisVariants.push({
      variant: validateK8sVariant(effective, alone ? {} : defaults, nodeCount),
      point,
    });
  }
  const factors = axisFactors(axes as Array<[string, unknown[]]>, (_, value) => String(value), {
    replicas: Math.min(3, nodeCount),
    dataLocality: "disabled",
    ...defaults,
  });
  const { variants, design: record } = applyDesign("k8s", listed, axisVariants, factors, design);
  const repeated = repeatedId(variants);
  if (repeated !== undefined)
    throw new K8sVariantError(`k8s variant id "${repeated}" is used twice: every variant needs its own id`);
  return { variants, skipped, ...(record && { design: record }) };
}

/**
 * The variants by storage kind, each kind in the order of its first variant: the backends a stack uses, for the
 * program (components/backends/) and for `plan` (bench/plan/backend-plans.ts) alike.
 */
export function variantsByKind(variants: K8sVariant[]): Map<VolumeKind, K8sVariant[]> {
  const byKind = new Map<VolumeKind, K8sVariant[]>();
  for (const variant of variants) byKind.set(variant.kind, [...(byKind.get(variant.kind) ?? []), variant]);
  return byKind;
}

/** A Kubernetes variant's id in results documents: prefixed, so that it never meets a VM variant's. */
export function k8sResultId(id: string): string {
  return `k8s-${id}`;
}

/** The stack's id of a Kubernetes variant from its id in results documents. */
export function k8sStackId(resultId: string): string {
  return resultId.replace(/^k8s-/, "");
}

/** k3s ships local-path; a user's class has its own name; every other variant gets a StorageClass of its own. */
export function storageClassName(variant: K8sVariant): string {
  if (variant.kind === "local-path") return "local-path";
  if (variant.kind === "storageclass") return variant.storageClass;
  return `lb-${variant.id}`;
}

/**
 * mkfs.ext4 options that write the inode tables and the journal at format time. By default ext4 leaves them to a
 * kernel thread (ext4lazyinit) that writes while the volume is in use: while fio measures. Longhorn's CSI formats
 * with "-b4096" plus the StorageClass's mkfsParams (longhorn-manager csi/node_server.go); the program's own ext4
 * (the k3s nodes' Longhorn disk) takes the same options.
 */
export const EXT4_EAGER_INIT = ["-E", "lazy_itable_init=0,lazy_journal_init=0"];

/** Longhorn's StorageClass parameters: strings, as Kubernetes requires. */
export function longhornParameters(variant: Extract<K8sVariant, { kind: "longhorn" }>): Record<string, string> {
  return {
    numberOfReplicas: String(variant.replicas),
    dataLocality: variant.dataLocality,
    staleReplicaTimeout: "30",
    fsType: "ext4",
    mkfsParams: EXT4_EAGER_INIT.join(" "),
  };
}

/**
 * The features of a ceph-csi volume's image, as its StorageClass asks for them: layering, ceph-csi's own default.
 * A VM disk's image on Proxmox keeps Ceph's defaults (exclusive-lock, object-map, fast-diff among them).
 */
export const CEPH_CSI_IMAGE_FEATURES = "layering";

/**
 * Whether the variant's volume is filled before it is measured: a ceph-csi volume is a thin RBD image whose first
 * writes create its objects, as a VM disk on Ceph is filled for (components/vm-layer.ts); a StorageClass of the
 * user's, where its variant says so.
 */
export const fillsVolume = (variant: K8sVariant) =>
  variant.kind === "ceph-rbd" || (variant.kind === "storageclass" && variant.fill);

/** Where OpenEBS's LocalPV hostpath keeps its volumes on the node: the chart's default BasePath (values.yaml). */
export const OPENEBS_BASE_PATH = "/var/openebs/local";

/**
 * The options that define a variant, as the results document records them. A Longhorn volume's replicas go to
 * different k3s nodes (replica-soft-anti-affinity is false by default, longhorn-manager types/setting.go), so with
 * k3s VMs on several Proxmox nodes they cross the network: the options say where the k3s VMs are.
 */
export function k8sVariantOptions(
  variant: K8sVariant,
  proxmoxNodes: string[] = [],
  ceph?: { pool: string; size: number; minSize: number },
): Record<string, string | number | boolean> {
  const common = { kind: variant.kind, storageClass: storageClassName(variant) };
  switch (variant.kind) {
    case "local-path":
      return common;
    case "openebs-hostpath":
      return { ...common, basePath: OPENEBS_BASE_PATH };
    // Ceph keeps `size` copies of every object on OSDs of different hosts (the default CRUSH rule), wherever the pod is.
    case "ceph-rbd":
      return {
        ...common,
        imageFeatures: CEPH_CSI_IMAGE_FEATURES,
        ...(ceph && { pool: ceph.pool, replicas: ceph.size, minSize: ceph.minSize }),
      };
    case "storageclass":
      return {
        ...common,
        ...(variant.manifest && { provisioner: variant.manifest.provisioner }),
        ...(variant.chart && { chart: `${variant.chart.name} ${variant.chart.version}` }),
        filled: variant.fill,
      };
    case "longhorn":
      return {
        ...common,
        replicas: variant.replicas,
        dataLocality: variant.dataLocality,
        ...(proxmoxNodes.length > 0 && {
          replicaPlacement: `one per k3s node (Longhorn's anti-affinity); k3s VMs on ${proxmoxNodes.join(", ")}`,
        }),
      };
    default:
      return assertNever(variant);
  }
}
