import { measurementOrder, shuffled } from "../core/measurement-order.js";
import { isVmTarget, type LocalTarget, type VmTarget } from "./targets.js";

// The steps of a local run in the order they are measured: each directory or RBD target a step, a local guest's
// disks one step (they are measured in one boot), the baseline again in the middle and at the end.

export type RunStep =
  | { kind: "guest"; targets: VmTarget[] }
  | {
      kind: "target";
      target: LocalTarget;
      /** The baseline's passes: 1 of 3 and so on; other targets have one. */
      pass: number;
      passes: number;
    };

export interface RunOrder {
  steps: RunStep[];
  /** The targets' names in the order measured, a guest's disks in theirs: what results.json records. */
  sequence: string[];
}

const single = (target: LocalTarget): RunStep => ({ kind: "target", target, pass: 1, passes: 1 });

/**
 * The run's steps: the first target is the baseline; the others (a guest's disks as one, shuffled among
 * themselves too) in the seed's order, or as given without one. A baseline that is itself a guest's disk is
 * measured once, first in its guest.
 */
export function runOrder(targets: LocalTarget[], seed: number | undefined): RunOrder {
  const [baseline, ...others] = targets;
  // The guest's disks get an order of their own from the seed: salted, not the units' order again.
  const shuffle = <T>(items: T[], salt: number) => (seed === undefined ? items : shuffled(items, seed + salt));
  const guestDisks = others.filter(isVmTarget);
  let steps: RunStep[];
  if (isVmTarget(baseline)) {
    const rest = others.filter((target) => !isVmTarget(target));
    steps = [{ kind: "guest", targets: [baseline, ...shuffle(guestDisks, 1)] }, ...shuffle(rest, 0).map(single)];
  } else {
    // The guest's disks are one unit where the first of them was given.
    const firstDisk = others.find(isVmTarget);
    const units = others.flatMap((target): RunStep[] => {
      if (!isVmTarget(target)) return [single(target)];
      return target === firstDisk ? [{ kind: "guest", targets: shuffle(guestDisks, 1) }] : [];
    });
    const ordered = measurementOrder<RunStep | undefined>(undefined, units, seed);
    // A guest's disks are one unit, one boot, yet each a variant: after two or more, the baseline again says what
    // moved while they were measured (run --axes: the baseline, then every disk of one guest).
    if (units.length === 1 && others.length >= 2) ordered.push(undefined);
    const passes = ordered.filter((step) => step === undefined).length;
    let pass = 0;
    steps = ordered.map((step) => step ?? { kind: "target", target: baseline, pass: ++pass, passes });
  }
  return {
    steps,
    sequence: steps.flatMap((step) =>
      step.kind === "guest" ? step.targets.map((target) => target.name) : [step.target.name],
    ),
  };
}
