// What layerbench itself costs: the IOPS it reports (fio logging each second, core/series.ts) against the same fio
// job run directly without logs, and how much of a run's wall time is fio measuring. Rounds alternate between the
// two so that drift hits both alike.
// Usage: npm run benchmark -- [--runtime 10] [--size 64m] [--rounds 3] [--dir DIR]
import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import { parseFioOutput } from "../core/fio-parser.js";
import { renderJobFile } from "../core/jobfile.js";
import { resolveProfile } from "../core/profiles.js";
import { stat, toResultsDocument } from "../core/results.js";
import { LOG_OPTIONS } from "../core/series.js";

const run = promisify(execFile);
const { values } = parseArgs({
  options: {
    runtime: { type: "string", default: "10" },
    size: { type: "string", default: "64m" },
    rounds: { type: "string", default: "3" },
    dir: { type: "string", default: process.cwd() },
  },
});
const runtimeSec = Number(values.runtime);
const rounds = Number(values.rounds);
const profile = resolveProfile("ars", { runtimeSec, size: values.size });
const base = await fs.mkdtemp(join(resolve(values.dir), ".layerbench-benchmark-"));
const bin = fileURLToPath(new URL("../bin.js", import.meta.url));

const direct = new Map<string, number[]>();
const viaLayerbench = new Map<string, number[]>();
const busyFractions: number[] = [];
const record = (into: Map<string, number[]>, id: string, iops: number) => into.set(id, [...(into.get(id) ?? []), iops]);

try {
  for (let round = 1; round <= rounds; round += 1) {
    const fioDir = await fs.mkdtemp(join(base, "fio-"));
    const jobFile = join(fioDir, "job.fio");
    // The plain job: layerbench's without the per-second logs, so that the ratio holds what logging costs.
    const plain = renderJobFile(profile, { kind: "directory", path: fioDir })
      .split("\n")
      .filter((line) => !LOG_OPTIONS.includes(line))
      .join("\n");
    await fs.writeFile(jobFile, plain);
    for (const workload of profile.workloads) {
      const { stdout } = await run("fio", ["--output-format=json", `--section=${workload.id}`, jobFile], {
        maxBuffer: 1 << 26,
      });
      record(direct, workload.id, parseFioOutput(stdout).jobs[0].write?.iops ?? 0);
      for (const name of await fs.readdir(fioDir))
        if (name.startsWith(`${workload.id}.`)) await fs.rm(join(fioDir, name));
    }

    const out = join(base, `layerbench-${round}`);
    const started = process.hrtime.bigint();
    await run(process.execPath, [
      bin,
      "run",
      "--runtime",
      String(runtimeSec),
      "--size",
      values.size,
      "--target",
      `bench=${fioDir}`,
      "--out",
      out,
    ]);
    const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
    const document = toResultsDocument(JSON.parse(await fs.readFile(join(out, "results.json"), "utf8")), out);
    let fioMs = 0;
    for (const workload of document.variants[0].workloads) {
      record(viaLayerbench, workload.id, workload.runs[0].write?.iops ?? 0);
      fioMs += workload.runs[0].write?.runtimeMs ?? 0;
    }
    busyFractions.push(fioMs / wallMs);
    console.error(
      `round ${round}/${rounds}: fio measured ${(fioMs / 1000).toFixed(1)} s of ${(wallMs / 1000).toFixed(1)} s wall time`,
    );
  }
} finally {
  await fs.rm(base, { recursive: true, force: true });
}

const format = (value: number) => value.toFixed(0);
console.log(`ars profile, runtime ${runtimeSec} s, size ${values.size}, ${rounds} rounds\n`);
console.log("| workload | fio direct IOPS | layerbench IOPS | ratio |\n| --- | ---: | ---: | ---: |");
for (const workload of profile.workloads) {
  const a = stat(direct.get(workload.id) ?? []);
  const b = stat(viaLayerbench.get(workload.id) ?? []);
  console.log(
    `| ${workload.id} | ${format(a.mean)} ± ${format(a.stdev)} | ${format(b.mean)} ± ${format(b.stdev)} | ${(b.mean / a.mean).toFixed(3)} |`,
  );
}
const busy = stat(busyFractions);
console.log(
  `\nsum of fio runtimes / wall time of layerbench run: ${busy.mean.toFixed(3)} (min ${busy.min.toFixed(3)}, max ${busy.max.toFixed(3)})`,
);
