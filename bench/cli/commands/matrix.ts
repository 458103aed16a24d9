import { dirname, join, resolve } from "node:path";
import type { StackOutcome } from "../../matrix/runner.js";
import { declaredStacks, selectStacks } from "../../matrix/stacks.js";
import type { MatrixDestroyFlags, MatrixOutputsFlags, MatrixUpFlags } from "../options.js";
import { onStopSignals } from "./interrupts.js";
import { planAndCheck } from "./plan.js";
import { pulumiWorkspaceFor, timestamp } from "./shared.js";

/** What `matrix up`, `destroy` and `outputs` were asked, each with its own flags. */
export type MatrixRequest =
  | { action: "up"; flags: MatrixUpFlags }
  | { action: "destroy"; flags: MatrixDestroyFlags }
  | { action: "outputs"; flags: MatrixOutputsFlags };

export async function matrixCommand(request: MatrixRequest): Promise<number> {
  const { action, flags } = request;
  const [{ consoleMatrixProgress }, { RunStore }, { matrixDestroy, matrixOutputs, matrixSummary, matrixUp }] =
    await Promise.all([
      import("../../matrix/progress.js"),
      import("../../matrix/run-store.js"),
      import("../../matrix/runner.js"),
    ]);
  // Names are checked before Pulumi is touched.
  const declared = await declaredStacks(flags.project);
  const stacks = selectStacks(declared, flags.stack);
  if (
    request.action === "up" &&
    request.flags.check &&
    !(await planAndCheck(flags.project, stacks, declared, { check: true, quiet: true }))
  ) {
    console.error(
      "layerbench: matrix up: the node checks failed (FAIL lines above); nothing was created. --no-check skips them",
    );
    return 1;
  }
  const workspace = await pulumiWorkspaceFor(flags.project);
  const store = new RunStore(resolve(flags.out));
  const controller = new AbortController();
  const stop = onStopSignals(controller, ", which may leave resources behind");
  const context = {
    workspace,
    progress: consoleMatrixProgress((line) => console.log(line)),
    signal: controller.signal,
  };
  let outcomes: StackOutcome[];
  try {
    if (request.action === "up") {
      const { flags } = request;
      const startedAt = timestamp(new Date());
      const machines = flags.parallel
        ? await (await import("../../matrix/machines.js")).stackMachines(flags.project, stacks)
        : undefined;
      outcomes = await matrixUp(
        {
          stacks,
          runs: flags.runs,
          failFast: flags.failFast ?? false,
          ephemeral: flags.ephemeral ?? false,
          store,
          newRunId: (_stack, run) => `${startedAt}-r${run}`,
          ...(machines && { machinesOf: (stack: string) => machines.get(stack) ?? [stack] }),
        },
        context,
      );
    } else if (request.action === "destroy") {
      outcomes = await matrixDestroy({ stacks, failFast: request.flags.failFast ?? false }, context);
    } else {
      outcomes = await matrixOutputs({ stacks, store }, context);
    }
  } finally {
    stop.release();
  }
  const summary = matrixSummary(outcomes);
  console.log(["", ...summary.lines].join("\n"));
  const verdicts = [
    ...(summary.failed.length > 0 ? [`${summary.failed.join(", ")} failed`] : []),
    ...(summary.skipped.length > 0 ? [`${summary.skipped.join(", ")} not started`] : []),
  ];
  if (verdicts.length > 0) console.error(`layerbench: matrix ${action}: ${verdicts.join("; ")} (see above)`);
  const reportable = outcomes.flatMap((outcome) => (outcome.gathered ? [outcome.gathered.path] : []));
  if (reportable.length > 0) {
    // Each stack's report of all its kept runs, beside all-runs.json: made again with every run, as all-runs.json is.
    const [{ readResultsFile }, { writeReport }] = await Promise.all([
      import("../../core/results-io.js"),
      import("../../report/index.js"),
    ]);
    for (const path of reportable) {
      await writeReport([await readResultsFile(path)], dirname(path), { replace: true });
      console.log(`report: ${join(dirname(path), "report.html")} (all runs kept for the stack; report.md beside it)`);
    }
    if (reportable.length > 1) console.log(`all stacks side by side: layerbench report ${reportable.join(" ")}`);
  }
  return stop.exitCode() ?? summary.exitCode;
}
