import { satterthwaiteDf, t95, tTwoSided } from "./linear-model.js";
import { stat } from "./stats.js";

// Is a change between two runs' worth of a metric beyond the noise? Welch's t test on the log of the runs' values
// (a change is a ratio: 10 % of 100k IOPS and of 1k IOPS weigh the same), with the change's 95 % interval.

export interface ChangeTest {
  /** Two-sided p-value of "no change". */
  p: number;
  df: number;
  /** The change's 95 % interval, as a ratio after / before. */
  low: number;
  high: number;
  /**
   * `welch`: both sides repeated; `one-side`: one side ran once, and the other side's spread stands for both (a
   * new run against a sample: t on n - 1 degrees of freedom).
   */
  kind: "welch" | "one-side";
}

const mean = (values: number[]) => stat(values).mean;
const variance = (values: number[]) => stat(values).stdev ** 2;

/**
 * The least spread a side's runs may claim (of the log of their values) and its degrees of freedom: the spread its
 * layer's runs share, where the side's run count was chosen by the data (`--repeat auto` stops once the runs agree,
 * and so keeps the runs that happened to agree: their own spread is too small, and changes found in it are noise).
 */
export interface SpreadFloor {
  variance: number;
  df: number;
}

/** A side's log-variance and its degrees of freedom: its own, or the floor's where that is larger. */
function sideVariance(logs: number[], floor: SpreadFloor | undefined): { variance: number; df: number } {
  const own = { variance: variance(logs), df: logs.length - 1 };
  return floor && floor.variance > own.variance ? floor : own;
}

/**
 * The test, or undefined when neither side was repeated (or a value is not positive: no log). `floors` holds each
 * side's SpreadFloor where its run count was chosen by the data.
 */
export function changeTest(
  before: number[],
  after: number[],
  floors: { before?: SpreadFloor; after?: SpreadFloor } = {},
): ChangeTest | undefined {
  if (before.length === 0 || after.length === 0 || [...before, ...after].some((value) => !(value > 0)))
    return undefined;
  if (before.length < 2 && after.length < 2) return undefined;
  const [a, b] = [before.map(Math.log), after.map(Math.log)];
  const difference = mean(b) - mean(a);
  let se: number;
  let df: number;
  let kind: ChangeTest["kind"];
  if (a.length >= 2 && b.length >= 2) {
    const [sa, sb] = [sideVariance(a, floors.before), sideVariance(b, floors.after)];
    const [va, vb] = [sa.variance / a.length, sb.variance / b.length];
    se = Math.sqrt(va + vb);
    df = satterthwaiteDf([
      { variance: va, df: sa.df },
      { variance: vb, df: sb.df },
    ]);
    kind = "welch";
  } else {
    const repeated = a.length >= 2 ? sideVariance(a, floors.before) : sideVariance(b, floors.after);
    se = Math.sqrt(repeated.variance * (1 / a.length + 1 / b.length));
    df = repeated.df;
    kind = "one-side";
  }
  if (se === 0) return { p: difference === 0 ? 1 : 0, df, low: Math.exp(difference), high: Math.exp(difference), kind };
  const half = t95(df) * se;
  return {
    p: tTwoSided(difference / se, df),
    df,
    low: Math.exp(difference - half),
    high: Math.exp(difference + half),
    kind,
  };
}

/**
 * Benjamini and Hochberg's adjusted p-values (q): for each test, the lowest false discovery rate at which it is a
 * discovery among all `p` (J. R. Stat. Soc. B 57, 1995; R's p.adjust(method = "BH")). A table of a hundred tests
 * at p < 0.05 finds five changes in two identical runs; at q < 0.05 it finds none in 95 % of them, and a change
 * that many rows share keeps its power.
 */
export function fdrAdjusted(p: number[]): number[] {
  const order = p.map((value, index) => ({ value, index })).sort((a, b) => a.value - b.value);
  const q = new Array<number>(p.length);
  let least = 1;
  for (let rank = order.length; rank >= 1; rank -= 1) {
    const { value, index } = order[rank - 1];
    least = Math.min(least, (value * order.length) / rank);
    q[index] = least;
  }
  return q;
}
