import type { ResultsDocument } from "./results.js";

// A results document says what was measured, what failed and what never ran. A run killed outright (kill -9, a
// crash) writes none of the last: its results.json is whole JSON but holds fewer runs than its profile asked. Read
// against the profile, the runs no entry accounts for are found.

/** Runs of a variant's workload that are neither measured, failed nor listed as not run. */
export interface UnaccountedRuns {
  variant: string;
  workload: string;
  /** How many runs the profile asked for, at least. */
  expected: number;
  missing: number;
}

/**
 * The attempts of a variant's workload a document accounts for: its runs, its failures and, unless left out, the
 * attempts listed as not run.
 */
export function recordedAttempts(
  document: ResultsDocument,
  variant: string,
  workload: string,
  options: { notRun: boolean } = { notRun: true },
): number {
  const same = (entry: { variant: string; workload: string }) =>
    entry.variant === variant && entry.workload === workload;
  const runs =
    document.variants.find((candidate) => candidate.id === variant)?.workloads.find((entry) => entry.id === workload)
      ?.runs.length ?? 0;
  const failed = (document.failures ?? []).filter(same).length;
  const notRun = options.notRun
    ? (document.notRun ?? []).filter(same).reduce((sum, entry) => sum + entry.attempts.length, 0)
    : 0;
  return runs + failed + notRun;
}

/**
 * For each variant in the document and each workload of its profile (when the profile lists them), the runs
 * missing: a fixed repeat asks for `repeat` runs, `repeat: auto` for its minimum.
 */
export function unaccountedRuns(document: ResultsDocument): UnaccountedRuns[] {
  const workloads = document.profile.workloads;
  if (!workloads) return [];
  const expected = document.profile.stopWhenStable?.minRuns ?? document.profile.repeat;
  return document.variants.flatMap((variant) =>
    workloads.flatMap((workload) => {
      const missing = expected - recordedAttempts(document, variant.id, workload.id);
      return missing > 0 ? [{ variant: variant.id, workload: workload.id, expected, missing }] : [];
    }),
  );
}
