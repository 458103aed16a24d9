import { LAYERS_BOTTOM_UP } from "../core/layers.js";
import type { Layer, Variant } from "../core/results.js";
import { VOLUME_KIND_DESCRIPTORS, type VolumeKind } from "../storage/k8s-volumes.js";
import { VM_STORAGE_KINDS, type VmStorage } from "../storage/vm-storages.js";
import type { ReportData, ReportPanel, ReportVariant } from "./rows.js";

// What each layer costs: per workload, the variants' IOPS as a ratio of the baseline's, and per layer above it (and
// per storage where a layer has several) the best variant and the median.

export interface LayerStep {
  layer: Layer;
  /** What the layer's variants store on, where a stack measures several (ZFS, Ceph RBD, Longhorn...). */
  storage?: string;
  /** "vm", or "vm on Ceph RBD (librbd)" where the layer has variants on several storages. */
  label: string;
  best: { variant: ReportVariant; ratio: number };
  worst: { variant: ReportVariant; ratio: number };
  median: number;
  n: number;
}

export interface PanelLayers {
  panel: ReportPanel;
  steps: LayerStep[];
}

const baselineIops = (panel: ReportPanel) => panel.cells.find((cell) => cell.variant.baseline)?.summary.iops?.mean;

/** Each non-baseline variant's IOPS over the baseline's in a panel. */
export function ratios(panel: ReportPanel): Array<{ variant: ReportVariant; ratio: number }> {
  const base = baselineIops(panel);
  if (!base) return [];
  return panel.cells.flatMap((cell) => {
    const iops = cell.summary.iops?.mean;
    return !cell.variant.baseline && iops && iops > 0 ? [{ variant: cell.variant, ratio: iops / base }] : [];
  });
}

/**
 * What a variant's data lives on, from its options: ZFS or Ceph RBD on a node (librbd or krbd for a guest's disk),
 * Longhorn, ceph-csi or local-path under a pod; undefined for a local directory or image file.
 */
export function storageOf(variant: Pick<Variant, "layer" | "options">): string | undefined {
  const { options } = variant;
  if (variant.layer === "k8s") {
    const kind = String(options.kind);
    if (!(kind in VOLUME_KIND_DESCRIPTORS)) return undefined;
    const { label } = VOLUME_KIND_DESCRIPTORS[kind as VolumeKind];
    // A user's classes are told apart by name: each is a storage of its own.
    return kind === "storageclass" ? `${label} ${String(options.storageClass)}` : label;
  }
  if (options.engine === "rbd") return "Ceph RBD";
  if (variant.layer === "vm" && options.rbd !== undefined) return VM_STORAGE_KINDS.rbd.label;
  if (options.kind === "zvol" || options.kind === "dataset") return VM_STORAGE_KINDS.zfs.label;
  const kind = String(options.storage);
  return kind in VM_STORAGE_KINDS ? VM_STORAGE_KINDS[kind as VmStorage].label : undefined;
}

/** Variants' ratios to the baseline (at least one) as a step reads them: the best, the worst, the median. */
export function ranked(
  entries: Array<{ variant: ReportVariant; ratio: number }>,
): Pick<LayerStep, "best" | "worst" | "median" | "n"> {
  const group = [...entries].sort((a, b) => b.ratio - a.ratio);
  const half = Math.floor(group.length / 2);
  const median = group.length % 2 === 1 ? group[half].ratio : (group[half - 1].ratio + group[half].ratio) / 2;
  return { best: group[0], worst: group[group.length - 1], median, n: group.length };
}

/**
 * Per workload: the baseline, then each layer above it, its best variant and its median ratio; none for
 * directories alone. A layer whose variants live on several storages (ZFS and Ceph, Longhorn and ceph-csi) is a
 * step per storage: ZFS host, then VM on zvol, beside Ceph host, then VM on RBD.
 */
export function panelLayers(data: ReportData): PanelLayers[] {
  return data.panels.flatMap((panel) => {
    const measured = ratios(panel);
    const layers = LAYERS_BOTTOM_UP.filter((layer) => measured.some((entry) => entry.variant.variant.layer === layer));
    // A step names its storage where its layer has several, or the node's layers do (ZFS and Ceph, the baseline's counted).
    const nodeStorages = new Set(
      panel.cells
        .filter((cell) => cell.variant.variant.layer !== "k8s")
        .flatMap((cell) => storageOf(cell.variant.variant) ?? []),
    );
    const steps = layers.flatMap((layer): LayerStep[] => {
      const inLayer = measured.filter((entry) => entry.variant.variant.layer === layer);
      const storages = [...new Set(inLayer.map((entry) => storageOf(entry.variant.variant)))];
      return storages.map((storage) => {
        const several = storages.length > 1 || (layer !== "k8s" && nodeStorages.size > 1);
        const label = several && storage ? `${layer} on ${storage}` : layer;
        return {
          layer,
          ...(storage && { storage }),
          label,
          ...ranked(inLayer.filter((entry) => storageOf(entry.variant.variant) === storage)),
        };
      });
    });
    // Local directories are peers, not layers: a report of them alone has no layer to step through.
    return steps.some((step) => step.layer !== "local") ? [{ panel, steps }] : [];
  });
}
