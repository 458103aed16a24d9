import { UserError } from "../../util/errors.js";
import { COMPARE_ERROR_EXIT, type CompareFlags } from "../options.js";

/** What kept compare from comparing (a missing or invalid file): its own exit code, never a regression's 1. */
class NotComparedError extends UserError {
  override readonly exitCode = COMPARE_ERROR_EXIT;
}

export async function compareCommand(before: string, after: string, flags: CompareFlags): Promise<number> {
  try {
    return await compareFiles(before, after, flags);
  } catch (error) {
    throw error instanceof UserError ? new NotComparedError(error.message) : error;
  }
}

async function compareFiles(before: string, after: string, flags: CompareFlags): Promise<number> {
  const [
    { readResultsFile },
    { compareDocuments },
    { renderComparison },
    { comparisonDifferences, environmentDifferences, placeDifferences },
  ] = await Promise.all([
    import("../../core/results-io.js"),
    import("../../report/compare.js"),
    import("../../report/compare-markdown.js"),
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
    console.error(
      `layerbench: ${regressions} regression(s) beyond the threshold and the noise (Welch's t test, q < 0.05 over the table's tests)`,
    );
  return regressions > 0 ? 1 : 0;
}
