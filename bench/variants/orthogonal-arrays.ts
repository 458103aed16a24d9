import type { Factor, Point } from "../core/linear-model.js";

// Known orthogonal arrays for axes of two values each, as starting designs for design.ts: a regular 2^(k-p)
// fraction when the design's size is a power of two, a Plackett-Burman array when it is 12 or 20. Each holds the
// run with every axis at its default (its first level), as every design does. Mixed-level arrays are not built:
// the random starts of the exchange search cover those axes.

/** Plackett and Burman's generating rows (Biometrika 33(4), 1946): the cyclic shifts and a row of minuses. */
const PLACKETT_BURMAN: Record<number, string> = {
  12: "++-+++---+-",
  20: "++--++++-+-+----++-",
};

/** The subsets of {0..m-1} of two or more, the largest first: generators of the highest resolution first. */
function generators(base: number): number[][] {
  const subsets: number[][] = [];
  for (let mask = 1; mask < 2 ** base; mask += 1) {
    const members = Array.from({ length: base }, (_, bit) => bit).filter((bit) => mask & (2 ** bit));
    if (members.length >= 2) subsets.push(members);
  }
  return subsets.sort((a, b) => b.length - a.length || a.join().localeCompare(b.join()));
}

/** A regular fraction of 2^base runs in ±1 coding, -1 the default; undefined when it cannot hold k columns. */
function regularFraction(columns: number, base: number): number[][] | undefined {
  const extra = generators(base).slice(0, columns - base);
  if (base > columns || extra.length < columns - base) return undefined;
  return Array.from({ length: 2 ** base }, (_, run) => {
    const row = Array.from({ length: base }, (_, bit) => (run & (2 ** bit) ? 1 : -1));
    // The sign that keeps the all-defaults run: a product of |S| minuses is (-1)^|S|.
    const generated = extra.map((members) => {
      const sign = members.length % 2 === 0 ? -1 : 1;
      return sign * members.reduce((product, member) => product * row[member], 1);
    });
    return [...row, ...generated];
  });
}

function plackettBurman(columns: number, runs: number): number[][] | undefined {
  const generator = PLACKETT_BURMAN[runs];
  if (!generator || columns > runs - 1) return undefined;
  const signs = [...generator].map((sign) => (sign === "+" ? 1 : -1));
  const shifted = Array.from({ length: runs - 1 }, (_, shift) =>
    Array.from({ length: columns }, (_, column) => signs[(column - shift + signs.length) % signs.length]),
  );
  return [...shifted, Array.from({ length: columns }, () => -1)];
}

/** The orthogonal arrays of `size` runs for these factors, as points; none unless every factor has two levels. */
export function orthogonalArrays(factors: Factor[], size: number): Point[][] {
  if (factors.length === 0 || factors.some((factor) => factor.levels.length !== 2)) return [];
  const base = Math.log2(size);
  const arrays = [
    ...(Number.isInteger(base) ? [regularFraction(factors.length, base)] : []),
    plackettBurman(factors.length, size),
  ].filter((array): array is number[][] => array !== undefined);
  return arrays.map((array) =>
    array.map((row) =>
      Object.fromEntries(factors.map((factor, column) => [factor.name, factor.levels[row[column] < 0 ? 0 : 1]])),
    ),
  );
}
