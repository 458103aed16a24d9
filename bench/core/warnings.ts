import { baselineMove, baselinePasses } from "./baseline-drift.js";
import { DEFAULT_THRESHOLD_PCT } from "./metrics.js";
import { outlierKey, outlierRunsOf } from "./outliers.js";
import { DEFAULT_MAX_RSD_PCT } from "./repeat.js";
import {
  DIRECTIONS,
  type Layer,
  pooledStdev,
  type ResultsDocument,
  type Run,
  relativeStdevPct,
  throughPageCache,
} from "./results.js";
import { STEADY_CRITERION, steadyState } from "./steady-state.js";

// Numbers that may measure something else than the storage, flagged beside them rather than hidden. Derived from
// any results document (old ones too): results.json carries them, and the report derives them again.

export const WARNING_CODES = [
  "faster-than-baseline",
  "buffered-io",
  "client-cache",
  "working-set-in-cache",
  "high-spread",
  "cpu-bound",
  "not-steady",
  "settled-late",
  "overran",
  "outlier-run",
  "baseline-moved",
] as const;
export type WarningCode = (typeof WARNING_CODES)[number];

export interface ResultWarning {
  variant: string;
  workload: string;
  code: WarningCode;
  message: string;
}

/** The distinct codes of some warnings, as tables and tooltips list them ("buffered-io, high-spread"). */
export function warningCodes(warnings: ResultWarning[], except: WarningCode[] = []): string {
  return [...new Set(warnings.map((warning) => warning.code))].filter((code) => !except.includes(code)).join(", ");
}

/** What each code means, for the report's legend and the README. */
export const WARNING_MEANINGS: Record<WarningCode, string> = {
  "faster-than-baseline":
    "a layer above the baseline is faster beyond the spread of the runs: it likely measured a cache (kbench's rule)",
  "buffered-io": "the profile runs without direct=1: the page cache is part of the number",
  "client-cache":
    "an RBD client's cache (librbd's rbd_cache) acknowledged writes before the OSDs had them: the number measures that cache as much as Ceph",
  "working-set-in-cache":
    "buffered, and the bytes the workload touches fit in the RAM of the machine that ran fio: it may have measured RAM",
  "high-spread": "the runs disagree: their relative standard deviation is above the threshold",
  "cpu-bound": "fio's jobs kept their CPUs near 100 % busy: the number may measure the CPU, not the storage",
  overran:
    "fio's own runtime of a run was far longer than the profile's: the storage stalled under it (a cluster not answering for a while), and the number averages over the stall",
  "outlier-run":
    "one run of several is far from the others: 5 robust standard deviations of its layer's runs and 5 % or more from its variant's median (a neighbour's backup, a scrub, a cache flushing); the mean includes it, the message says which run",
  "baseline-moved":
    "the baseline, measured again at the end of the run (and in the middle), moved from its first pass to its last beyond its runs' spread: the machine drifted while the other variants were measured (an SSD warming, a busy neighbour), and a ratio carries the drift of its time; the Effects section takes a linear drift out where the order was random",
  "settled-late":
    "a run settled only after its first seconds, and the mean of its steady part differs from the whole run's by 5 % or more: the number carries its start (a cache filling, a thin volume allocating)",
  "not-steady":
    "a run's IOPS did not settle: over five rounds of its seconds, SNIA PTS 2.0.2's rule (rounds within 20 % of their average, the fitted slope within 10 %) does not hold; under --steady, fio's own criterion never held and the run took its full --runtime",
};

// Host and local directories are the bottom; a guest sits on them, Kubernetes on a guest.
const LAYER_RANK: Record<Layer, number> = { local: 0, host: 0, vm: 1, k8s: 2 };

/** A run's steady part against the whole run: a change of this share is said (settled-late). */
const SETTLED_LATE_CHANGE = 0.05;

/** A job counts as CPU-bound from this share of one CPU (user + system). */
export const CPU_BOUND_PCT = 90;

/**
 * Runs whose fio runtime passed the asked one by half and 5 s: fio ends a run at its runtime, so only I/O that did
 * not complete (a stalled storage) keeps it longer. None without a runtime (a job file's size-bound jobs).
 */
function overranRuns(runs: Run[], runtimeSec: number): Array<{ run: number; seconds: number }> {
  if (runtimeSec <= 0) return [];
  return runs.flatMap((run, index) => {
    const seconds = Math.max(0, ...DIRECTIONS.map((direction) => run[direction]?.runtimeMs ?? 0)) / 1000;
    return seconds > runtimeSec * 1.5 && seconds - runtimeSec > 5 ? [{ run: index + 1, seconds }] : [];
  });
}

