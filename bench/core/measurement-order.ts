import { seededUniforms } from "../util/random.js";

// The order the variants are measured in. In the cross product's order (first axis slowest), a machine that drifts
// over the run (an SSD warming, a node slowing) makes the drift an effect of the slowest axis: 0.5 % per variant
// put bus=scsi 7.7 % low and held the truth in 40 % of its intervals. A seeded random order makes drift noise the
// Effects section's model can take out (report/effect-fit.ts), and the baseline measured again at the end (and in
// the middle) shows whether the machine moved at all.

/** With this many units besides the baseline, it is measured at the start and the end. */
const BASELINE_AT_END_FROM = 2;
/** With this many, in the middle as well: two more passes cost at most half the run, less with more variants. */
const BASELINE_IN_MIDDLE_FROM = 4;

/** A seeded Fisher-Yates shuffle: the same seed gives the same order, so that a run's order can be told again. */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const next = seededUniforms(seed);
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index -= 1) {
    const other = Math.floor(next() * (index + 1));
    [copy[index], copy[other]] = [copy[other], copy[index]];
  }
  return copy;
}

/**
 * The order of measurement: the baseline first, the units (a target, or a guest's disks together) shuffled by the
 * seed (in their given order without one), and the baseline again in the middle and at the end where there are
 * enough units for it to tell drift.
 */
export function measurementOrder<T>(baseline: T, units: readonly T[], seed: number | undefined): T[] {
  const order = seed === undefined ? [...units] : shuffled(units, seed);
  const passes = baselinePassCount(order.length);
  if (passes === 1) return [baseline, ...order];
  if (passes === 2) return [baseline, ...order, baseline];
  const half = Math.ceil(order.length / 2);
  return [baseline, ...order.slice(0, half), baseline, ...order.slice(half), baseline];
}

/** How many times the baseline is measured among this many units: what plan counts and measurementOrder does. */
export function baselinePassCount(units: number): number {
  if (units < BASELINE_AT_END_FROM) return 1;
  return units < BASELINE_IN_MIDDLE_FROM ? 2 : 3;
}

/** A seed for a run that names none: recorded in results.json, so that the order can be told and repeated. */
export const freshSeed = () => Math.floor(Math.random() * 2 ** 31);

/**
 * A seed from a text (a stack's runId, FNV-1a to 31 bits): every `pulumi up` of one runId declares the same order,
 * a new runId a new one.
 */
export function seedOf(text: string): number {
  let hash = 0x811c9dc5;
  for (const unit of new TextEncoder().encode(text)) hash = Math.imul(hash ^ unit, 0x01000193) >>> 0;
  return hash & 0x7fffffff;
}
