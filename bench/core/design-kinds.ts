// Kept apart from the results schema so that the CLI can list them without loading zod.

/** How the variants of a matrix's axes are chosen (bench/variants/design.ts). */
export const DESIGN_KINDS = ["full", "main-effects", "main-effects+interactions"] as const;
export type DesignKind = (typeof DESIGN_KINDS)[number];
