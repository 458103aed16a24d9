import { parseBenchConfig, type RawConfig } from "../config/stack-config.js";
import type { DesignKind } from "../core/design-kinds.js";
import { UserError } from "../util/errors.js";
import { planStack } from "./plan.js";

// What a designed experiment saves: the same stack planned with design full and with main-effects, side by side.

export interface DesignAlternative {
  /** The design, and what the stack adds to it (interactions, confirmations) when it is the stack's own. */
  label: string;
  /** The design the stack declares. */
  thisStack: boolean;
  /** Variants measured per layer; absent when the design cannot estimate the effects from the valid variants. */
  vmVariants?: number;
  k8sVariants?: number;
  runs?: number;
  totalSec?: number;
  /** Why the design is not possible for this stack. */
  problem?: string;
}

/** The Kubernetes layer's variant matrix as the stack file gives it. */
const k8sMatrix = (raw: RawConfig) => (raw.k8s as { variants?: unknown } | undefined)?.variants;

const hasAxes = (matrix: unknown) =>
  typeof matrix === "object" && matrix !== null && Object.keys((matrix as { axes?: object }).axes ?? {}).length > 0;

/** The stack's config with the design of every variant matrix that has axes set to `kind` (no pairs, no confirmations). */
function withDesign(raw: RawConfig, kind: Extract<DesignKind, "full" | "main-effects">): RawConfig {
  const redesign = (matrix: unknown) => {
    if (!hasAxes(matrix)) return matrix;
    const { interactions: _pairs, confirm: _confirm, ...rest } = matrix as Record<string, unknown>;
    return { ...rest, design: kind };
  };
  const k8s = raw.k8s as Record<string, unknown> | undefined;
  return {
    ...raw,
    vmVariants: redesign(raw.vmVariants),
    ...(k8s && { k8s: { ...k8s, ...(k8s.variants !== undefined && { variants: redesign(k8s.variants) }) } }),
  };
}

function alternative(raw: RawConfig, stack: string, label: string, thisStack: boolean): DesignAlternative {
  try {
    const config = parseBenchConfig(raw);
    const plan = planStack(config, stack);
    return {
      label,
      thisStack,
      vmVariants: config.variants.length,
      k8sVariants: config.k8s?.variants.length ?? 0,
      runs: plan.duration.runs,
      totalSec: plan.duration.totalSec,
    };
  } catch (error) {
    if (error instanceof UserError) return { label, thisStack, problem: error.message };
    throw error;
  }
}

/** What the stack's own matrices ask for beyond a plain full or main-effects design; undefined when nothing. */
function ownDesign(raw: RawConfig): { kind: string; extras: string[] } {
  const matrices = [raw.vmVariants, k8sMatrix(raw)].filter(hasAxes) as Array<Record<string, unknown>>;
  const kind = String(matrices.find((matrix) => matrix.design !== undefined)?.design ?? "full");
  const confirm = matrices.reduce(
    (sum, matrix) => sum + (Array.isArray(matrix.confirm) ? matrix.confirm.length : 0),
    0,
  );
  const pairs = matrices.flatMap((matrix) => (Array.isArray(matrix.interactions) ? matrix.interactions : []));
  return {
    kind,
    extras: [
      ...(pairs.length > 0
        ? [pairs.map((pair) => (Array.isArray(pair) ? pair.join(" x ") : String(pair))).join(", ")]
        : []),
      ...(confirm > 0 ? [`${confirm} to confirm`] : []),
    ],
  };
}

/**
 * For a stack whose VM or Kubernetes variants have axes: design full and main-effects side by side, and the
 * stack's own when it is neither (interactions, confirmations); none for a stack without axes.
 */
export function designAlternatives(raw: RawConfig, stack: string): DesignAlternative[] {
  if (!hasAxes(raw.vmVariants) && !hasAxes(k8sMatrix(raw))) return [];
  const own = ownDesign(raw);
  const plain = own.extras.length === 0;
  const rows = (["full", "main-effects"] as const).map((kind) =>
    alternative(withDesign(raw, kind), stack, kind, plain && own.kind === kind),
  );
  return plain ? rows : [...rows, alternative(raw, stack, `${own.kind} (${own.extras.join("; ")})`, true)];
}
