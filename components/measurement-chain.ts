import type * as pulumi from "@pulumi/pulumi";

/**
 * Measurements never overlap: each waits for the last step of the one before it, across layers. Every layer
 * takes its measurements through the one chain of the stack.
 */
export class MeasurementChain {
  private last: pulumi.Resource[] = [];
  private measured: string[] = [];

  /** What the next measurement must wait for, beside its own target's set-up. */
  previous(): pulumi.Resource[] {
    return [...this.last];
  }

  /** Records what the next measurement waits for, the last step of this one, and the variant it measured. */
  done(variant: string, ...steps: pulumi.Resource[]): void {
    this.last = steps;
    this.measured.push(variant);
  }

  /** The variants in the order they are measured, the baseline once a pass: what the results record. */
  get sequence(): string[] {
    return [...this.measured];
  }

  /** Holds the next measurement back also until these are done (e.g. Longhorn started on every node). */
  alsoWaitFor(...steps: pulumi.Resource[]): void {
    this.last = [...this.last, ...steps];
  }
}
