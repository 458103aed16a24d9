import { DESIGN_KINDS, type DesignKind } from "../core/design-kinds.js";
import {
  type Factor,
  logDetInformation,
  type ModelSpec,
  modelRow,
  type Point,
  parameterCount,
} from "../core/linear-model.js";
import type { DesignRecord } from "../core/results.js";
import { UserError } from "../util/errors.js";

// A designed experiment: instead of every valid variant of the axes' cross product, the subset that estimates
// each axis's effect (and chosen two-way interactions) best: D-optimal, picked among the valid variants by a
// deterministic exchange (Fedorov's), always with the all-defaults variant and a few more variants than the model
// has parameters, so that the residuals estimate the error.

export type DesignKey = "design" | "interactions" | "confirm";

export interface DesignSpec {
  kind: DesignKind;
  /** How errors name a key: `layerbench:vmVariants.confirm` in a stack, `--confirm` on the command line. */
  keyName: (key: DesignKey) => string;
  interactions: Array<[string, string]>;
  /** Variants of the full product added to the chosen ones, to set measurement beside the model's prediction. */
  confirm: string[];
}

/** A valid variant of the cross product, at its point of the factor space. */
export interface Candidate {
  id: string;
  point: Point;
}

export class DesignError extends UserError {}

export const FULL_DESIGN: DesignSpec = { kind: "full", keyName: (key) => key, interactions: [], confirm: [] };

/** What a stack's `design`, `interactions` and `confirm` keys (or run's options) say, checked against the axes. */
export function parseDesign(
  input: { design?: unknown; interactions?: unknown; confirm?: unknown },
  axes: string[],
  keyName: (key: DesignKey) => string,
): DesignSpec {
  const kind = input.design ?? "full";
  if (typeof kind !== "string" || !(DESIGN_KINDS as readonly string[]).includes(kind)) {
    throw new DesignError(
      `${keyName("design")} ${JSON.stringify(kind)} is not allowed: use one of ${DESIGN_KINDS.join(", ")}`,
    );
  }
  const pairs = input.interactions ?? [];
  const pairShaped = (pair: unknown): pair is [string, string] =>
    Array.isArray(pair) && pair.length === 2 && pair.every((name) => typeof name === "string");
  if (!Array.isArray(pairs) || !pairs.every(pairShaped)) {
    throw new DesignError(
      `${keyName("interactions")} ${JSON.stringify(pairs)} is not allowed: use a list of axis pairs, e.g. [[cache, iothread]]`,
    );
  }
  for (const pair of pairs) {
    const stranger = pair.find((name) => !axes.includes(name));
    if (stranger !== undefined || pair[0] === pair[1]) {
      throw new DesignError(
        `${keyName("interactions")} [${pair.join(", ")}] is not allowed: use two different axes of ${axes.join(", ") || "(no axes)"}`,
      );
    }
  }
  if (kind === "main-effects+interactions" && pairs.length === 0)
    throw new DesignError(
      `${keyName("design")} main-effects+interactions needs ${keyName("interactions")}: a list of axis pairs`,
    );
  if (kind !== "main-effects+interactions" && pairs.length > 0)
    throw new DesignError(`${keyName("interactions")} is only used with design main-effects+interactions, not ${kind}`);
  const confirm = input.confirm ?? [];
  if (!Array.isArray(confirm) || !confirm.every((id) => typeof id === "string"))
    throw new DesignError(`${keyName("confirm")} ${JSON.stringify(confirm)} is not allowed: use a list of variant ids`);
  if (kind !== "full" && axes.length === 0)
    throw new DesignError(`${keyName("design")} ${kind} needs axes: a design chooses among their combinations`);
  return { kind: kind as DesignKind, keyName, interactions: pairs, confirm };
}

/** Variants beyond the model's parameters: the residual degrees of freedom that estimate the error. */
function extraVariants(parameters: number): number {
  return Math.max(3, Math.ceil(parameters / 4));
}

/**
 * Indices of the chosen candidates, in candidate order: `size` of them, `forced` among them, maximising
 * det(X'X). Greedy start (each step adds the candidate that helps most, the first on ties), then the best single
 * exchange of a chosen candidate for another until none improves the determinant.
 */
