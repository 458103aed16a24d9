import { inverse, Matrix } from "ml-matrix";
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
import { seededUniforms } from "../util/random.js";
import { orthogonalArrays } from "./orthogonal-arrays.js";

// A designed experiment: instead of every valid variant of the axes' cross product, the subset that estimates
// each axis's effect (and chosen two-way interactions) best: D-optimal, picked among the valid variants by
// Fedorov's exchange from seeded random starts and from the orthogonal arrays that fit, always with the
// all-defaults variant and a few more variants than the model has parameters, so that the residuals estimate the
// error.

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

/** How many random starts the exchange search makes beside the greedy one and the orthogonal arrays. */
const RANDOM_STARTS = 24;

/** log det(X'X) of the chosen rows; with a small ridge, a partial design that cannot yet estimate everything. */
function score(rows: number[][], indices: number[], ridge?: number[][]): number {
  const chosen = indices.map((index) => rows[index]);
  return logDetInformation(ridge ? [...chosen, ...ridge] : chosen);
}

/**
 * Fedorov's exchange: the best single swap of a chosen row (the forced one stays) until none improves, each
 * swap's gain from the determinant lemma: det(M - x_i x_i' + x_j x_j') / det(M) = (1 + d_jj)(1 - d_ii) + d_ij²,
 * d_ab = x_a' M^-1 x_b (Fedorov, Theory of Optimal Experiments, 1972). A start that cannot yet estimate every
 * parameter gets a small ridge, so that its swaps are ranked too.
 */
function exchange(rows: number[][], start: number[]): number[] {
  const chosen = [...start];
  const x = new Matrix(rows);
  for (let pass = 0; pass < 100; pass += 1) {
    const picked = new Matrix(chosen.map((index) => rows[index]));
    const information = picked.transpose().mmul(picked).add(Matrix.eye(x.columns).mul(1e-6));
    const projected = x.mmul(inverse(information)).to2DArray();
    const d = (a: number, b: number) => projected[a].reduce((sum, value, column) => sum + value * rows[b][column], 0);
    let swap: [number, number] | undefined;
    let bestRatio = 1 + 1e-9;
    for (let position = 1; position < chosen.length; position += 1) {
      const out = chosen[position];
      const dOut = d(out, out);
      for (let index = 0; index < rows.length; index += 1) {
        if (chosen.includes(index)) continue;
        const ratio = (1 + d(index, index)) * (1 - dOut) + d(out, index) ** 2;
        if (ratio > bestRatio) {
          swap = [position, index];
          bestRatio = ratio;
        }
      }
    }
    if (!swap) break;
    chosen[swap[0]] = swap[1];
  }
  return chosen;
}

/** The greedy start: each step adds the candidate that helps most (the first on ties). */
function greedy(rows: number[][], size: number, forced: number): number[] {
  // Until the rows estimate every parameter their determinant is 0: a small ridge ranks the partial designs.
  const ridge = rows[0].map((_, column) => rows[0].map((__, other) => (column === other ? 1e-3 : 0)));
  const chosen = [forced];
  while (chosen.length < size) {
    let best = -1;
    let bestScore = Number.NEGATIVE_INFINITY;
    for (let index = 0; index < rows.length; index += 1) {
      if (chosen.includes(index)) continue;
      const candidateScore = score(rows, [...chosen, index], ridge);
      if (candidateScore > bestScore + 1e-12) {
        best = index;
        bestScore = candidateScore;
      }
    }
    chosen.push(best);
  }
  return chosen;
}

/** A random start: the forced candidate and `size - 1` others. */
function randomStart(count: number, size: number, forced: number, next: () => number): number[] {
  const others = Array.from({ length: count }, (_, index) => index).filter((index) => index !== forced);
  for (let index = others.length - 1; index > 0; index -= 1) {
    const other = Math.floor(next() * (index + 1));
    [others[index], others[other]] = [others[other], others[index]];
  }
  return [forced, ...others.slice(0, size - 1)];
}

/**
 * Indices of the chosen candidates, in candidate order: `size` of them, `forced` among them, maximising
 * det(X'X). The best of: the greedy start, seeded random starts (each improved by Fedorov's exchange), and the
 * orthogonal arrays that fit (orthogonal-arrays.ts). One greedy pass of exchanges picked 8 variants of D-efficiency
 * 0.944 for four two-level axes, where the half fraction through the defaults is orthogonal (1.000).
 */
function dOptimal(rows: number[][], size: number, forced: number, arrays: number[][]): number[] {
  const next = seededUniforms(rows.length * 7919 + size);
  const starts = [
    greedy(rows, size, forced),
    ...Array.from({ length: RANDOM_STARTS }, () => randomStart(rows.length, size, forced, next)),
  ];
  let best = arrays.find((array) => array.length === size && array.includes(forced));
  let bestScore = best ? score(rows, best) : Number.NEGATIVE_INFINITY;
  for (const start of starts) {
    const improved = exchange(rows, start);
    const improvedScore = score(rows, improved);
    if (improvedScore > bestScore + 1e-9) {
      best = improved;
      bestScore = improvedScore;
    }
  }
  return [...(best ?? starts[0])].sort((a, b) => a - b);
}

/**
 * A design's D-efficiency against measuring every valid candidate: (det(M_design) / det(M_all))^(1/p), M = X'X / N
 * the information per run. 1 for an orthogonal fraction of a full two-level product; 0 when the design cannot
 * estimate the model.
 */
export function dEfficiency(record: Pick<DesignRecord, "factors" | "interactions" | "candidates" | "chosen">): number {
  const model: ModelSpec = { factors: record.factors, interactions: record.interactions };
  const rowOf = (candidate: Candidate) => modelRow(model, candidate.point);
  const all = record.candidates.map(rowOf);
  const chosen = record.candidates.filter((candidate) => record.chosen.includes(candidate.id)).map(rowOf);
  const parameters = parameterCount(model);
  const perRun = (rows: number[][]) => logDetInformation(rows) - parameters * Math.log(rows.length);
  const ratio = (perRun(chosen) - perRun(all)) / parameters;
  return Number.isFinite(ratio) ? Math.exp(ratio) : 0;
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
  const arrays = orthogonalArrays(factors, size).flatMap((points) => {
    // An array is usable where each of its points is a valid candidate.
    const indices = points.map((point) =>
      candidates.findIndex((candidate) =>
        factors.every((factor) => candidate.point[factor.name] === point[factor.name]),
      ),
    );
    return indices.every((index) => index >= 0) ? [indices] : [];
  });
  const chosen = dOptimal(rows, size, Math.max(defaults, 0), arrays);
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
