import { type ResultsDocument, toResultsDocument } from "../core/results.js";
import { UserError } from "../util/errors.js";
import type { MatrixProgress } from "./progress.js";
import type { GatheredRuns, RunStore, SavedRun } from "./run-store.js";
import { type MatrixWorkspace, PulumiCliMissingError, pulumiErrorSummary, type StackOutputs } from "./workspace.js";

export interface MatrixContext {
  workspace: MatrixWorkspace;
  progress: MatrixProgress;
  /** Ctrl-C: the running operation is cancelled, no new one starts (cleanup of --ephemeral still runs). */
  signal?: AbortSignal;
}

export interface StackOutcome {
  stack: string;
  status: "ok" | "failed" | "skipped";
  error?: string;
  runs: SavedRun[];
  gathered?: GatheredRuns;
  /** Only with --ephemeral: whether the cleanup destroy worked. */
  destroyed?: boolean;
}

/** The `results` output of a stack, validated; a stack without one is named in the error. */
export function resultsOutput(stack: string, outputs: StackOutputs): ResultsDocument {
  if (!("results" in outputs)) {
    throw new UserError(
      `stack ${stack} has no "results" output (has it been brought up? outputs: ${Object.keys(outputs).join(", ") || "none"})`,
    );
  }
  return toResultsDocument(outputs.results, `the results output of stack ${stack}`);
}

function describeError(error: unknown): string {
  return error instanceof UserError ? error.message : pulumiErrorSummary(error);
}

/**
 * Runs one operation over the stacks. In order, one at a time; or, given `machinesOf`, each stack as soon as
 * every earlier stack that shares a machine with it (a Proxmox node) is done: stacks on different nodes run at
 * once, stacks on one node one after the other, in the order given. A failing stack is reported and the others
 * run, unless failFast; a missing Pulumi CLI stops everything, since every stack would fail the same way.
 */
async function overStacks(
  stacks: string[],
  failFast: boolean,
  context: MatrixContext,
  operation: (stack: string, outcome: StackOutcome) => Promise<void>,
  machinesOf?: (stack: string) => string[],
): Promise<StackOutcome[]> {
  const outcomes = stacks.map((stack): StackOutcome => ({ stack, status: "ok", runs: [] }));
  let stopReason: string | undefined;
  const runOne = async (outcome: StackOutcome) => {
    if (context.signal?.aborted) stopReason = "interrupted";
    if (stopReason) {
      Object.assign(outcome, { status: "skipped", error: stopReason });
      return;
    }
    try {
      await operation(outcome.stack, outcome);
    } catch (error) {
      Object.assign(outcome, { status: "failed", error: describeError(error) });
      if (error instanceof PulumiCliMissingError) stopReason = "not run: the Pulumi CLI is missing";
      else if (context.signal?.aborted) stopReason = "interrupted";
      else if (failFast) stopReason = `not run: --fail-fast after ${outcome.stack} failed`;
    }
  };
  // Sequential: every stack after the one before, as if all shared one machine.
  const machines = machinesOf ?? (() => ["all"]);
  const done: Array<Promise<void>> = [];
  for (const outcome of outcomes) {
    const mine = machines(outcome.stack);
    const before = done.filter((_, earlier) => machines(stacks[earlier]).some((machine) => mine.includes(machine)));
    done.push(Promise.all(before).then(() => runOne(outcome)));
  }
  await Promise.all(done);
  return outcomes;
}

export interface UpOptions {
  stacks: string[];
  /** How many times each stack's benchmarks run, each under a new run id. */
  runs: number;
  failFast: boolean;
  /** Destroy each stack after its runs, whatever happened, once an update was attempted. */
  ephemeral: boolean;
  store: RunStore;
  newRunId: (stack: string, run: number) => string;
  /** --parallel: the machines (Proxmox nodes) each stack uses; stacks that share none run at the same time. */
  machinesOf?: (stack: string) => string[];
}

