import { join } from "node:path";
import { parse } from "yaml";
import { readTextFile } from "../util/files.js";
import type { RawConfig } from "./stack-config.js";

/** A stack file as layerbench reads it without Pulumi: its layerbench settings and the provider's endpoint. */
export interface StackFile {
  stack: string;
  raw: RawConfig;
  /** proxmoxve:endpoint and proxmoxve:insecure, for the checks that ask the Proxmox API. */
  endpoint?: string;
  insecure: boolean;
}

export async function readStackFile(projectDir: string, stack: string): Promise<StackFile> {
  const path = join(projectDir, "stacks", `Pulumi.${stack}.yaml`);
  const text = await readTextFile(path);
  const config = ((parse(text) as { config?: Record<string, unknown> } | null)?.config ?? {}) as Record<
    string,
    unknown
  >;
  const raw: RawConfig = {};
  for (const [key, value] of Object.entries(config)) {
    // Secrets (`secure: ...`) stay out: the plan needs none of them.
    if (key.startsWith("layerbench:") && !(typeof value === "object" && value !== null && "secure" in value))
      raw[key.slice("layerbench:".length)] = value;
  }
  const endpoint = config["proxmoxve:endpoint"];
  return {
    stack,
    raw,
    ...(typeof endpoint === "string" && { endpoint }),
    insecure: String(config["proxmoxve:insecure"]) === "true",
  };
}
