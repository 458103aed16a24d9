import * as pulumi from "@pulumi/pulumi";
import {
  type BenchConfig,
  parseBenchConfig,
  type RawConfig,
  STRING_KEYS,
  STRUCTURED_KEYS,
} from "../bench/config/stack-config.js";

/** Reads the stack's configuration; the SSH private key stays a secret Output. */
export function readBenchConfig(): { config: BenchConfig; sshPrivateKey: pulumi.Output<string> } {
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
  return { config: parseBenchConfig(raw), sshPrivateKey: config.requireSecret("sshPrivateKey") };
}
