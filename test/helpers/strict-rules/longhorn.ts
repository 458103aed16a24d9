import { type ClusterView, GiB, type Inputs, parseQuantity, type RuleModule } from "./module.js";

// longhorn-manager types/setting.go: storage-reserved-percentage-for-default-disk 30, storage-over-provisioning-percentage 100,
// replica-soft-anti-affinity false (one replica of a volume per node).
const RESERVED_PERCENT = 30;
const OVER_PROVISIONING_PERCENT = 100;

/** Longhorn: its StorageClasses' parameters, and where its replicas fit. */
export function longhornRules(): RuleModule {
  const replicasByClass = new Map<string, number>();
  /** Each claim's replicas, by its owner: the nodes they are on and their size. */
  const placements = new Map<string, { nodes: string[]; size: number }>();
  const scheduledOn = (node: string) =>
    [...placements.values()].reduce((sum, claim) => sum + (claim.nodes.includes(node) ? claim.size : 0), 0);
  return {
    name: "Longhorn (longhorn/longhorn-manager)",
    provisioners: ["driver.longhorn.io"],
    charts: ["longhorn"],
    storageClass(inputs: Inputs, cluster: ClusterView) {
      // longhorn-manager csi/node_server.go: ext4 (the default fsType) is made with "-b4096" plus mkfsParams; without
      // lazy_itable_init=0 a kernel thread writes the inode tables while the volume is measured.
      const fsType = inputs.parameters?.fsType ?? "ext4";
      if (fsType === "ext4" && !/lazy_itable_init=0/.test(inputs.parameters?.mkfsParams ?? ""))
        return `ext4 without mkfsParams "-E lazy_itable_init=0,lazy_journal_init=0": ext4lazyinit would write inode tables while fio measures (csi/node_server.go)`;
      const replicas = Number(inputs.parameters?.numberOfReplicas);
      const nodes = cluster.k3sNodes().length;
      if (replicas > nodes)
        return `numberOfReplicas ${replicas} with ${nodes} nodes: replica-soft-anti-affinity is false by default, one replica per node`;
      replicasByClass.set(inputs.metadata?.name, replicas);
      return undefined;
    },
    /**
     * longhorn-manager scheduler/replica_scheduler.go IsSchedulableToDisk: a replica fits a disk while
     * size + scheduled <= (maximum - reserved) x over-provisioning; each replica of a volume on another node. The
     * worst case for locality: replicas go to the first node (the fio pod's) first.
     */
    claim(inputs: Inputs, className: string, cluster: ClusterView, owner: string) {
      placements.delete(owner);
      const replicas = replicasByClass.get(className) ?? 0;
      const size = parseQuantity(inputs.spec.resources.requests.storage);
      const nodes = cluster.k3sNodes();
      const limit = (bytes: number) => ((bytes * (100 - RESERVED_PERCENT)) / 100) * (OVER_PROVISIONING_PERCENT / 100);
      const candidates = nodes.filter((node) => size + scheduledOn(node.name) <= limit(node.longhornDiskBytes));
      if (candidates.length < replicas) {
        const state = nodes
          .map(
            (node) =>
              `${node.name}: ${(scheduledOn(node.name) / GiB).toFixed(0)} of ${(limit(node.longhornDiskBytes) / GiB).toFixed(0)} GiB scheduled`,
          )
          .join("; ");
        return `Longhorn cannot schedule ${replicas} replicas of ${(size / GiB).toFixed(0)} GiB (${state})`;
      }
      placements.set(owner, { nodes: candidates.slice(0, replicas).map((node) => node.name), size });
      return undefined;
    },
  };
}
