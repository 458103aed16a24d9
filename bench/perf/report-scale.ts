// How long the report takes at the size of a big matrix: 100 variants × 10 workloads × 5 repeats, with read
// and write measured: in this process (read, validate, chart, write), and as the `layerbench report` command
// (the same plus starting Node and loading the bundled CLI and its chart libraries).
// Usage: npm run build && npm run benchmark:report -- [--variants 100] [--workloads 10] [--repeats 5] [--rounds 3]
// [--series 60] (seconds of per-second series per run)
// (the command runs the build; with sources newer than it, bin.js would measure tsx compiling them instead)
import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import { addRun, type DirectionResult, newResultsDocument, type ResultsDocument } from "../core/results.js";
import { readResultsFile } from "../core/results-io.js";
import { writeReport } from "../report/index.js";

const { values } = parseArgs({
  options: {
    variants: { type: "string", default: "100" },
    workloads: { type: "string", default: "10" },
    repeats: { type: "string", default: "5" },
    rounds: { type: "string", default: "3" },
    // Seconds of per-second series per run (core/series.ts); 0 for runs without.
    series: { type: "string", default: "0" },
  },
});
const seriesSeconds = Number(values.series);
const [variantCount, workloadCount, repeatCount, rounds] = [
  values.variants,
  values.workloads,
  values.repeats,
  values.rounds,
].map(Number);

/** A direction's numbers around a variant's level, with a deterministic wobble per repeat. */
function direction(level: number, repeat: number): DirectionResult {
  const iops = level * (1 + 0.03 * Math.sin(repeat * 7.1 + level));
  return {
    iops,
    bwBytes: iops * 4096,
    ioBytes: iops * 4096 * 60,
    runtimeMs: 60_000,
    latencyNs: { mean: 1e9 / iops, p50: 0.9e9 / iops, p90: 1.5e9 / iops, p99: 3e9 / iops, p99_9: 6e9 / iops },
  };
}

function bigDocument(): ResultsDocument {
  const document = newResultsDocument(
    { kind: "pulumi", project: "layerbench", stack: "scale", runId: "1" },
    { id: "kbench", runtimeSec: 60, repeat: repeatCount, ioengine: "libaio", direct: true },
    new Date(),
  );
  for (let v = 0; v < variantCount; v += 1) {
    const spec = {
      id: `vm-variant-${String(v).padStart(3, "0")}`,
      layer: "vm" as const,
      options: { cache: "none", iothread: v % 2 === 0 },
      baseline: v === 0,
    };
    for (let w = 0; w < workloadCount; w += 1) {
      for (let r = 0; r < repeatCount; r += 1) {
        const level = 1000 + 37 * v + 101 * w;
        addRun(
          document,
          spec,
          { id: `workload-${w}`, title: `workload ${w}, QD${2 ** (w % 6)}` },
          {
            fioVersion: "fio-3.33",
            startedAt: new Date().toISOString(),
            read: direction(level, r),
            write: direction(level / 2, r),
            ...(seriesSeconds > 0 && {
              series: {
                intervalSec: 1,
                iops: Array.from({ length: seriesSeconds }, (_, second) =>
                  Math.round(level * (1 + 0.05 * Math.sin(second))),
                ),
                bwBytes: Array.from({ length: seriesSeconds }, (_, second) =>
                  Math.round(level * 4096 * (1 + 0.05 * Math.sin(second))),
                ),
                clatNs: Array.from({ length: seriesSeconds }, (_, second) => Math.round(1e9 / level + second)),
              },
            }),
          },
        );
      }
    }
  }
  return document;
}

const dir = await fs.mkdtemp(join(tmpdir(), "layerbench-report-scale-"));
try {
  const input = join(dir, "results.json");
  await fs.writeFile(input, JSON.stringify(bigDocument()));
  const inProcess: number[] = [];
  const command: number[] = [];
  const bin = fileURLToPath(new URL("../bin.js", import.meta.url));
  for (let round = 1; round <= rounds; round += 1) {
    let started = performance.now();
    await writeReport([await readResultsFile(input)], join(dir, `report-${round}`));
    inProcess.push((performance.now() - started) / 1000);
    started = performance.now();
    await promisify(execFile)(process.execPath, [bin, "report", input, "--out", join(dir, `cli-${round}`)]);
    command.push((performance.now() - started) / 1000);
    console.log(
      `round ${round}: in process ${inProcess[inProcess.length - 1].toFixed(2)} s, layerbench report ${command[command.length - 1].toFixed(2)} s`,
    );
  }
  const size = (await fs.stat(input)).size;
  const range = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return `median ${sorted[Math.floor(sorted.length / 2)].toFixed(2)} s (${sorted[0].toFixed(2)}–${sorted[sorted.length - 1].toFixed(2)})`;
  };
  console.log(
    `${variantCount} variants × ${workloadCount} workloads × ${repeatCount} repeats (read+write), results.json ${(size / 1024 ** 2).toFixed(1)} MiB: ` +
      `report in process ${range(inProcess)}, \`layerbench report\` ${range(command)} (goal < 2 s)`,
  );
} finally {
  await fs.rm(dir, { recursive: true, force: true });
}
