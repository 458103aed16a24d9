import { UserError } from "../../util/errors.js";
import { COMPARE_ERROR_EXIT, type CompareFlags } from "../main.js";

export async function compareCommand(before: string, after: string, flags: CompareFlags): Promise<number> {
  try {
    return await compareFiles(before, after, flags);
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    console.error(`layerbench: ${error.message.replace(/\s*\n\s*/g, " ")}`);
    return COMPARE_ERROR_EXIT;
  }
}

async function compareFiles(before: string, after: string, flags: CompareFlags): Promise<number> {
  const [
    { readResultsFile },
    { compareDocuments, renderComparison },
    { comparisonDifferences, environmentDifferences, placeDifferences },
  ] = await Promise.all([
    import("../../core/results-io.js"),
    import("../../report/compare.js"),
    import("../../core/settings.js"),
  ]);
  const [beforeDocument, afterDocument] = [await readResultsFile(before), await readResultsFile(after)];
  const differences = comparisonDifferences(beforeDocument, afterDocument);
  if (differences.length > 0) {
    for (const line of differences) console.error(`layerbench: settings differ: ${line}`);
    if (!flags.force) {
      console.error(
        `layerbench: compare refuses runs measured with different settings (${differences.length} above); --force compares them anyway`,
      );
      return 2;
    }
  }
  const comparison = compareDocuments(beforeDocument, afterDocument, flags.threshold);
  if (comparison.rows.length === 0)
    throw new UserError(`${before} and ${after} have no variant and workload in common to compare`);
  process.stdout.write(
    renderComparison(
      comparison,
      { before, after },
      flags.threshold,
      differences,
      environmentDifferences(beforeDocument, afterDocument),
      placeDifferences(beforeDocument, afterDocument),
    ),
  );
  const regressions = comparison.rows.filter((row) => row.verdict === "regression").length;
  if (regressions > 0)
    console.error(`layerbench: ${regressions} regression(s) beyond the threshold and the spread of the repeats`);
  return regressions > 0 ? 1 : 0;
}
