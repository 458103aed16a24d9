import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import type { StrictNode } from "./strict-node.js";

/** A resource as the program registered it: what reached the provider, and the options that shape the graph. */
export interface RecordedResource {
  type: string;
  name: string;
  urn: string;
  // biome-ignore lint/suspicious/noExplicitAny: provider inputs are untyped property bags on the wire; each test reads the fields it asserts.
  inputs: Record<string, any>;
  dependencies: string[];
  deleteBeforeReplace: boolean;
  replaceOnChanges: string[];
  createTimeout: string;
  additionalSecretOutputs: string[];
  /** Input names whose values were sent as secrets. */
  secretInputs: string[];
  /** The parent's URN: the resource tree `pulumi stack` shows. */
  parent: string;
  /** Where the resource was before (alias URNs, or alias specs as "noParent"/parent URN). */
  aliases: string[];
  custom: boolean;
}

export type StateFor = (resource: {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}) => Promise<Record<string, unknown>> | Record<string, unknown>;

/**
 * What the provider and the Commands give back when only the resource graph matters: a guest's address, the
 * baseline's device, a kubeconfig, empty stdout elsewhere (no fio runs), a Job's uid.
 */
export const GRAPH_ONLY_STATE: StateFor = ({ type, name }) => {
  if (name.endsWith("-address")) return { stdout: "10.0.0.9\n" };
  if (name === "node-zfs-baseline") return { stdout: "/dev/zvol/baseline\n" };
  if (name === "k3s-kubeconfig") return { stdout: "server: https://127.0.0.1:6443\n" };
  if (type === "command:remote:Command") return { stdout: "" };
  if (type === "kubernetes:batch/v1:Job") return { metadata: { uid: "uid" } };
  return {};
};

/**
 * What a stack's Commands and Jobs give back when its measurements run: every fio script prints `fioStdout` (a
 * resource's own stdout in `stdoutOf`, by name, first), the baseline zvol is `baselineDevice`, k3s answers with its
 * kubeconfig and token, and each Job has a uid of its own.
 */
export function measuringState(
  fioStdout: string,
  baselineDevice: string,
  stdoutOf: Record<string, string> = {},
): StateFor {
  return ({ type, name, inputs }) => {
    if (name in stdoutOf) return { stdout: stdoutOf[name] };
    if (name.startsWith("fio-") && type === "command:remote:Command") return { stdout: fioStdout };
    if (name === "k3s-kubeconfig")
      return { stdout: "apiVersion: v1\nclusters:\n- cluster:\n    server: https://127.0.0.1:6443\n" };
    if (name === "k3s-token") return { stdout: "K10secret::server:token\n" };
    if (type === "kubernetes:batch/v1:Job")
      return { metadata: { ...(inputs.metadata as object), uid: createHash("sha256").update(name).digest("hex") } };
    if (name === "node-zfs-baseline") return { stdout: `${baselineDevice}\n` };
    if (name.endsWith("-address")) return { stdout: "10.0.0.9\n" };
    if (type === "command:remote:Command") return { stdout: "fio-3.33\n" };
    return {};
  };
}

/**
 * The quick stack's Commands when its fio scripts run for real on this machine: `runFio` runs each fio Command's
 * script (its target swapped for a local file) and gives its stdout; the guest answers at 192.168.1.77.
 */
export function localFioState(
  runFio: (name: string, script: string) => Promise<{ stdout: string; stderr: string }>,
): StateFor {
  return async ({ type, name, inputs }) => {
    if (type === "command:remote:Command" && /^fio-.*-fio$/.test(name)) return runFio(name, inputs.create as string);
    if (name === "node-zfs-baseline") return { stdout: "/dev/zvol/rpool/layerbench/test/baseline-zvol\n" };
    if (name === "bench-vm-1-address") return { stdout: "192.168.1.77\n" };
    if (type === "command:remote:Command") return { stdout: "fio-3.33\n" };
    if (type === "proxmoxve:index/vmLegacy:VmLegacy") return { ipv4Addresses: [["127.0.0.1"], ["192.168.1.77"]] };
    return {};
  };
}

const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

function isSecret(value: unknown): value is { value: unknown } {
  return typeof value === "object" && value !== null && (value as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
}

/** Inputs with secret wrappers removed; which inputs were secret is recorded beside them. */
function unwrapSecrets(value: unknown): unknown {
  if (isSecret(value)) return unwrapSecrets(value.value);
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (typeof value === "object" && value !== null)
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, unwrapSecrets(inner)]));
  return value;
}

