import { recordedAttempts } from "./completeness.js";
import { addRun, type Failure, type NotRun, type ResultsDocument, type Run, type VariantSpec } from "./results.js";
import { deriveWarnings } from "./warnings.js";

/** The runs a variant's workload was to have: its repeats, times its passes where it is measured more than once. */
export interface PlannedRuns {
  variant: string;
  workload: string;
  runs: number;
}

/**
 * The one place where what a measurement gave enters a results document, on every path (a local directory, the
 * local guest, the Pulumi stack): a run or a failure. The failure policy is the same everywhere: a failed run is
 * recorded with its reason and the next one runs; only an interruption (Ctrl-C) stops a run early.
 */
export class Recorder {
  /**
   * `save` keeps the document on disk current after each change (a local run); the stack path keeps none. `rank`
   * lists the variants in the order given, whatever order they were measured in.
   */
  constructor(
    readonly document: ResultsDocument,
    private readonly save: () => Promise<void> = async () => undefined,
    private readonly rank?: (id: string) => number,
  ) {}

  run(spec: VariantSpec, workload: { id: string; title?: string }, run: Run): Promise<void> {
    addRun(this.document, spec, workload, run, this.rank);
    this.document.warnings = deriveWarnings(this.document);
    return this.save();
  }

  failure(failure: Failure): Promise<void> {
    this.document.failures = [...(this.document.failures ?? []), failure];
    return this.save();
  }

  /**
   * After a stop: records, for each planned variant and workload, the attempts that neither ran nor failed (the one
   * stopped midway included).
   */
  notRun(planned: PlannedRuns[], reason: NotRun["reason"], message: string): Promise<void> {
    const missing = this.missingAttempts(planned).map((entry) => ({ ...entry, reason, message }));
    if (missing.length === 0) return Promise.resolve();
    this.document.notRun = [...(this.document.notRun ?? []), ...missing];
    return this.save();
  }

  /** After a fault that ends a part of the run (a guest that crashed): its attempts not made, each failed. */
  failRemaining(planned: PlannedRuns[], message: string): Promise<void> {
    const failed = this.missingAttempts(planned).flatMap(({ variant, workload, attempts }) =>
      attempts.map((attempt) => ({ variant, workload, attempt, message })),
    );
    if (failed.length === 0) return Promise.resolve();
    this.document.failures = [...(this.document.failures ?? []), ...failed];
    return this.save();
  }

  /** For each planned variant and workload, the attempts that neither ran nor failed. */
  private missingAttempts(planned: PlannedRuns[]) {
    return planned.flatMap(({ variant, workload, runs }) => {
      const done = recordedAttempts(this.document, variant, workload, { notRun: false });
      const attempts = Array.from({ length: Math.max(0, runs - done) }, (_, index) => done + index + 1);
      return attempts.length > 0 ? [{ variant, workload, attempts }] : [];
    });
  }
}
