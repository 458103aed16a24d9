import * as pulumi from "@pulumi/pulumi";
import { UserError } from "./bench/util/errors.js";
import { readBenchConfig } from "./components/config.js";
import { createLayers } from "./components/layers.js";

/**
 * The error with its message for a stack. Pulumi's runner prints a RunError's message, then passes the error to
 * util.inspect with colors for its trace; Node 20's inspect loops on the SDK's source-mapped frames
 * (".../node_modules/@pulumi/resource.ts": nodejs/node#64011, fixed by #64022), and a bad config value took
 * 25-35 s and 1.8 GB to report on 2 cores.
 */
function messageOnly(error: Error): Error {
  error.stack = error.message;
  return error;
}

function readConfig(): ReturnType<typeof readBenchConfig> {
  try {
    return readBenchConfig();
  } catch (error) {
    // RunError: Pulumi prints the message alone, without the program's stack trace.
    if (error instanceof UserError) throw messageOnly(new pulumi.RunError(error.message));
    throw error;
  }
}

const { config, sshPrivateKey, cephUserKey } = readConfig();
for (const skipped of [...config.skippedVariants, ...(config.k8s?.skippedVariants ?? [])]) {
  void pulumi.log.info(`variant ${skipped.id} left out of the matrix: ${skipped.reason}`);
}
const layers = createLayers(
  config,
  sshPrivateKey,
  { project: pulumi.getProject(), stack: pulumi.getStack() },
  cephUserKey,
);

/** The results document (layerbench/results@1): `pulumi stack output results --json > results.json`. */
export const results = layers.results;
export const vmAddresses = layers.vmAddresses;
export const variants = config.variants.map((variant) => variant.id);
/** k3s's kubeconfig, pointed at the server (a secret): `pulumi stack output --show-secrets kubeconfig > kubeconfig`. */
export const kubeconfig = layers.kubeconfig;
