import type { EngineEvent } from "@pulumi/pulumi/automation/index.js";
import type { ResultsDocument } from "../../bench/core/results.js";
import type { MatrixWorkspace, OperationOptions, StackOutputs } from "../../bench/matrix/workspace.js";

export interface WorkspaceCall {
  operation: "up" | "destroy" | "outputs";
  stack: string;
  runId?: string;
}

/** What a stack does when asked: a document for its run id, or an error to throw. */
export type StackBehaviour = (
  call: WorkspaceCall,
  options?: OperationOptions,
) => ResultsDocument | Error | Promise<ResultsDocument | Error>;

/** The engine events an update of one fio Command sends, as the Automation API hands them over. */
export function fioEvents(stack: string): EngineEvent[] {
  const urn = `urn:pulumi:${stack}::layerbench::layerbench:bench:FioRun$command:remote:Command::vm-blk-none-fio`;
  const metadata = { op: "create" as const, urn, type: "command:remote:Command", provider: "" };
  return [
    { sequence: 1, timestamp: 0, resourcePreEvent: { metadata } },
    {
      sequence: 2,
      timestamp: 0,
      diagnosticEvent: { urn, message: "layerbench: running randwrite-4k #1\n", color: "never", severity: "info#err" },
    },
    {
      sequence: 3,
      timestamp: 0,
      diagnosticEvent: {
        urn,
        message: "layerbench: running randwrite-64k #1\nlayerbench: running randwrite-1m #1\n",
        color: "never",
        severity: "info#err",
      },
    },
    { sequence: 4, timestamp: 0, resOutputsEvent: { metadata } },
    {
      sequence: 5,
      timestamp: 0,
      summaryEvent: { maybeCorrupt: false, durationSeconds: 1, resourceChanges: { create: 1 }, policyPacks: {} },
    },
  ];
}

/** A MatrixWorkspace that records its calls and answers as told, sending engine events like Pulumi's. */
export function fakeWorkspace(behaviour: StackBehaviour): { workspace: MatrixWorkspace; calls: WorkspaceCall[] } {
  const calls: WorkspaceCall[] = [];
  const answer = async (call: WorkspaceCall, options?: OperationOptions): Promise<ResultsDocument> => {
    calls.push(call);
    const result = await behaviour(call, options);
    if (result instanceof Error) throw result;
    return result;
  };
  const workspace: MatrixWorkspace = {
    async up(stack, options): Promise<StackOutputs> {
      for (const event of fioEvents(stack)) options.onEvent(event);
      return {
        results: await answer({ operation: "up", stack, runId: options.runId }, options),
        vmAddresses: ["192.168.1.77"],
      };
    },
    async destroy(stack, options): Promise<void> {
      await answer({ operation: "destroy", stack }, options);
    },
    async outputs(stack): Promise<StackOutputs> {
      return { results: await answer({ operation: "outputs", stack }) };
    },
  };
  return { workspace, calls };
}
