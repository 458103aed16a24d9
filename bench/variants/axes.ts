// Variant matrices (VM disks, Kubernetes volumes) are an explicit list plus axes whose cross product is taken.

export type Combination = Array<[field: string, value: unknown]>;

/**
 * Every combination of one value per axis, in axis order; none without axes. An axis that is not a list
 * of at least one value is rejected with the error `emptyAxis` makes for it.
 */
export function crossProduct(axes: Array<[string, unknown]>, emptyAxis: (field: string) => Error): Combination[] {
  for (const [field, values] of axes) {
    if (!Array.isArray(values) || values.length === 0) throw emptyAxis(field);
  }
  if (axes.length === 0) return [];
  let combinations: Combination[] = [[]];
  for (const [field, values] of axes) {
    combinations = combinations.flatMap((combination) =>
      (values as unknown[]).map((value): Combination => [...combination, [field, value]]),
    );
  }
  return combinations;
}

/** The first id that two entries share, if any. */
export function repeatedId(entries: Array<{ id: string }>): string | undefined {
  const seen = new Set<string>();
  for (const { id } of entries) {
    if (seen.has(id)) return id;
    seen.add(id);
  }
  return undefined;
}
