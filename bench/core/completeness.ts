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
 * For each variant in the document and each workload of its profile (when the profile lists them), the runs
 * missing: a fixed repeat asks for `repeat` runs, `repeat: auto` for its minimum.
 */
export function unaccountedRuns(document: ResultsDocument): UnaccountedRuns[] {
  const workloads = document.profile.workloads;
  if (!workloads) return [];
  const expected = document.profile.stopWhenStable?.minRuns ?? document.profile.repeat;
  const count = <T extends { variant: string; workload: string }>(
    entries: T[] | undefined,
    size: (entry: T) => number,
  ) => {
    const counts = new Map<string, number>();
    for (const entry of entries ?? []) {
      const key = `${entry.variant}\u0000${entry.workload}`;
      counts.set(key, (counts.get(key) ?? 0) + size(entry));
    }
    return counts;
  };
  const failed = count(document.failures, () => 1);
  const notRun = count(document.notRun, (entry) => entry.attempts.length);
  return document.variants.flatMap((variant) =>
    workloads.flatMap((workload) => {
      const key = `${variant.id}\u0000${workload.id}`;
      const runs = variant.workloads.find((entry) => entry.id === workload.id)?.runs.length ?? 0;
      const missing = expected - runs - (failed.get(key) ?? 0) - (notRun.get(key) ?? 0);
      return missing > 0 ? [{ variant: variant.id, workload: workload.id, expected, missing }] : [];
    }),
  );
}
