import { parse } from "yaml";
import type { Inputs, RuleModule } from "./module.js";

// openebs/dynamic-localpv-provisioner deploy/helm/charts (v4.0.0): templates/hostpath-class.yaml writes a class's
// cas.openebs.io/config as a YAML list of {name, value}; the provisioner (cmd/provisioner-localpv/app/config.go)
// reads StorageType and BasePath from it, and a hostpath volume needs WaitForFirstConsumer: it exists on the node
// the pod is scheduled to.

/** OpenEBS LocalPV hostpath: its class's config annotation, binding mode, and the chart's class and analytics. */
export function openebsRules(): RuleModule {
  return {
    name: "OpenEBS LocalPV (openebs/dynamic-localpv-provisioner)",
    provisioners: ["openebs.io/local"],
    charts: ["localpv-provisioner"],
    storageClass(inputs: Inputs) {
      const config = parse(String(inputs.metadata?.annotations?.["cas.openebs.io/config"] ?? "")) as unknown;
      const entries = Array.isArray(config) ? (config as Array<{ name?: unknown; value?: unknown }>) : [];
      const value = (name: string) => entries.find((entry) => entry.name === name)?.value;
      if (value("StorageType") !== "hostpath")
        return "cas.openebs.io/config has no StorageType hostpath: the provisioner makes no hostpath volume";
      if (typeof value("BasePath") !== "string" || !String(value("BasePath")).startsWith("/"))
        return "cas.openebs.io/config has no absolute BasePath: where the volumes' directories go";
      if (inputs.volumeBindingMode !== "WaitForFirstConsumer")
        return `volumeBindingMode ${inputs.volumeBindingMode}: a hostpath volume is made on the pod's node, so it needs WaitForFirstConsumer`;
      return undefined;
    },
    classesMadeBy: (inputs: Inputs) =>
      inputs.values?.hostpathClass?.enabled === false ? [] : [inputs.values?.hostpathClass?.name ?? "openebs-hostpath"],
  };
}
