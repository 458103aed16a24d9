import { fileURLToPath } from "node:url";
import * as pulumi from "@pulumi/pulumi";
import { parseBenchConfig, type RawConfig } from "../../bench/config/stack-config.js";
import { readStackFile } from "../../bench/config/stack-file.js";
import { createLayers } from "../../components/layers.js";
import {
  GRAPH_ONLY_STATE,
  outputValue,
  type RecordedResource,
  recordingMocks,
  withoutStackTraces,
} from "../helpers/pulumi-mocks.js";
import { StrictNode } from "../helpers/strict-node.js";

// The guests the example stacks declare, as the program declares them under the strict mocks: each VM's inputs,
// the cloud-init user data its snippet holds, the readiness script run on it once it is up, and the fio scripts
// that measure its disks. Nothing here is written again: the real guest runs these texts.

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface DeclaredGuest {
  stack: string;
  /** The BenchVm component's name, e.g. bench-vm-1 or k3s-node-2. */
  name: string;
  /** The VmLegacy's inputs as they reach the provider. */
  // biome-ignore lint/suspicious/noExplicitAny: provider inputs are untyped property bags; the guest reads the fields qemu-server reads.
  vm: Record<string, any>;
  userData: string;
  readyScript: string;
  /** fio Commands that connect to this guest: resource name, the serial of the disk they measure, the script. */
  fioScripts: Array<{ name: string; serial: string; script: string }>;
}

/** The mock Proxmox side each example stack expects: the ceph stack's cluster has its RBD storages. */
function nodeFor(stack: string): StrictNode {
  if (stack !== "ceph") return new StrictNode();
  const cluster = new StrictNode("9.1.1", ["pve1", "pve2", "pve3"]);
  cluster.addRbdStorage("ceph-vm", { pool: "ceph-vm", krbd: false });
  cluster.addRbdStorage("ceph-vm-krbd", { pool: "ceph-vm", krbd: true });
  return cluster;
}

function guestsOf(stack: string, resources: RecordedResource[]): DeclaredGuest[] {
  const components = resources.filter((resource) => resource.type === "layerbench:proxmox:BenchVm");
  return components.map((component) => {
    const child = (suffix: string) => {
      const found = resources.find((resource) => resource.name === `${component.name}${suffix}`);
      if (!found) throw new Error(`${stack}: ${component.name} has no ${suffix} resource`);
      return found;
    };
    const vm = child("-vm").inputs;
    // A VM's fio scripts look its disks up by their serials.
    const serials: string[] = vm.disks.flatMap((disk: { serial?: string }) => (disk.serial ? [disk.serial] : []));
    const fioScripts = resources
      .filter((resource) => resource.type === "command:remote:Command" && /^fio-vm-.*-fio$/.test(resource.name))
      .flatMap((resource) => {
        const script = String(resource.inputs.create);
        const serial = serials.find((candidate) => script.includes(`find_disk "${candidate}"`));
        return serial ? [{ name: resource.name, serial, script }] : [];
      });
    return {
      stack,
      name: component.name,
      vm,
      userData: String(child("-user-data").inputs.sourceRaw.data),
      readyScript: String(child("-ready").inputs.create),
      fioScripts,
    };
  });
}

/**
 * Declares each stack with `overrides` on top of its file (the test's SSH key, short runs) and returns its guests.
 * A rule of the strict mocks that breaks is an error: a guest the real side would refuse is not worth booting.
 */
export async function declaredGuests(
  stacks: string[],
  overrides: (raw: RawConfig) => RawConfig,
): Promise<DeclaredGuest[]> {
  const guests: DeclaredGuest[] = [];
  for (const stack of stacks) {
    const node = nodeFor(stack);
    const resources = recordingMocks(GRAPH_ONLY_STATE, node);
    const config = parseBenchConfig(overrides((await readStackFile(ROOT, stack)).raw));
    await withoutStackTraces(() =>
      outputValue(
        createLayers(config, pulumi.secret("key"), { project: "layerbench", stack }, pulumi.secret("AQBcephx=="))
          .results,
      ),
    );
    if (node.violations.length > 0) throw new Error(`${stack}: ${node.violations.join("; ")}`);
    guests.push(...guestsOf(stack, resources));
  }
  return guests;
}