/**
 * Pulumi mocks that record every registration, including what newResource is not told (dependencies, options),
 * and refuse, as the real side would, whatever breaks a rule of the strict node.
 */
export function recordingMocks(stateFor: StateFor, node: StrictNode): RecordedResource[] {
  const recorded: RecordedResource[] = [];
  void pulumi.runtime.setMocks(
    {
      newResource: async (args) => {
        node.admit(args.type, args.name, args.inputs);
        return {
          id: `${args.name}-id`,
          state: { ...args.inputs, ...(await stateFor({ type: args.type, name: args.name, inputs: args.inputs })) },
        };
      },
      call: (args) => args.inputs,
    },
    "layerbench",
    "test",
    false,
  );
  // Wrapping the monitor's registerResource is how the raw requests (dependencies, options, secrets) can be seen.
  // biome-ignore lint/suspicious/noExplicitAny: the monitor is the SDK's MockMonitor, whose gRPC types are not public.
  const monitor = pulumi.runtime.getMonitor() as any;
  const register = monitor.registerResource.bind(monitor);
  // biome-ignore lint/suspicious/noExplicitAny: the same MockMonitor's request and response, as above.
  monitor.registerResource = (request: any, callback: (error: unknown, response: any) => void) => {
    const raw = request.getObject().toJavaScript() as Record<string, unknown>;
    const refusal = node.replacementProblem(request.getType(), request.getName(), request.getDeletebeforereplace());
    if (refusal) {
      callback(new Error(refusal), undefined);
      return;
    }
    const secretInputs = Object.entries(raw)
      .filter(([, value]) => isSecret(value))
      .map(([key]) => key);
    // biome-ignore lint/suspicious/noExplicitAny: the same MockMonitor's response, as above.
    register(request, (error: unknown, response: any) => {
      if (!error) {
        recorded.push({
          custom: request.getCustom(),
          parent: request.getParent(),
          aliases: [
            ...request.getAliasurnsList(),
            // biome-ignore lint/suspicious/noExplicitAny: the generated Alias message type is not public; only its spec's name and parent fields are read.
            ...request.getAliasesList().map((alias: any) => {
              const spec = alias.getSpec();
              if (!spec) return alias.getUrn();
              const where = spec.getNoparent() ? "noParent" : `parent ${spec.getParenturn()}`;
              return spec.getName() ? `name ${spec.getName()}, ${where}` : where;
            }),
          ],
          type: request.getType(),
          name: request.getName(),
          urn: response.getUrn(),
          inputs: unwrapSecrets(
            pulumi.runtime.deserializeProperties(request.getObject()),
          ) as RecordedResource["inputs"],
          dependencies: request.getDependenciesList(),
          deleteBeforeReplace: request.getDeletebeforereplace(),
          replaceOnChanges: request.getReplaceonchangesList(),
          createTimeout: request.getCustomtimeouts()?.getCreate() ?? "",
          additionalSecretOutputs: request.getAdditionalsecretoutputsList(),
          secretInputs,
        });
      }
      callback(error, response);
    });
  };
  return recorded;
}

/**
 * Declares without stack traces: Pulumi's SDK takes `new Error().stack` for every promise it makes
 * (runtime/debuggable.js), and with tsx's source maps on, Node maps every frame of each: 2.8 s of the 9.9 s
 * that test/program-homelab.unit.test.ts took. A failure inside keeps its message, without frames.
 */
export async function withoutStackTraces<T>(work: () => Promise<T>): Promise<T> {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return await work();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** Resolves an Output's value under mocks. */
export function outputValue<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}

/** A stack file's config values, as Pulumi hands them to the program (objects as JSON text). */
export async function stackConfig(path: string): Promise<Record<string, string>> {
  const { config } = parse(await fs.readFile(path, "utf8")) as { config: Record<string, unknown> };
  return Object.fromEntries(
    Object.entries(config).map(([key, value]) => [key, typeof value === "string" ? value : JSON.stringify(value)]),
  );
}

export function byName(resources: RecordedResource[], name: string): RecordedResource {
  const found = resources.find((resource) => resource.name === name);
  if (!found)
    throw new Error(`no resource named ${name}; have ${resources.map((resource) => resource.name).join(", ")}`);
  return found;
}
