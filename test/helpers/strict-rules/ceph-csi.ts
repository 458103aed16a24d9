import type { ClusterView, Inputs, RuleModule } from "./module.js";

// ceph-csi charts/ceph-csi-rbd (3.12.2): values.yaml driverName, templates/secret.yaml (userID, userKey),
// templates/provisioner-deployment.yaml (a required pod anti-affinity per provisioner replica), values.yaml
// provisioner.replicaCount 3.
const DEFAULT_PROVISIONERS = 3;
const SECRET_PARAMETERS = ["provisioner", "controller-expand", "node-stage"];

/** ceph-csi's RBD driver: its chart's clusters and provisioners, its StorageClasses' pool, secrets and mkfs. */
export function cephCsiRules(): RuleModule {
  const clusters = new Set<string>();
  return {
    name: "ceph-csi RBD (ceph/ceph-csi charts/ceph-csi-rbd)",
    provisioners: ["rbd.csi.ceph.com"],
    charts: ["ceph-csi-rbd"],
    /** A cluster per csiConfig entry (clusterID and monitors both required), provisioners that fit the nodes. */
    release(inputs: Inputs, cluster: ClusterView) {
      for (const entry of (inputs.values?.csiConfig ?? []) as Inputs[]) {
        if (typeof entry.clusterID !== "string" || !Array.isArray(entry.monitors) || entry.monitors.length === 0)
          return "csiConfig entry without clusterID and monitors: ceph-csi cannot reach the cluster";
        clusters.add(entry.clusterID);
      }
      const provisioners = inputs.values?.provisioner?.replicaCount ?? DEFAULT_PROVISIONERS;
      const nodes = cluster.k3sNodes().length;
      if (provisioners > nodes)
        return `provisioner.replicaCount ${provisioners} with ${nodes} k3s nodes: each provisioner pod requires a node of its own (templates/provisioner-deployment.yaml), the others stay Pending`;
      return undefined;
    },
    /** A cluster the driver knows, a pool an RBD storage uses, secrets that exist with userID and userKey. */
    storageClass(inputs: Inputs, cluster: ClusterView) {
      const parameters: Inputs = inputs.parameters ?? {};
      if (!clusters.has(parameters.clusterID))
        return `clusterID ${parameters.clusterID} is not in ceph-csi's csiConfig: the driver cannot find its monitors`;
      const pools = cluster.rbdPools();
      if (!pools.includes(parameters.pool))
        return `pool ${parameters.pool} is not a pool of the cluster's RBD storages (${pools.join(", ") || "none"})`;
      for (const secret of SECRET_PARAMETERS) {
        const where = `${parameters[`csi.storage.k8s.io/${secret}-secret-namespace`]}/${parameters[`csi.storage.k8s.io/${secret}-secret-name`]}`;
        const keys = cluster.secretKeys(where);
        if (!keys) return `${secret}-secret ${where} does not exist`;
        if (!keys.includes("userID") || !keys.includes("userKey"))
          return `${secret}-secret ${where} lacks userID or userKey (the chart's templates/secret.yaml)`;
      }
      if (!/lazy_itable_init=0/.test(parameters.mkfsOptions ?? ""))
        return "ext4 without lazy_itable_init=0 in mkfsOptions: ceph-csi's default (internal/rbd/nodeserver.go) leaves the inode tables to ext4lazyinit, which writes while fio measures";
      return undefined;
    },
  };
}
