import type { StorageBackend } from "../storage-backend.js";

/** k3s's own local-path provisioner: a directory on the node's boot disk; Kubernetes without a storage system. */
export const LOCAL_PATH: StorageBackend = {
  kind: "local-path",
  environment: () => ({}),
  nodeNeeds: () => ({ packages: [], services: [], checks: [] }),
  // k3s ships it, StorageClass included.
  install: () => ({ ready: [], storageClass: () => undefined }),
};