/** `pulumi up` of each stack `runs` times; every run's results are kept and pooled per stack. */
export function matrixUp(options: UpOptions, context: MatrixContext): Promise<StackOutcome[]> {
  const { workspace, progress, signal } = context;
  return overStacks(
    options.stacks,
    options.failFast,
    context,
    async (stack, outcome) => {
      let attempted = false;
      try {
        for (let run = 1; run <= options.runs; run += 1) {
          if (signal?.aborted) throw new UserError("interrupted");
          const runId = options.newRunId(stack, run);
          const label = `up, run ${run}/${options.runs} (run id ${runId})`;
          progress.operationStarted(stack, label);
          try {
            attempted = true;
            const outputs = await workspace.up(stack, {
              runId,
              signal,
              onEvent: (event) => progress.event(stack, event),
            });
            const saved = await options.store.save(stack, resultsOutput(stack, outputs));
            outcome.runs.push(saved);
            progress.operationFinished(stack, label, { ok: true });
            progress.note(stack, `results: ${saved.path}`);
          } catch (error) {
            if (error instanceof PulumiCliMissingError) attempted = false;
            progress.operationFinished(stack, label, { ok: false, message: describeError(error) });
            throw error;
          }
        }
      } finally {
        // Whatever was measured is pooled, even when a later run failed.
        if (outcome.runs.length > 0) outcome.gathered = await options.store.gather(stack);
        if (options.ephemeral && attempted) outcome.destroyed = await destroyQuietly(stack, context);
      }
    },
    options.machinesOf,
  );
}

/** The cleanup of --ephemeral: attempted even after Ctrl-C (without the signal) and never throws. */
async function destroyQuietly(stack: string, { workspace, progress }: MatrixContext): Promise<boolean> {
  progress.operationStarted(stack, "destroy (--ephemeral)");
  try {
    await workspace.destroy(stack, { onEvent: (event) => progress.event(stack, event) });
    progress.operationFinished(stack, "destroy (--ephemeral)", { ok: true });
    return true;
  } catch (error) {
    progress.operationFinished(stack, "destroy (--ephemeral)", {
      ok: false,
      message: `${describeError(error)}; run \`layerbench matrix destroy --stack ${stack}\``,
    });
    return false;
  }
}

/** `pulumi destroy` of each stack. */
export function matrixDestroy(
  options: { stacks: string[]; failFast: boolean },
  context: MatrixContext,
): Promise<StackOutcome[]> {
  return overStacks(options.stacks, options.failFast, context, async (stack) => {
    context.progress.operationStarted(stack, "destroy");
    try {
      await context.workspace.destroy(stack, {
        signal: context.signal,
        onEvent: (event) => context.progress.event(stack, event),
      });
      context.progress.operationFinished(stack, "destroy", { ok: true });
    } catch (error) {
      context.progress.operationFinished(stack, "destroy", { ok: false, message: describeError(error) });
      throw error;
    }
  });
}

/** Keeps the current `results` output of each stack (as `pulumi stack output results --json` would give it). */
export function matrixOutputs(
  options: { stacks: string[]; store: RunStore },
  context: MatrixContext,
): Promise<StackOutcome[]> {
  return overStacks(options.stacks, false, context, async (stack, outcome) => {
    const saved = await options.store.save(stack, resultsOutput(stack, await context.workspace.outputs(stack)));
    outcome.runs.push(saved);
    outcome.gathered = await options.store.gather(stack);
    context.progress.note(stack, `${saved.isNew ? "results" : "results (kept already)"}: ${saved.path}`);
  });
}

export interface MatrixSummary {
  lines: string[];
  /** Stacks whose operation failed, or whose destroy did. */
  failed: string[];
  /** Stacks never started: after an interruption, a failure with --fail-fast, or a missing Pulumi CLI. */
  skipped: string[];
  /** 1 when any stack failed or was skipped. */
  exitCode: number;
}

/** One line per stack for the end of a matrix command, the stacks that failed and those never started, and the exit code. */
export function matrixSummary(outcomes: StackOutcome[]): MatrixSummary {
  const lines = outcomes.map((outcome) => {
    const runs = outcome.runs.length > 0 ? `, ${outcome.runs.length} run(s) kept` : "";
    const pooled = outcome.gathered ? `, all runs: ${outcome.gathered.path}` : "";
    const cleanup =
      outcome.destroyed === undefined
        ? ""
        : outcome.destroyed
          ? ", destroyed"
          : ", DESTROY FAILED: resources are left on the node";
    const error = outcome.error ? `: ${outcome.error}` : "";
    return `${outcome.stack}: ${outcome.status}${error}${runs}${pooled}${cleanup}`;
  });
  const failed = outcomes
    .filter((outcome) => outcome.status === "failed" || outcome.destroyed === false)
    .map((outcome) => outcome.stack);
  const skipped = outcomes.filter((outcome) => outcome.status === "skipped").map((outcome) => outcome.stack);
  return { lines, failed, skipped, exitCode: failed.length + skipped.length > 0 ? 1 : 0 };
}
