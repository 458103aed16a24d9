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

/** fio-plot's layout: rw x iodepth x numjobs, one workload each, named as fio-plot names its files. */
export function sweepDocument(): ResultsDocument {
  const depths = [1, 2, 4, 8, 16, 32, 64];
  const workloads = ["randread", "randwrite"].flatMap((rw) =>
    depths.flatMap((iodepth) =>
      [1, 16, 2].map((numjobs) => ({ id: `${rw}-${iodepth}-${numjobs}`, rw, bs: 4096, numjobs, iodepth, size: 0 })),
    ),
  );
  const document = newResultsDocument(
    { kind: "import", from: "fio-plot" },
    { id: "import", runtimeSec: 60, repeat: 1, ioengine: "libaio", direct: true, workloads },
    new Date(0),
  );
  for (const [index, device] of ["nvme", "sata"].entries()) {
    // Added in string order, as a directory listing gives them: 1, 16, 2, 32...
    for (const workload of [...workloads].sort((a, b) => a.id.localeCompare(b.id))) {
      const iops = (20_000 / (index + 1)) * Math.min(workload.iodepth * workload.numjobs, 32);
      const side = {
        iops,
        bwBytes: iops * 4096,
        ioBytes: iops * 4096 * 60,
        runtimeMs: 60_000,
        latencyNs: { mean: (1e9 * workload.iodepth * workload.numjobs) / iops },
      };
      addRun(
        document,
        { id: device, layer: "local", options: {}, baseline: index === 0 },
        { id: workload.id },
        {
          fioVersion: "fio-3.33",
          startedAt: new Date(0).toISOString(),
          ...(workload.rw === "randread" ? { read: side } : { write: side }),
        },
      );
    }
  }
  return document;
}
