import { LocalWorkspace, type OutputMap, type Stack } from "@pulumi/pulumi/automation/index.js";
import { type MatrixWorkspace, PulumiCliMissingError, type StackOutputs } from "./workspace.js";

/** The Automation API reports a missing binary as a CommandError whose cause is execa's ENOENT. */
function isCliMissing(error: unknown): boolean {
  const cause = (error as { commandResult?: { err?: NodeJS.ErrnoException } }).commandResult?.err;
  return cause?.code === "ENOENT";
}

function plainOutputs(outputs: OutputMap): StackOutputs {
  return Object.fromEntries(Object.entries(outputs).map(([name, output]) => [name, output.value]));
}

/** The stacks of a Pulumi project on disk, driven through the Pulumi CLI (which reads stackConfigDir itself). */
export function pulumiWorkspace(projectDir: string): MatrixWorkspace {
  const call = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      if (isCliMissing(error)) throw new PulumiCliMissingError();
      throw error;
    }
  };
  const select = (stackName: string, create: boolean): Promise<Stack> =>
    create
      ? LocalWorkspace.createOrSelectStack({ stackName, workDir: projectDir })
      : LocalWorkspace.selectStack({ stackName, workDir: projectDir });

  return {
    up: (stackName, { runId, onEvent, signal }) =>
      call(async () => {
        const stack = await select(stackName, true);
        // Written to stacks/Pulumi.<stack>.yaml by the CLI, as `pulumi config set runId` by hand would.
        await stack.setConfig("layerbench:runId", { value: runId });
        const result = await stack.up({ onEvent, signal, color: "never", suppressProgress: true });
        return plainOutputs(result.outputs);
      }),
    destroy: (stackName, { onEvent, signal }) =>
      call(async () => {
        const stack = await select(stackName, false);
        await stack.destroy({ onEvent, signal, color: "never", suppressProgress: true });
      }),
    outputs: (stackName) =>
      call(async () => {
        const stack = await select(stackName, false);
        return plainOutputs(await stack.outputs());
      }),
  };
}
