import { estimate, fitLeastSquares, satterthwaiteDf, t95, tTwoSided } from "./linear-model.js";
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
   * new run against a sample: t on n - 1 degrees of freedom); `sessions`: each side measured in turns, several
   * runs of layerbench, tested on their means (sessionChangeTest).
   */
  kind: "welch" | "one-side" | "sessions";
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
  return logChangeTest(difference, se, df, kind);
}

/** The test and interval of a difference of logs with its standard error on `df` degrees of freedom. */
function logChangeTest(difference: number, se: number, df: number, kind: ChangeTest["kind"]): ChangeTest {
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

/** One run of layerbench on one side of a change measured in turns: its runs' values, and when it was made. */
export interface Session {
  values: number[];
  /** Hours since any fixed moment; without it for every session, or without distinct times, no line is fitted. */
  hours?: number;
}

/** From this many sessions a linear trend over their times is fitted beside the change (2 df left at least). */
const TREND_FROM_SESSIONS = 5;

/**
 * A change measured in turns (before, after, after, before): each side several runs of layerbench (sessions), each
 * session one value, the mean of the log of its runs, and Student's t on the sessions' pooled spread, on
 * sessions - 2 degrees of freedom. What moved the machine between sessions (load, heat, a cache warming) is then
 * noise the test sees, not a change; runs within a session share their session's state and are not counted apart.
 * From 5 sessions on, a line through their times is fitted too (sessions - 3 df): a drift over many turns then
 * neither widens the interval (it would, as spread within a side) nor, where the turns are unbalanced, biases it.
 * Undefined with one session a side (changeTest's case) or a value that is not positive.
 */
export function sessionChangeTest(before: Session[], after: Session[]): ChangeTest | undefined {
  const sides = [before, after].map((sessions) => sessions.filter((session) => session.values.length > 0));
  if (sides.some((sessions) => sessions.length === 0)) return undefined;
  if (sides.some((sessions) => sessions.some((session) => session.values.some((value) => !(value > 0)))))
    return undefined;
  const observations = sides.flatMap((sessions, index) =>
    sessions.map((session) => ({
      point: { side: index === 0 ? "before" : "after" },
      y: mean(session.values.map(Math.log)),
      time: session.hours ?? 0,
    })),
  );
  if (observations.length < 3) return undefined;
  const side = { name: "side", levels: ["before", "after"] };
  const timed = sides.every((sessions) => sessions.every((session) => session.hours !== undefined));
  const trend =
    timed && observations.length >= TREND_FROM_SESSIONS
      ? fitLeastSquares({ factors: [side], interactions: [], drift: true }, observations)
      : undefined;
  const fit = trend ?? fitLeastSquares({ factors: [side], interactions: [] }, observations);
  if (!fit) return undefined;
  const change = estimate(fit, trend ? [0, 1, 0] : [0, 1]);
  return logChangeTest(change.value, change.se ?? 0, fit.residualDf, "sessions");
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
