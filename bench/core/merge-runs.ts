import { UserError } from "../util/errors.js";
import { addRun, newResultsDocument, type ResultsDocument, type Source } from "./results.js";

function runIdOf(source: Source): string | undefined {
  return source.kind === "pulumi" ? source.runId : undefined;
}

function sameStack(a: Source, b: Source): boolean {
  if (a.kind === "pulumi" && b.kind === "pulumi") return a.project === b.project && a.stack === b.stack;
  if (a.kind === "local" && b.kind === "local") return a.host === b.host;
  return a.kind === "import" && b.kind === "import" && a.from === b.from;
}

/**
 * One document holding every run of several `pulumi up`s of one stack: a variant's runs are pooled, each
 * tagged with its run id, so the summaries show the spread across runs. Documents in run order.
 */
export function mergeRunDocuments(documents: Array<{ document: ResultsDocument; origin: string }>): ResultsDocument {
  if (documents.length === 0) throw new UserError("no results to gather");
  const [first] = documents;
  for (const { document, origin } of documents) {
    if (!sameStack(document.source, first.document.source)) {
      throw new UserError(
        `${origin} comes from another stack than ${first.origin}: only runs of one stack are gathered together`,
      );
    }
    if (
      document.profile.id !== first.document.profile.id ||
      document.profile.runtimeSec !== first.document.profile.runtimeSec
    ) {
      throw new UserError(
        `${origin} ran profile ${document.profile.id} at ${document.profile.runtimeSec} s, ${first.origin} ${first.document.profile.id} at ${first.document.profile.runtimeSec} s: runs of different workloads are not pooled`,
      );
    }
  }
  const runIds = documents.flatMap(({ document }) => runIdOf(document.source) ?? []);
  const source: Source =
    first.document.source.kind === "pulumi"
      ? { ...first.document.source, runId: runIds.join(",") }
      : first.document.source;
  const newest =
    documents
      .map(({ document }) => document.createdAt)
      .sort()
      .at(-1) ?? first.document.createdAt;
  const merged = newResultsDocument(source, first.document.profile, new Date(newest));
  const failures = [];
  for (const { document } of documents) {
    const runId = runIdOf(document.source);
    for (const { workloads, ...spec } of document.variants) {
      for (const workload of workloads) {
        for (const run of workload.runs)
          addRun(merged, spec, workload, { ...run, ...(runId !== undefined && { runId }) });
      }
    }
    for (const failure of document.failures ?? []) failures.push({ ...failure, ...(runId !== undefined && { runId }) });
  }
  if (failures.length > 0) merged.failures = failures;
  // The last run's design: a run that confirms the model's predictions records them beside the design's variants.
  const designs = documents.at(-1)?.document.designs;
  if (designs) merged.designs = designs;
  return merged;
}
