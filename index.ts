import * as pulumi from "@pulumi/pulumi";
import { readBenchConfig } from "./components/config.js";
import { createBench } from "./components/program.js";

const { config, sshPrivateKey } = readBenchConfig();
for (const skipped of config.skippedVariants) {
  void pulumi.log.info(`variant ${skipped.id} left out of the matrix: ${skipped.reason}`);
}
const bench = createBench(config, sshPrivateKey, { project: pulumi.getProject(), stack: pulumi.getStack() });

/** The results document (layerbench/results@1): `pulumi stack output results --json > results.json`. */
export const results = bench.results;
export const vmAddresses = bench.vmAddresses;
export const variants = config.variants.map((variant) => variant.id);
