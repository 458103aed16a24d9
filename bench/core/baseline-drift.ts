import { tTwoSided } from "./linear-model.js";
import { DEFAULT_THRESHOLD_PCT } from "./metrics.js";
import type { DIRECTIONS, ResultsDocument, Run, Variant } from "./results.js";
import { pooledVariance } from "./stats.js";

// The baseline is measured again at the end of a run (and in the middle: core/measurement-order.ts). Its first pass
// against its last says whether the machine moved while the others were measured: a warming SSD, a busy neighbour.

type Direction = (typeof DIRECTIONS)[number];

/** A move smaller than this is not said however steady the runs: a quiet machine's 0.5 % changes no conclusion. */
const LEAST_MOVE = Math.log(1.02);
/**
 * The two-sided p-value under which a move is said: about 3 standard errors. The spread comes from a few runs of a
 * few variants; a bar of 3 robust standard deviations said 27 of 400 steady baselines moved.
 */
const MOVE_P = 0.003;

/** How many passes of the baseline the run's recorded order holds; 1 for runs with none. */
export function baselinePasses(document: ResultsDocument): number {
  const baseline = document.variants.find((variant) => variant.baseline);
  const sequence = document.order?.sequence ?? [];
  return Math.max(1, sequence.filter((name) => name === baseline?.id).length);
}

const logIops = (runs: Run[], direction: Direction) => runs.map((run) => Math.log(run[direction]?.iops ?? 0));
const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

/**
 * The baseline's move from its first pass to its last in a workload and direction, said when a t test on the runs'
 * pooled spread (its passes' own, and its layer's other variants') finds it, or, with nothing repeated, when it
 * passes 5 %. Undefined when it did not move, or its runs do not split evenly into passes (a failed run).
 */
export function baselineMove(
  document: ResultsDocument,
  baseline: Variant,
  workloadId: string,
  direction: Direction,
  passes: number,
): string | undefined {
  const runs = baseline.workloads.find((workload) => workload.id === workloadId)?.runs ?? [];
  if (passes < 2 || runs.length % passes !== 0) return undefined;
  const logs = logIops(runs, direction);
  if (logs.some((value) => !Number.isFinite(value))) return undefined;
  const perPass = runs.length / passes;
  const change = mean(logs.slice(-perPass)) - mean(logs.slice(0, perPass));
  const passGroups = Array.from({ length: passes }, (_, pass) => logs.slice(pass * perPass, (pass + 1) * perPass));
  const layerGroups = document.variants
    .filter((variant) => variant !== baseline && variant.layer === baseline.layer)
    .map((variant) => logIops(variant.workloads.find((workload) => workload.id === workloadId)?.runs ?? [], direction));
  // A variant without this direction has no logs to pool: its group is left out whole.
  const spread = pooledVariance([...passGroups, ...layerGroups].filter((group) => group.every(Number.isFinite)));
  const se = spread && Math.sqrt((spread.variance * 2) / perPass);
  const moved =
    spread && se
      ? Math.abs(change) >= LEAST_MOVE && tTwoSided(change / se, spread.df) < MOVE_P
      : Math.abs(change) >= Math.log(1 + DEFAULT_THRESHOLD_PCT / 100);
  if (!moved) return undefined;
  const pct = (Math.exp(change) - 1) * 100;
  const against =
    spread && se
      ? `p = ${tTwoSided(change / se, spread.df).toPrecision(2)} against its runs' spread`
      : "no run was repeated, so its spread is unknown";
  return `${direction} IOPS ${pct > 0 ? "+" : ""}${pct.toFixed(1)} % from its first pass to its last (${passes} passes of ${perPass} run${perPass > 1 ? "s" : ""}; ${against}): the machine moved while the others were measured`;
}
