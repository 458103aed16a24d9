import { parseBenchConfig } from "../config/stack-config.js";
import { readStackFile } from "../config/stack-file.js";

// `matrix up --parallel`: which machines a stack measures on, so that no two stacks load one node at once.

/**
 * The Proxmox nodes a stack uses, by the address SSH reaches them at (two clusters may both have a "pve"): its
 * node, and the k3s VMs' nodes. A stack file that does not parse gets a machine of its own: its `pulumi up`
 * fails before it creates anything.
 */
export async function stackMachines(projectDir: string, stacks: string[]): Promise<Map<string, string[]>> {
  const entries = await Promise.all(
    stacks.map(async (stack): Promise<[string, string[]]> => {
      try {
        const config = parseBenchConfig((await readStackFile(projectDir, stack)).raw);
        const nodes = [config.nodeAddress, ...(config.k8s?.proxmoxNodes.map((node) => node.address) ?? [])];
        return [stack, [...new Set(nodes)]];
      } catch {
        return [stack, [`unparsed stack ${stack}`]];
      }
    }),
  );
  return new Map(entries);
}
