import { parseFioGroups } from "../core/fio-parser.js";
import { FIO_DEFAULTS } from "../core/job-file-profile.js";
import {
  addRun,
  LAYERS,
  type Layer,
  newResultsDocument,
  type ResultsDocument,
  type Run,
  type WorkloadSettings,
} from "../core/results.js";
import { type Series, seriesFromLogs } from "../core/series.js";
import { UserError } from "../util/errors.js";
import { parseSize, sizeOrUndefined } from "../util/size.js";
import type { FoundOutput } from "./inputs.js";

// fio outputs measured elsewhere, as one results document: each group of an output is one run of a workload
// (its jobs added up, as group_reporting would), outputs of the same variant and workload are its repeats.

export interface ImportOptions {
  /** The variant the others are compared with; the first one found when absent. */
  baseline?: string;
  /** Per variant, its layer; `local` when not given. */
  layers: Record<string, Layer>;
  /** What the source says it was imported from. */
  from: string;
}

/** What shaped a workload, from the options fio printed (fio's defaults where it printed none). */
function workloadSettings(id: string, options: Record<string, string>, jobs: number): WorkloadSettings {
  return {
    id,
    rw: options.rw ?? options.readwrite ?? FIO_DEFAULTS.rw,
    bs: sizeOrUndefined(options.bs ?? options.blocksize ?? FIO_DEFAULTS.bs) ?? parseSize(FIO_DEFAULTS.bs),
    numjobs: jobs,
    iodepth: Number(options.iodepth ?? FIO_DEFAULTS.iodepth),
    // 0: fio sized the job from its file or device, which the output does not say.
    size: (options.size === undefined ? undefined : sizeOrUndefined(options.size)) ?? 0,
  };
}

/** fio's time options ("60", "60s", "1m"): seconds. */
function seconds(text: string | undefined): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text?.trim() ?? "");
  if (!match) return undefined;
  const scale = { ms: 0.001, s: 1, m: 60, h: 3600 }[match[2] ?? "s"] ?? 1;
  return Number(match[1]) * scale;
}

export class ImportError extends UserError {}

/** The run's per-second series from the logs found beside its output, when there are any. */
function series(output: FoundOutput): { series?: Series } {
  const found = output.logs ? seriesFromLogs(output.logs) : undefined;
  return found ? { series: found } : {};
}

/** Every run of the outputs, a workload per output (per group, of an output of several), with its settings. */
function importedRuns(outputs: FoundOutput[]) {
  const parsed = outputs.map((output) => ({ output, fio: parseFioGroups(output.text, output.origin) }));
  const settings = new Map<string, WorkloadSettings>();
  const runs: Array<{ variant: string; workload: string; run: Run }> = [];
  let first: { options: Record<string, string>; runtimeMs: number } | undefined;
  for (const { output, fio } of parsed) {
    for (const group of fio.groups) {
      // An output of several groups (stonewalled sections) holds several workloads: each takes its job's name.
      const workload = fio.groups.length === 1 ? output.workload : `${output.workload}.${group.name}`;
      const runtimeMs = Math.max(...[group.read, group.write, group.mixed].map((side) => side?.runtimeMs ?? 0));
      const finishedAt = fio.finishedAt ?? output.modifiedAt;
      const jobs = group.cpu?.jobs ?? Number(group.options.numjobs ?? 1);
      first ??= { options: group.options, runtimeMs };
      if (!settings.has(workload)) settings.set(workload, workloadSettings(workload, group.options, jobs));
      runs.push({
        variant: output.variant,
        workload,
        run: {
          fioVersion: fio.fioVersion,
          startedAt: new Date(finishedAt.getTime() - runtimeMs).toISOString(),
          fioOptions: group.options,
          ...(group.read && { read: group.read }),
          ...(group.write && { write: group.write }),
          ...(group.mixed && { mixed: group.mixed }),
          ...(group.cpu && { cpu: group.cpu }),
          // The logs beside an output are its one run's: an output of several groups has them mixed.
          ...(fio.groups.length === 1 && series(output)),
        },
      });
    }
  }
  return { settings, runs, first };
}

export function importDocument(outputs: FoundOutput[], options: ImportOptions): ResultsDocument {
  const variants = [...new Set(outputs.map((output) => output.variant))];
  const baseline = options.baseline ?? variants[0];
  if (!variants.includes(baseline))
    throw new ImportError(`--baseline ${baseline}: no such variant in the inputs: use one of ${variants.join(", ")}`);
  for (const [variant, layer] of Object.entries(options.layers)) {
    if (!variants.includes(variant))
      throw new ImportError(
        `--layer ${variant}=${layer}: no such variant in the inputs: use one of ${variants.join(", ")}`,
      );
  }
  const { settings, runs, first } = importedRuns(outputs);
  const firstOptions = first?.options ?? {};
  // Counted in one pass: a big import holds thousands of runs.
  const repeats = new Map<string, number>();
  for (const { variant, workload } of runs) {
    const key = `${variant}\u0000${workload}`;
    repeats.set(key, (repeats.get(key) ?? 0) + 1);
  }
  const repeat = Math.max(...repeats.values());
  const latest = runs
    .map((entry) => entry.run.startedAt)
    .sort()
    .at(-1);
  const document = newResultsDocument(
    { kind: "import", from: options.from },
    {
      id: "import",
      runtimeSec: seconds(firstOptions.runtime) ?? Math.round((first?.runtimeMs ?? 0) / 1000),
      rampSec: seconds(firstOptions.ramp_time) ?? 0,
      repeat,
      ioengine: firstOptions.ioengine ?? FIO_DEFAULTS.ioengine,
      direct: firstOptions.direct === "1" || firstOptions.direct === "true",
      workloads: [...settings.values()],
    },
    new Date(latest ?? 0),
  );
  // The baseline first: reports and charts read it there.
  const order = [baseline, ...variants.filter((variant) => variant !== baseline)];
  for (const variant of order) {
    const layer = options.layers[variant] ?? "local";
    for (const entry of runs.filter((candidate) => candidate.variant === variant)) {
      addRun(
        document,
        { id: variant, layer, options: {}, baseline: variant === baseline },
        { id: entry.workload },
        entry.run,
      );
    }
  }
  return document;
}

/** "VARIANT=LAYER" of --layer, checked. */
export function parseLayerOption(text: string): [string, Layer] {
  const separator = text.lastIndexOf("=");
  const layer = text.slice(separator + 1);
  if (separator <= 0 || !(LAYERS as readonly string[]).includes(layer))
    throw new ImportError(`--layer ${text} is not allowed: use VARIANT=LAYER, LAYER one of ${LAYERS.join(", ")}`);
  return [text.slice(0, separator), layer as Layer];
}
