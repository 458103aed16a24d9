import { promises as fs } from "node:fs";
import { join } from "node:path";
import { fsReason, UserError } from "../../util/errors.js";
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

/**
 * A side's results files: a file, a directory's results.json, or, measured in turns, the results files of a
 * directory of runs (`run --out before/1`, `before/2`: each subdirectory's results.json, and *.json files in it).
 */
async function resultsFilesOf(path: string): Promise<string[]> {
  const stats = await fs.stat(path).catch((error: unknown) => {
    throw new UserError(`cannot read ${path}: ${fsReason(error)}`);
  });
  if (!stats.isDirectory()) return [path];
  const entries = await fs.readdir(path, { withFileTypes: true });
  if (entries.some((entry) => entry.isFile() && entry.name === "results.json")) return [join(path, "results.json")];
  const files = entries.flatMap((entry) => {
    if (entry.isFile() && entry.name.endsWith(".json")) return [join(path, entry.name)];
    return entry.isDirectory() ? [join(path, entry.name, "results.json")] : [];
  });
  const found: string[] = [];
  for (const file of files.sort()) if ((await fs.stat(file).catch(() => undefined))?.isFile()) found.push(file);
  if (found.length === 0)
    throw new UserError(
      `${path} holds no results: a directory of runs holds one results.json a subdirectory (\`run --out ${join(path, "1")}\`)`,
    );
  return found;
}

async function compareFiles(before: string, after: string, flags: CompareFlags): Promise<number> {
  const [
    { readResultsFile },
    { compareSessions },
    { renderComparison },
    { comparisonDifferences, environmentDifferences, placeDifferences },
  ] = await Promise.all([
    import("../../core/results-io.js"),
    import("../../report/compare.js"),
    import("../../report/compare-markdown.js"),
    import("../../core/settings.js"),
  ]);
  const [beforeFiles, afterFiles] = [await resultsFilesOf(before), await resultsFilesOf(after)];
  const [beforeDocuments, afterDocuments] = await Promise.all(
    [beforeFiles, afterFiles].map((files) => Promise.all(files.map((file) => readResultsFile(file)))),
  );
  // Every run against the first: runs measured in turns are compared only when measured alike.
  const others = [...beforeFiles.slice(1), ...afterFiles];
  const differences = [...beforeDocuments.slice(1), ...afterDocuments].flatMap((document, index) =>
    comparisonDifferences(beforeDocuments[0], document).map((line) =>
      others.length > 1 ? `${beforeFiles[0]} → ${others[index]}: ${line}` : line,
    ),
  );
  if (differences.length > 0) {
    for (const line of differences) console.error(`layerbench: settings differ: ${line}`);
    if (!flags.force) {
      console.error(
        `layerbench: compare refuses runs measured with different settings (${differences.length} above); --force compares them anyway`,
      );
      return 2;
    }
  }
  const comparison = compareSessions(beforeDocuments, afterDocuments, flags.threshold);
  if (comparison.rows.length === 0)
    throw new UserError(`${before} and ${after} have no variant and workload in common to compare`);
  process.stdout.write(
    renderComparison(
      comparison,
      { before, after },
      flags.threshold,
      differences,
      environmentDifferences(beforeDocuments[0], afterDocuments[0]),
      placeDifferences(beforeDocuments[0], afterDocuments[0]),
    ),
  );
  const regressions = comparison.rows.filter((row) => row.verdict === "regression").length;
  if (regressions > 0)
    console.error(
      `layerbench: ${regressions} regression(s) beyond the threshold and the noise (${comparison.sessions.before + comparison.sessions.after > 2 ? "Student's t test on the runs' means" : "Welch's t test"}, q < 0.05 over the table's tests)`,
    );
  return regressions > 0 ? 1 : 0;
}
