import { formatFioSize, formatJobSize } from "../util/size.js";
import type { ResultsDocument } from "./results.js";

// The settings that shape a results document's numbers. Two documents measured under different settings are not
// a before and after: compare refuses them and report warns, one line per difference, by the same rule. Where
// they were measured (the host, a target's path, an import's inputs) is named beside, never refused: a scratch
// directory's random name or an input's path is not a setting, and a new disk or host is a before and after.

const NOT_RECORDED = "not recorded";

/** The fio versions that ran some variants' runs. */
export function fioVersions(variants: ResultsDocument["variants"]): Set<string> {
  return new Set(
    variants.flatMap((variant) => variant.workloads.flatMap((workload) => workload.runs.map((run) => run.fioVersion))),
  );
}

/** Setting name -> value, for the settings of the measurement itself (what fio did). */
function measurementSettings(document: ResultsDocument): Map<string, string> {
  const { profile } = document;
  const settings = new Map<string, string>([
    ["profile", profile.id],
    ["runtime", `${profile.runtimeSec} s`],
    ["ramp", profile.rampSec === undefined ? NOT_RECORDED : `${profile.rampSec} s`],
    ["ioengine", profile.ioengine],
    ["direct", profile.direct ? "1 (O_DIRECT)" : "0 (page cache)"],
    ["precondition", profile.precondition ? "device targets filled first" : "no"],
  ]);
  const fio = fioVersions(document.variants);
  settings.set("fio", fio.size > 0 ? [...fio].sort().join(", ") : "no runs");
  for (const workload of profile.workloads ?? []) {
    settings.set(
      `workload ${workload.id}`,
      `${workload.rw}, bs ${formatFioSize(workload.bs)}, ${workload.numjobs} job(s), QD${workload.iodepth}, size per job ${formatJobSize(workload.size)}`,
    );
  }
  if (!profile.workloads) settings.set("workloads", NOT_RECORDED);
  return settings;
}

/** Setting name -> value, for where it was measured: the host or stack, and what each variant's target was. */
function placeSettings(document: ResultsDocument): Map<string, string> {
  const { source } = document;
  const settings = new Map<string, string>([
    [
      "host",
      source.kind === "local"
        ? `local host ${source.host}`
        : source.kind === "import"
          ? `imported from ${source.from}`
          : `stack ${source.project}/${source.stack}`,
    ],
  ]);
  for (const variant of document.variants) {
    const options = Object.entries(variant.options)
      .map(([key, value]) => `${key}=${value}`)
      .join(" ");
    settings.set(`target of ${variant.id}`, `${variant.layer}${options ? ` ${options}` : ""}`);
  }
  return settings;
}

function differences(before: Map<string, string>, after: Map<string, string>, sharedOnly: string[]): string[] {
  const names = [...new Set([...before.keys(), ...after.keys()])];
  return names.flatMap((name) => {
    const a = before.get(name);
    const b = after.get(name);
    // A variant or workload only one side has is not a setting that differs: compare lists it apart.
    if ((a === undefined || b === undefined) && sharedOnly.some((prefix) => name.startsWith(prefix))) return [];
    if (a === b) return [];
    return [`${name}: ${a ?? NOT_RECORDED} → ${b ?? NOT_RECORDED}`];
  });
}

/** What differs in how two documents were measured: what compare refuses without --force. */
export function comparisonDifferences(before: ResultsDocument, after: ResultsDocument): string[] {
  return differences(measurementSettings(before), measurementSettings(after), ["workload "]);
}

/** Where two documents were measured, where it differs (host, targets): named beside a comparison. */
export function placeDifferences(before: ResultsDocument, after: ResultsDocument): string[] {
  return differences(placeSettings(before), placeSettings(after), ["target of "]);
}

/** What differs in how the documents of one report were measured, each against the first (where differs on purpose). */
export function reportDifferences(documents: ResultsDocument[], names: string[]): string[] {
  return eachAgainstFirst(documents, names, (first, other) =>
    differences(measurementSettings(first), measurementSettings(other), ["workload "]),
  );
}

/** A comparison of every document of a report with the first, each line prefixed "[1] a vs [2] b: ". */
function eachAgainstFirst(
  documents: ResultsDocument[],
  names: string[],
  compare: (first: ResultsDocument, other: ResultsDocument) => string[],
): string[] {
  const [first, ...rest] = documents;
  if (!first) return [];
  return rest.flatMap((document, index) =>
    compare(first, document).map((line) => `${names[0]} vs ${names[index + 1]}: ${line}`),
  );
}

/** "LAYER KEY" -> the values the document's variants of that layer recorded (kernel, pve, qemu, k3s...). */
function environmentByLayer(document: ResultsDocument): Map<string, string> {
  const values = new Map<string, Set<string>>();
  for (const variant of document.variants)
    for (const [key, value] of Object.entries(variant.environment ?? {})) {
      const name = `${variant.layer} ${key}`;
      values.set(name, (values.get(name) ?? new Set()).add(value));
    }
  return new Map([...values].map(([name, set]) => [name, [...set].sort().join(", ")]));
}

/**
 * What ran two documents that differs, layer by layer (the kernel, Proxmox VE, QEMU, ZFS, the guest's OS, k3s,
 * Longhorn): not a reason to refuse a comparison (an upgrade is a before and after worth measuring), but named
 * beside it. Only what both recorded: a document from before layerbench recorded it says nothing.
 */
export function environmentDifferences(before: ResultsDocument, after: ResultsDocument): string[] {
  const [a, b] = [environmentByLayer(before), environmentByLayer(after)];
  return [...a].flatMap(([name, value]) => {
    const other = b.get(name);
    return other === undefined || other === value ? [] : [`${name}: ${value} → ${other}`];
  });
}

/** The same for the documents of one report, each against the first. */
export function reportEnvironmentDifferences(documents: ResultsDocument[], names: string[]): string[] {
  return eachAgainstFirst(documents, names, environmentDifferences);
}
