import { addRun, type Failure, type ResultsDocument, type Run, type VariantSpec } from "./results.js";

/**
 * The one place where what a measurement gave enters a results document, on every path (a local directory, the
 * local guest, the Pulumi stack): a run or a failure. The failure policy is the same everywhere: a failed run is
 * recorded with its reason and the next one runs; only an interruption (Ctrl-C) stops a run early.
 */
export class Recorder {
  /** `save` keeps the document on disk current after each change (a local run); the stack path keeps none. */
  constructor(
    readonly document: ResultsDocument,
    private readonly save: () => Promise<void> = async () => undefined,
  ) {}

  run(spec: VariantSpec, workload: { id: string; title?: string }, run: Run): Promise<void> {
    addRun(this.document, spec, workload, run);
    return this.save();
  }

  failure(failure: Failure): Promise<void> {
    this.document.failures = [...(this.document.failures ?? []), failure];
    return this.save();
  }
}
