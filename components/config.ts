import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "../bench/config/schema-parts.js";
import {
  type BenchConfig,
  parseBenchConfig,
  type RawConfig,
  STRING_KEYS,
  STRUCTURED_KEYS,
} from "../bench/config/stack-config.js";

/** Reads the stack's configuration; the SSH private key and the cephx key stay secret Outputs. */
export function readBenchConfig(): {
  config: BenchConfig;
  sshPrivateKey: pulumi.Output<string>;
  cephUserKey?: pulumi.Output<string>;
} {
  const config = new pulumi.Config("layerbench");
  const raw: RawConfig = {};
  for (const key of STRING_KEYS) {
    const value = config.get(key);
    if (value !== undefined) raw[key] = value;
  }
  for (const key of STRUCTURED_KEYS) {
    const value = config.get(key);
    if (value === undefined) continue;
    try {
      raw[key] = JSON.parse(value);
    } catch {
      raw[key] = value;
    }
  }
  const parsed = parseBenchConfig(raw);
  const needsCephKey = parsed.k8s?.variants.some((variant) => variant.kind === "ceph-rbd") ?? false;
  const cephUserKey = config.getSecret("cephUserKey");
  if (needsCephKey && config.get("cephUserKey") === undefined)
    throw new ConfigError(
      `layerbench:cephUserKey is required by the ceph-rbd variants: ceph auth print-key client.${parsed.ceph?.csi?.userId ?? "admin"} | pulumi config set --secret layerbench:cephUserKey`,
    );
  return {
    config: parsed,
    sshPrivateKey: config.requireSecret("sshPrivateKey"),
    ...(needsCephKey && cephUserKey && { cephUserKey }),
  };
}
