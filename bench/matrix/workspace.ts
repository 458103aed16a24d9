import type { EngineEvent } from "@pulumi/pulumi/automation/index.js";
import { UserError } from "../util/errors.js";

/** A stack's outputs as plain values, secrets included only as Pulumi returns them. */
export type StackOutputs = Record<string, unknown>;

export interface OperationOptions {
  onEvent: (event: EngineEvent) => void;
  signal?: AbortSignal;
}

/**
 * What the matrix runner needs of Pulumi, one stack at a time. The real one drives the Pulumi CLI through
 * the Automation API (pulumi-workspace.ts); tests give their own.
 */
export interface MatrixWorkspace {
  /** Selects the stack (creating it when new), sets its run id and runs `pulumi up`; resolves with its outputs. */
  up(stack: string, options: OperationOptions & { runId: string }): Promise<StackOutputs>;
  /** `pulumi destroy` of the stack's resources; the stack itself and its history stay. */
  destroy(stack: string, options: OperationOptions): Promise<void>;
  /** The outputs of the stack's last update. */
  outputs(stack: string): Promise<StackOutputs>;
}

/** The same for every stack: the runner stops at the first one instead of failing each in turn. */
export class PulumiCliMissingError extends UserError {
  constructor() {
    super(
      "the Pulumi CLI is not installed (or not on PATH): install it with `curl -fsSL https://get.pulumi.com | sh`, then `pulumi login`",
    );
  }
}

/** The first lines of Pulumi's output that say what went wrong, without the CLI's full transcript. */
export function pulumiErrorSummary(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const lines = text.split("\n").map((line) => line.trim());
  // The CLI's error lines, from "error:" on: the transcript before it (stdout, stderr labels, progress) says nothing.
  const errors = lines.flatMap((line) => {
    const at = line.search(/\berror:\s/);
    return at >= 0 && !line.startsWith("err?:") ? [line.slice(at)] : [];
  });
  const picked =
    errors.length > 0
      ? errors
      : lines.filter((line) => line.length > 0 && !/^(code|stdout|stderr|err\?):\s*$/.test(line));
  return [...new Set(picked)].slice(0, 3).join(" | ") || "pulumi failed";
}
