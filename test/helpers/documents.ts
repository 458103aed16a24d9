import {
  addRun,
  newResultsDocument,
  type ResultsDocument,
  type Run,
  type Source,
  type VariantSpec,
} from "../../bench/core/results.js";

/** A results document with given write IOPS per variant and workload (latency scales inversely). */
export function syntheticDocument(
  source: Source,
  variants: Array<{ spec: VariantSpec; iops: Record<string, number[]> }>,
): ResultsDocument {
  const document = newResultsDocument(
    source,
    { id: "ars", runtimeSec: 60, repeat: 1, ioengine: "posixaio", direct: false },
    new Date(0),
  );
  for (const { spec, iops } of variants) {
    for (const [workload, values] of Object.entries(iops)) {
      for (const value of values) {
        const run: Run = {
          fioVersion: "fio-3.33",
          startedAt: new Date(0).toISOString(),
          write: {
            iops: value,
            bwBytes: value * 4096,
            ioBytes: value * 4096 * 60,
            runtimeMs: 60_000,
            latencyNs: { mean: 1e9 / value, p99: 3e9 / value },
          },
        };
        addRun(document, spec, { id: workload, title: `${workload}, QD1` }, run);
      }
    }
  }
  return document;
}

export const variant = (id: string, baseline = false, options: VariantSpec["options"] = {}): VariantSpec => ({
  id,
  layer: "local",
  options,
  baseline,
});