function dOptimal(rows: number[][], size: number, forced: number): number[] {
  const chosen = [forced];
  // Until the rows estimate every parameter their determinant is 0: a small ridge ranks the partial designs.
  const ridge = rows[0].map((_, column) => rows[0].map((__, other) => (column === other ? 1e-3 : 0)));
  const score = (indices: number[], withRidge: boolean) =>
    logDetInformation(
      withRidge ? [...indices.map((index) => rows[index]), ...ridge] : indices.map((index) => rows[index]),
    );
  while (chosen.length < size) {
    let best = -1;
    let bestScore = Number.NEGATIVE_INFINITY;
    for (let index = 0; index < rows.length; index += 1) {
      if (chosen.includes(index)) continue;
      const candidateScore = score([...chosen, index], true);
      if (candidateScore > bestScore + 1e-12) {
        best = index;
        bestScore = candidateScore;
      }
    }
    chosen.push(best);
  }
  for (let pass = 0; pass < 100; pass += 1) {
    const current = score(chosen, false);
    let swap: [number, number] | undefined;
    let bestScore = current;
    for (let position = 1; position < chosen.length; position += 1) {
      for (let index = 0; index < rows.length; index += 1) {
        if (chosen.includes(index)) continue;
        const trial = chosen.map((entry, at) => (at === position ? index : entry));
        const trialScore = score(trial, false);
        if (trialScore > bestScore + 1e-9) {
          swap = [position, index];
          bestScore = trialScore;
        }
      }
    }
    if (!swap) break;
    chosen[swap[0]] = swap[1];
  }
  return chosen.sort((a, b) => a - b);
}

/**
 * The ids a design measures: every candidate for `full`; else the D-optimal subset with the candidate at every
 * factor's reference level (the defaults), and apart from them the confirmation variants it did not choose.
 * Refused when the valid candidates cannot estimate the model.
 */
function chooseCandidates(
  candidates: Candidate[],
  factors: Factor[],
  spec: DesignSpec,
): { chosen: string[]; confirm: string[] } {
  const unknown = spec.confirm.find((id) => !candidates.some((candidate) => candidate.id === id));
  if (unknown !== undefined) {
    throw new DesignError(
      `${spec.keyName("confirm")}: "${unknown}" is not a valid variant of the axes: use ids that \`layerbench plan --confirm\` proposes`,
    );
  }
  if (spec.kind === "full") return { chosen: candidates.map((candidate) => candidate.id), confirm: [] };
  const model: ModelSpec = { factors, interactions: spec.interactions };
  const rows = candidates.map((candidate) => modelRow(model, candidate.point));
  const parameters = parameterCount(model);
  const size = Math.min(candidates.length, parameters + extraVariants(parameters));
  const defaults = candidates.findIndex((candidate) =>
    factors.every((factor) => candidate.point[factor.name] === factor.levels[0]),
  );
  const chosen = dOptimal(rows, size, Math.max(defaults, 0));
  if (logDetInformation(chosen.map((index) => rows[index])) === Number.NEGATIVE_INFINITY) {
    throw new DesignError(
      `${spec.keyName("design")} ${spec.kind}: the valid variants of these axes cannot tell every effect apart (${parameters} parameters from ${candidates.length} variants): use design full, or fewer interactions`,
    );
  }
  const ids = chosen.map((index) => candidates[index].id);
  return { chosen: ids, confirm: spec.confirm.filter((id) => !ids.includes(id)) };
}

/** The axes as factors, each with the defaults' value first (the reference), values as `label` writes them. */
export function axisFactors(
  axes: Array<[string, unknown[]]>,
  label: (field: string, value: unknown) => string,
  defaults: Record<string, unknown>,
): Factor[] {
  return axes.map(([name, values]) => {
    const levels = [...new Set(values.map((value) => label(name, value)))];
    const reference = label(name, defaults[name]);
    return {
      name,
      levels: levels.includes(reference) ? [reference, ...levels.filter((l) => l !== reference)] : levels,
    };
  });
}

/** The listed variants and the design's choice among the axes' valid variants, with the record of that choice. */
export function applyDesign<V extends { id: string }>(
  layer: DesignRecord["layer"],
  listed: V[],
  axisVariants: Array<{ variant: V; point: Point }>,
  factors: Factor[],
  spec: DesignSpec,
): { variants: V[]; design?: DesignRecord } {
  if (factors.length === 0) return { variants: listed };
  const candidates = axisVariants.map(({ variant, point }) => ({ id: variant.id, point }));
  const { chosen: ids, confirm } = chooseCandidates(candidates, factors, spec);
  // Confirmations come last: a second `pulumi up` that adds them leaves the design's disks in their slots.
  const byId = new Map(axisVariants.map(({ variant }) => [variant.id, variant]));
  const chosen = [...ids, ...confirm].flatMap((id) => byId.get(id) ?? []);
  return {
    variants: [...listed, ...chosen],
    design: {
      layer,
      kind: spec.kind,
      factors,
      interactions: spec.interactions,
      candidates,
      chosen: ids,
      confirm,
    },
  };
}

/** The record with every variant id renamed, e.g. to the ids a results document gives them. */
export function renameDesignIds(record: DesignRecord, rename: (id: string) => string): DesignRecord {
  return {
    ...record,
    candidates: record.candidates.map((candidate) => ({ ...candidate, id: rename(candidate.id) })),
    chosen: record.chosen.map(rename),
    confirm: record.confirm.map(rename),
  };
}
