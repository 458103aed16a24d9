import { dirname, join, resolve } from "node:path";
import type { ResultsDocument } from "../../core/results.js";
import { declaredStacks, selectStacks } from "../../matrix/stacks.js";
import { UserError } from "../../util/errors.js";
import type { ReportFlags } from "../options.js";
import { pulumiWorkspaceFor, timestamp } from "./shared.js";

export async function reportCommand(files: string[], flags: ReportFlags): Promise<number> {
  const [{ readResultsFile }, { writeReport }, { resultsOutput }] = await Promise.all([
    import("../../core/results-io.js"),
    import("../../report/index.js"),
    import("../../matrix/runner.js"),
  ]);
  if (files.length === 0 && flags.stack.length === 0)
    throw new UserError("report needs results files or --stack NAME (or both)");
  const stacks = flags.stack.length > 0 ? selectStacks(await declaredStacks(flags.project), flags.stack) : [];
  const documents: ResultsDocument[] = [];
  for (const file of files) documents.push(await readResultsFile(file));
  if (stacks.length > 0) {
    const workspace = await pulumiWorkspaceFor(flags.project);
    for (const stack of stacks) {
      const outputs = await workspace.outputs(stack).catch((error: unknown) => {
        throw error instanceof UserError ? new UserError(`stack ${stack}: ${error.message}`) : error;
      });
      documents.push(resultsOutput(stack, outputs));
    }
  }
  // One results file: its report goes beside it. Several: a new directory, not the first file's own report.
  const outDir = resolve(
    flags.out ??
      (files.length === 1 && stacks.length === 0
        ? dirname(files[0])
        : join("results", `report-${timestamp(new Date())}`)),
  );
  const written = await writeReport(documents, outDir, {
    replace: flags.force ?? false,
    latencyScale: flags.latencyScale,
  });
  for (const warning of written.warnings) console.error(`layerbench: warning: settings differ: ${warning}`);
  console.log(written.files.join("\n"));
  return 0;
}
