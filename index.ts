import * as pulumi from "@pulumi/pulumi";
import { UserError } from "./bench/util/errors.js";
import { readBenchConfig } from "./components/config.js";
import { createLayers } from "./components/layers.js";

function readConfig(): ReturnType<typeof readBenchConfig> {
  try {
    return readBenchConfig();
  } catch (error) {
    // RunError: Pulumi prints the message alone, without the program's stack trace.
    if (error instanceof UserError) throw new pulumi.RunError(error.message);
    throw error;
  }
}

const { config, sshPrivateKey } = readConfig();
for (const skipped of [...config.skippedVariants, ...(config.k8s?.skippedVariants ?? [])]) {
  void pulumi.log.info(`variant ${skipped.id} left out of the matrix: ${skipped.reason}`);
}
const layers = createLayers(config, sshPrivateKey, { project: pulumi.getProject(), stack: pulumi.getStack() });

/** The results document (layerbench/results@1): `pulumi stack output results --json > results.json`. */
export const results = layers.results;
export const vmAddresses = layers.vmAddresses;
export const variants = config.variants.map((variant) => variant.id);
/** k3s's kubeconfig, pointed at the server (a secret): `pulumi stack output --show-secrets kubeconfig > kubeconfig`. */
export const kubeconfig = layers.kubeconfig;
