import type { Inputs, RuleModule } from "./module.js";

// A user's own StorageClass driver, registered by the tests of `kind: storageclass` as a user registers nothing:
// kubernetes-csi/csi-driver-nfs (chart 4.13.4). pkg/nfs/controllerserver.go newNFSVolume: "server is a required
// parameter", and the share must be a path (validatePath); the chart's values.yaml names its Deployment
// csi-nfs-controller and its DaemonSet csi-nfs-node.

export function csiDriverNfsRules(): RuleModule {
  return {
    name: "NFS CSI driver (kubernetes-csi/csi-driver-nfs)",
    provisioners: ["nfs.csi.k8s.io"],
    charts: ["csi-driver-nfs"],
    storageClass(inputs: Inputs) {
      const parameters: Inputs = inputs.parameters ?? {};
      if (typeof parameters.server !== "string" || parameters.server === "")
        return "server is a required parameter (pkg/nfs/controllerserver.go)";
      if (typeof parameters.share !== "string" || !parameters.share.startsWith("/"))
        return `invalid share ${JSON.stringify(parameters.share)}: an absolute path on the server`;
      return undefined;
    },
  };
}