/** Each run's steady state judged once: the runs that never settled (not-steady) and those that settled late. */
function settling(runs: Run[]): { unsettled: string[]; late: string[] } {
  const unsettled: string[] = [];
  const late: string[] = [];
  for (const [index, run] of runs.entries()) {
    // --steady: fio judged the run itself and ended it once its criterion held. SNIA's rounds over all its seconds
    // would count those before it settled, and flag a run the report says settled.
    if (run.steadyAttained !== undefined) {
      if (!run.steadyAttained)
        unsettled.push(`run ${index + 1}: fio's steadystate (${STEADY_CRITERION}) never held in its --runtime`);
      continue;
    }
    const judged = run.series ? steadyState(run.series.iops) : undefined;
    if (!judged || !run.series) continue;
    if (!judged.steady) {
      unsettled.push(
        `run ${index + 1}: rounds ${(judged.dataExcursion * 100).toFixed(1)} % apart (limit 20 %), slope ${(judged.slopeExcursion * 100).toFixed(1)} % (limit 10 %)`,
      );
      continue;
    }
    if (!judged.steadyFrom || judged.steadyMean === undefined) continue;
    const change = judged.steadyMean / judged.wholeMean - 1;
    if (Math.abs(change) >= SETTLED_LATE_CHANGE)
      late.push(
        `run ${index + 1}: steady after ${judged.steadyFrom * run.series.intervalSec} s; its steady part ${judged.steadyMean.toFixed(0)} IOPS, the whole run ${judged.wholeMean.toFixed(0)} (${change > 0 ? "+" : ""}${(change * 100).toFixed(1)} %)`,
      );
  }
  return { unsettled, late };
}

export function deriveWarnings(document: ResultsDocument): ResultWarning[] {
  const warnings: ResultWarning[] = [];
  const { profile } = document;
  const baseline = document.variants.find((variant) => variant.baseline);
  const maxRsdPct = profile.stopWhenStable?.maxRsdPct ?? DEFAULT_MAX_RSD_PCT;
  const passes = baselinePasses(document);
  const outliers = outlierRunsOf(document);
  for (const variant of document.variants) {
    for (const workload of variant.workloads) {
      const add = (code: WarningCode, message: string) =>
        warnings.push({ variant: variant.id, workload: workload.id, code, message });
      const settings = profile.workloads?.find((candidate) => candidate.id === workload.id);
      // fio's rbd engine has no page cache under it: librbd's own cache, recorded as rbdCache, is what direct=0 means.
      const pageCache = throughPageCache(profile) && variant.options.engine !== "rbd";
      if (pageCache) add("buffered-io", "direct=0: written through the page cache");
      // The stack's host-level Ceph run reports the cache its script found; local runs and VM disks record it.
      const rbdCache = variant.options.rbdCache ?? variant.environment?.rbdCache;
      if (typeof rbdCache === "string" && rbdCache !== "off")
        add("client-cache", `librbd's cache (${rbdCache}) was on: writes acknowledged before the OSDs had them`);
      if (pageCache && settings && variant.memoryBytes !== undefined) {
        const touched = settings.size * settings.numjobs;
        if (touched <= variant.memoryBytes)
          add(
            "working-set-in-cache",
            `touches ${(touched / 1024 ** 3).toFixed(2)} GiB, the machine that ran fio has ${(variant.memoryBytes / 1024 ** 3).toFixed(1)} GiB of RAM`,
          );
      }
      for (const direction of DIRECTIONS) {
        const iops = workload.summary[direction]?.iops;
        if (iops && iops.n > 1 && relativeStdevPct(iops) >= maxRsdPct)
          add(
            "high-spread",
            `${direction} IOPS spread ${relativeStdevPct(iops).toFixed(1)} % over ${iops.n} runs (>= ${maxRsdPct} %)`,
          );
        const base = baseline?.workloads.find((candidate) => candidate.id === workload.id)?.summary[direction]?.iops;
        if (!iops || !base || !baseline || baseline === variant || base.mean <= 0) continue;
        if (LAYER_RANK[variant.layer] <= LAYER_RANK[baseline.layer]) continue;
        const spread = pooledStdev(iops, base);
        const faster = iops.mean / base.mean > 1 + DEFAULT_THRESHOLD_PCT / 100;
        if (faster && (spread === undefined || iops.mean - base.mean > 2 * spread))
          add(
            "faster-than-baseline",
            `${direction} IOPS ${(iops.mean / base.mean).toFixed(2)}× the baseline ${baseline.id}'s, from a layer above it`,
          );
      }
      const inPasses = variant.baseline && passes > 1;
      const far = DIRECTIONS.flatMap((direction) =>
        (outliers.get(outlierKey(variant.id, workload.id, direction)) ?? []).map(
          (entry) => `${direction} run ${entry.run}: ${entry.ratio.toFixed(2)}× the median of ${entry.of} runs`,
        ),
      );
      if (far.length > 0) add("outlier-run", far.join("; "));
      const moves = inPasses
        ? DIRECTIONS.flatMap((direction) => baselineMove(document, variant, workload.id, direction, passes) ?? [])
        : [];
      if (moves.length > 0) add("baseline-moved", moves.join("; "));
      const { unsettled, late } = settling(workload.runs);
      if (unsettled.length > 0) add("not-steady", unsettled.join("; "));
      if (late.length > 0) add("settled-late", late.join("; "));
      const overran = overranRuns(workload.runs, profile.runtimeSec);
      if (overran.length > 0)
        add(
          "overran",
          `${overran.map(({ run, seconds }) => `run ${run}: ${seconds.toFixed(1)} s`).join("; ")} where ${profile.runtimeSec} s was asked`,
        );
      const busiest = Math.max(0, ...workload.runs.map((run) => (run.cpu ? run.cpu.user + run.cpu.system : 0)));
      if (busiest >= CPU_BOUND_PCT) add("cpu-bound", `each job used ${busiest.toFixed(0)} % of a CPU (user + system)`);
    }
  }
  return warnings;
}
