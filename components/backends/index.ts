import { type K8sVariant, variantsByKind } from "../../bench/variants/k8s-variants.js";
import type { StorageBackend } from "../storage-backend.js";
import { CEPH_RBD } from "./ceph-rbd.js";
import { LOCAL_PATH } from "./local-path.js";
import { LONGHORN } from "./longhorn.js";
import { OPENEBS_HOSTPATH } from "./openebs-hostpath.js";
import { USER_STORAGE_CLASS } from "./storage-class.js";

/** Every storage backend of the Kubernetes layer, by the `kind` its variants name. */
export const BACKENDS: Record<K8sVariant["kind"], StorageBackend> = {
  "local-path": LOCAL_PATH,
  longhorn: LONGHORN,
  "ceph-rbd": CEPH_RBD,
  "openebs-hostpath": OPENEBS_HOSTPATH,
  storageclass: USER_STORAGE_CLASS,
};

/** The backends some variants use, in the order their first variant comes. */
export function backendsOf(variants: K8sVariant[]): StorageBackend[] {
  return [...variantsByKind(variants).keys()].map((kind) => BACKENDS[kind]);
}
