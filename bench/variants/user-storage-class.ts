// `kind: storageclass`: a StorageClass of the user's, as kubestr measures one. The variant says how the class comes
// to be in layerbench's new k3s cluster: the driver's chart (pinned, with the workloads to wait for) and/or the
// class's manifest.
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { UserError } from "../util/errors.js";

/** A Helm chart that installs what a user's StorageClass needs (its CSI driver, its provisioner). */
export interface HelmChart {
  repo: string;
  name: string;
  version: string;
  namespace: string;
  values: Record<string, unknown>;
  /** Its workloads ("daemonset/NAME", "deployment/NAME" in its namespace) rolled out before the first measurement. */
  waitFor: string[];
}

/** A StorageClass of the user's: one the chart makes, or one the manifest gives (made by layerbench). */
export interface UserStorageClass {
  id: string;
  kind: "storageclass";
  storageClass: string;
  /** The StorageClass to make, as Kubernetes takes it; absent where the chart makes the class itself. */
  manifest?: StorageClassManifest;
  chart?: HelmChart;
  /** Fill the volume before its first run: a thin volume reads zeros without touching its disks. */
  fill: boolean;
}

export interface StorageClassManifest {
  metadata: { name: string } & Record<string, unknown>;
  provisioner: string;
  [field: string]: unknown;
}

export class UserStorageClassError extends UserError {}

const STORAGE_CLASS_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

const ChartSchema = z
  .object({
    repo: z.url(),
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "use the chart's name, e.g. csi-driver-nfs"),
    version: z.string().regex(/^v?\d+\.\d+\.\d+([-+][\w.]+)?$/, "pin a chart version, e.g. 4.11.0"),
    namespace: z
      .string()
      .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, "use a Kubernetes namespace name")
      .default("layerbench-storage"),
    values: z.record(z.string(), z.unknown()).default({}),
    waitFor: z
      .array(
        z
          .string()
          .regex(/^(daemonset|deployment|statefulset)\/[a-z0-9][a-z0-9.-]*$/, "use daemonset/NAME or deployment/NAME"),
      )
      .default([]),
  })
  .strict();

/** The manifest as an object: given inline in the stack file, or as YAML text. */
function manifestObject(id: string, value: unknown): Record<string, unknown> {
  const parsed = typeof value === "string" ? parseYaml(value) : value;
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw new UserStorageClassError(
      `k8s variant "${id}": manifest is not a StorageClass: give one as YAML or as a mapping`,
    );
  return parsed as Record<string, unknown>;
}

/** `kind: storageclass`: the class's name, and the manifest that makes it or the chart that does. */
export function userStorageClass(id: string, merged: Partial<Record<string, unknown>>): UserStorageClass {
  const fail = (problem: string) => new UserStorageClassError(`k8s variant "${id}": ${problem}`);
  let manifest: StorageClassManifest | undefined;
  if (merged.manifest !== undefined) {
    const { apiVersion, kind, ...fields } = manifestObject(id, merged.manifest);
    const metadata = fields.metadata as { name?: unknown } | undefined;
    if (kind !== "StorageClass" || (apiVersion !== undefined && apiVersion !== "storage.k8s.io/v1"))
      throw fail(`manifest is a ${String(kind)} (${String(apiVersion)}), not a storage.k8s.io/v1 StorageClass`);
    if (typeof fields.provisioner !== "string" || fields.provisioner === "")
      throw fail("manifest has no provisioner: name the CSI driver or provisioner that makes its volumes");
    if (typeof metadata?.name !== "string") throw fail("manifest has no metadata.name: name the StorageClass");
    manifest = fields as StorageClassManifest;
  }
  const storageClass = merged.storageClass ?? manifest?.metadata.name;
  if (typeof storageClass !== "string" || !STORAGE_CLASS_NAME.test(storageClass))
    throw fail(
      `storageClass ${JSON.stringify(storageClass)} is not allowed: name the StorageClass to measure (a DNS subdomain, e.g. nfs-csi)`,
    );
  if (manifest && manifest.metadata.name !== storageClass)
    throw fail(`storageClass ${storageClass} is not the manifest's StorageClass (${manifest.metadata.name})`);
  if (!manifest && merged.chart === undefined)
    throw fail(
      `storageClass ${storageClass} needs a manifest (the StorageClass as YAML) or a chart that makes it: layerbench's k3s cluster is new, it has only local-path`,
    );
  const chart = merged.chart === undefined ? undefined : ChartSchema.safeParse(merged.chart);
  if (chart && !chart.success) {
    const issue = chart.error.issues[0];
    throw fail(`chart.${issue.path.map(String).join(".")}: ${issue.message}`);
  }
  if (merged.fill !== undefined && typeof merged.fill !== "boolean")
    throw fail(`fill ${JSON.stringify(merged.fill)} is not allowed: use true (a thin volume) or false`);
  return {
    id,
    kind: "storageclass",
    storageClass,
    fill: merged.fill === true,
    ...(manifest && { manifest }),
    ...(chart?.data && { chart: chart.data }),
  };
}
