import { type BenchConfig, parseBenchConfig } from "../config/stack-config.js";
import { readStackFile, type StackFile } from "../config/stack-file.js";
import { UserError } from "../util/errors.js";
import type { Finding } from "./finding.js";
import { checkNode, type RemoteShell, systemSsh } from "./node-check.js";
import { type Plan, planStack, vmIdClashes } from "./plan.js";

export interface StackPlan {
  file: StackFile;
  config: BenchConfig;
  plan: Plan;
  /** Problems found offline, e.g. another stack's vmIds on the same node. */
  findings: Finding[];
}

async function load(projectDir: string, stack: string): Promise<Omit<StackPlan, "findings">> {
  const file = await readStackFile(projectDir, stack);
  try {
    const config = parseBenchConfig(file.raw);
    return { file, config, plan: planStack(config, stack) };
  } catch (error) {
    if (error instanceof UserError) throw new UserError(`stack ${stack}: ${error.message}`);
    throw error;
  }
}

/** The plans of the stacks asked for, each checked against every other declared stack on the same node. */
export async function planStacks(projectDir: string, stacks: string[], declared: string[]): Promise<StackPlan[]> {
  const planned = await Promise.all(stacks.map((stack) => load(projectDir, stack)));
  // A stack file that does not parse cannot clash with anything: its own `plan` says what is wrong with it.
  const others = (
    await Promise.all(
      declared.map(
        (stack) =>
          planned.find((entry) => entry.file.stack === stack) ?? load(projectDir, stack).catch(() => undefined),
      ),
    )
  ).flatMap((entry) => (entry ? [entry.plan] : []));
  return planned.map((entry) => ({
    ...entry,
    findings: vmIdClashes(entry.plan, others).map((message): Finding => ({ level: "fail", message })),
  }));
}

/** The node's answers for one stack: over SSH with the system client unless a shell is given (tests). */
export function checkStack(
  entry: StackPlan,
  env: NodeJS.ProcessEnv = process.env,
  shell?: RemoteShell,
): Promise<Finding[]> {
  const { config, file, plan } = entry;
  return checkNode(
    {
      plan,
      sshUser: config.sshUser,
      fileDatastore: config.vm.fileDatastore,
      fioSources: {
        "vm.imageUrl": config.vm.imageUrl,
        ...(config.k8s && { "k8s.vm.imageUrl": config.k8s.vm.imageUrl, "k8s.fioImage": config.k8s.fioImage }),
      },
      endpoint: env.PROXMOX_VE_ENDPOINT ?? file.endpoint,
      insecure: env.PROXMOX_VE_INSECURE === undefined ? file.insecure : env.PROXMOX_VE_INSECURE === "true",
      apiToken: env.PROXMOX_VE_API_TOKEN,
      ...(env.LAYERBENCH_CEPH_USER_KEY !== undefined && { cephUserKey: env.LAYERBENCH_CEPH_USER_KEY }),
    },
    shell ?? systemSsh(config.sshUser, config.nodeAddress, env),
  );
}
