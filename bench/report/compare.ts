import {
  type ChangeTest,
  changeTest,
  fdrAdjusted,
  type Session,
  type SpreadFloor,
  sessionChangeTest,
} from "../core/change-test.js";
import { DEFAULT_THRESHOLD_PCT, SHOWN_METRICS, type ShownMetric } from "../core/metrics.js";
import {
  DIRECTIONS,
  type Direction,
  type Metric,
  type ResultsDocument,
  runValues,
  type Stat,
  stat,
  type Variant,
  type WorkloadResult,
} from "../core/results.js";
import { pooledVariance } from "../core/stats.js";
import { baselineDrift, type Drift, driftCorrectedValues } from "./drift-correction.js";

// Before/after per variant, workload, direction and metric. A change is flagged when it is both larger than
// the threshold and beyond the noise: Welch's t test on the log of the runs' values (core/change-test.ts) finds it
// at q < 0.05, its p-value adjusted for all the tests of the comparison (Benjamini-Hochberg), so that a table of
// many rows does not find changes between two identical runs.

type ComparedMetric = ShownMetric;

export const COMPARED = SHOWN_METRICS.filter((metric) => metric.relative);

/**
 * The metrics whose change is a regression or an improvement, and so may set the exit code. CPU % is shown but
 * does not: more IOPS take more CPU, which is not worse; what the CPU buys, IOPS per CPU %, is the one that can.
 */
export const GATING_METRICS: ReadonlySet<Metric> = new Set<Metric>([
  "iops",
  "bwBytes",
  "latMeanNs",
  "latP99Ns",
  "syncP99Ns",
  "iopsPerCpuPct",
]);

export type Verdict = "regression" | "improvement" | "changed" | "untested" | "within noise" | "below threshold";

export interface ComparisonRow {
  variant: string;
  workload: string;
  direction: Direction;
  metric: ComparedMetric;
  before: Stat;
  after: Stat;
  changePct: number;
  /** Welch's t test of the change and its 95 % interval; undefined when neither side was repeated. */
  test?: ChangeTest;
  /** The test's p-value adjusted for all the comparison's tests (false discovery rate). */
  q?: number;
  verdict: Verdict;
}

/** Beyond the noise: the test's two-sided p-value, adjusted for the comparison's tests, below this. */
export const SIGNIFICANCE = 0.05;

export interface Comparison {
  rows: ComparisonRow[];
  onlyBefore: string[];
  onlyAfter: string[];
  /** The sides measured with `--repeat auto`, whose changes were tested against their layer's pooled spread. */
  floored: Array<"before" | "after">;
  /** The baseline's IOPS rows whose change is beyond their noise (q < SIGNIFICANCE): the machine itself moved. */
  baselineMoved: ComparisonRow[];
  /** The sides whose baseline passes showed a drift, taken out of their runs (report/drift-correction.ts). */
  driftCorrected: Array<"before" | "after">;
  /** How many runs of layerbench each side holds: more than one a side, the changes are tested on their means. */
  sessions: { before: number; after: number };
}

/**
 * A row's verdict from its change and the adjusted p-value of its test. Without a test (one run a side) a change
 * past the threshold is untested: one run's noise is not told from a change, so it never fails a CI gate.
 */
export function verdict(
  metric: ComparedMetric,
  changePct: number,
  thresholdPct: number,
  q: number | undefined,
): Verdict {
  if (Math.abs(changePct) < thresholdPct) return "below threshold";
  if (q === undefined) return "untested";
  if (q >= SIGNIFICANCE) return "within noise";
  if (!GATING_METRICS.has(metric.metric)) return "changed";
  return changePct > 0 === metric.higherIsBetter ? "improvement" : "regression";
}

const floorKey = (layer: string, workload: string, direction: Direction, metric: Metric) =>
  `${layer}\u0000${workload}\u0000${direction}\u0000${metric}`;

/**
 * Under `--repeat auto` the runs stopped once they agreed, so each cell's own spread is biased small: a change is
 * tested against at least the spread its layer's variants share in the workload (the pooled variance of the log of
 * their runs). None for a fixed run count.
 */
export function spreadFloors(document: ResultsDocument): Map<string, SpreadFloor> {
  const floors = new Map<string, SpreadFloor>();
  if (!document.profile.stopWhenStable) return floors;
  const groups = new Map<string, number[][]>();
  for (const variant of document.variants)
    for (const workload of variant.workloads)
      for (const direction of DIRECTIONS)
        for (const metric of COMPARED) {
          const logs = runValues(workload.runs, direction, metric.metric).map(Math.log);
          if (!logs.every(Number.isFinite)) continue;
          const key = floorKey(variant.layer, workload.id, direction, metric.metric);
          const group = groups.get(key) ?? [];
          group.push(logs);
          groups.set(key, group);
        }
  for (const [key, logs] of groups) {
    const pooled = pooledVariance(logs);
    if (pooled) floors.set(key, pooled);
  }
  return floors;
}

const driftKey = (workload: string, direction: Direction, metric: Metric) =>
  `${workload}\u0000${direction}\u0000${metric}`;

/** What compare reads of a document beside its cells, worked out once: spread floors and its baseline's drifts. */
interface DocumentFacts {
  floors: Map<string, SpreadFloor>;
  /** By driftKey, where the baseline's passes show a drift. */
  drifts: Map<string, Drift>;
  /** Whether any workload's IOPS drifted: compare says so. */
  drifted: boolean;
}

function documentFacts(document: ResultsDocument): DocumentFacts {
  const drifts = new Map<string, Drift>();
  let drifted = false;
  for (const workload of document.variants.find((variant) => variant.baseline)?.workloads ?? [])
    for (const direction of DIRECTIONS)
      for (const metric of COMPARED) {
        const drift = baselineDrift(document, workload.id, direction, metric.metric);
        if (!drift) continue;
        drifts.set(driftKey(workload.id, direction, metric.metric), drift);
        drifted ||= metric.metric === "iops";
      }
  return { floors: spreadFloors(document), drifts, drifted };
}

/** One side of a compared cell: its document (for when it was measured), variant, workload and their facts. */
interface CellSide {
  document: ResultsDocument;
  variant: Variant;
  workload: WorkloadResult;
  facts: DocumentFacts;
}

/** A side's runs of a cell, taken back along its baseline's drift where its passes show one. */
function sideValues(
  side: CellSide,
  direction: Direction,
  metric: Metric,
): { stat: Stat; values: number[] } | undefined {
  const summary = side.workload.summary[direction]?.[metric];
  if (!summary) return undefined;
  const drift = side.facts.drifts.get(driftKey(side.workload.id, direction, metric));
  if (!drift) return { stat: summary, values: runValues(side.workload.runs, direction, metric) };
  const values = driftCorrectedValues(side.workload.runs, direction, metric, drift);
  return values.length > 0 ? { stat: stat(values), values } : undefined;
}

type MeasuredRow = Omit<ComparisonRow, "q" | "verdict">;

/** A row of two sides' values of a cell and the test of its change. */
function changeRow(
  cell: { variant: string; workload: string },
  direction: Direction,
  metric: ComparedMetric,
  was: Stat,
  is: Stat,
  test: ChangeTest | undefined,
): MeasuredRow {
  const difference = is.mean - was.mean;
  const row: MeasuredRow = {
    variant: cell.variant,
    workload: cell.workload,
    direction,
    metric,
    before: was,
    after: is,
    changePct: was.mean === 0 ? (difference === 0 ? 0 : Infinity) : (difference / was.mean) * 100,
  };
  if (test) row.test = test;
  return row;
}

/** A cell's change and the test of its runs, each side taken at its baseline's mean time. */
function comparedCell(
  before: CellSide,
  after: CellSide,
  direction: Direction,
  metric: ComparedMetric,
): MeasuredRow | undefined {
  const [was, is] = [sideValues(before, direction, metric.metric), sideValues(after, direction, metric.metric)];
  if (!was || !is) return undefined;
  const floorOf = (side: CellSide) =>
    side.facts.floors.get(floorKey(side.variant.layer, side.workload.id, direction, metric.metric));
  const [beforeFloor, afterFloor] = [floorOf(before), floorOf(after)];
  const test = changeTest(was.values, is.values, {
    ...(beforeFloor && { before: beforeFloor }),
    ...(afterFloor && { after: afterFloor }),
  });
  return changeRow(
    { variant: after.variant.id, workload: after.workload.id },
    direction,
    metric,
    was.stat,
    is.stat,
    test,
  );
}

/**
 * A cell measured in turns: each side's sessions, their runs pooled for the table, their means and times (hours
 * after `origin`, the first run's start) for the test.
 */
function sessionsCell(
  before: CellSide[],
  after: CellSide[],
  direction: Direction,
  metric: ComparedMetric,
  origin: number,
): MeasuredRow | undefined {
  const sessions = (sides: CellSide[]): Session[] =>
    sides
      .map((side) => ({
        values: sideValues(side, direction, metric.metric)?.values ?? [],
        // A start that is not a date gives no time: the sessions are then compared without a line.
        hours: Number.isFinite(Date.parse(side.document.createdAt))
          ? (Date.parse(side.document.createdAt) - origin) / 3_600_000
          : undefined,
      }))
      .filter((session) => session.values.length > 0);
  const [was, is] = [sessions(before), sessions(after)];
  if (was.length === 0 || is.length === 0) return undefined;
  return changeRow(
    { variant: after[0].variant.id, workload: after[0].workload.id },
    direction,
    metric,
    stat(was.flatMap((session) => session.values)),
    stat(is.flatMap((session) => session.values)),
    sessionChangeTest(was, is),
  );
}

/** Lines up two results documents by variant id and workload id. */
export function compareDocuments(
  before: ResultsDocument,
  after: ResultsDocument,
  thresholdPct = DEFAULT_THRESHOLD_PCT,
): Comparison {
  return compareSessions([before], [after], thresholdPct);
}

/** Every variant id and workload id the documents hold, in the order first found. */
function cellsOf(documents: ResultsDocument[]): Array<{ variant: string; workload: string }> {
  const cells = new Map<string, { variant: string; workload: string }>();
  for (const document of documents)
    for (const variant of document.variants)
      for (const workload of variant.workloads)
        cells.set(JSON.stringify([variant.id, workload.id]), { variant: variant.id, workload: workload.id });
  return [...cells.values()];
}

/** A cell in each document of a side that holds it. */
function cellSides(
  documents: ResultsDocument[],
  cell: { variant: string; workload: string },
  facts: Map<ResultsDocument, DocumentFacts>,
): CellSide[] {
  return documents.flatMap((document) => {
    const variant = document.variants.find((candidate) => candidate.id === cell.variant);
    const workload = variant?.workloads.find((candidate) => candidate.id === cell.workload);
    const known = facts.get(document);
    return variant && workload && known ? [{ document, variant, workload, facts: known }] : [];
  });
}

/**
 * Lines up two sides by variant id and workload id, each side one results document or several measured in turns
 * (before, after, after, before): then each change is tested on the sessions' means (sessionChangeTest).
 */
export function compareSessions(
  before: ResultsDocument[],
  after: ResultsDocument[],
  thresholdPct = DEFAULT_THRESHOLD_PCT,
): Comparison {
  const inTurns = before.length > 1 || after.length > 1;
  const facts = new Map([...before, ...after].map((document) => [document, documentFacts(document)]));
  const measured: MeasuredRow[] = [];
  const origin = Math.min(
    ...[...before, ...after].map((document) => Date.parse(document.createdAt)).filter(Number.isFinite),
  );
  for (const cell of cellsOf(after)) {
    const [was, is] = [cellSides(before, cell, facts), cellSides(after, cell, facts)];
    if (was.length === 0 || is.length === 0) continue;
    for (const direction of DIRECTIONS)
      for (const metric of COMPARED) {
        const row = inTurns
          ? sessionsCell(was, is, direction, metric, origin)
          : comparedCell(was[0], is[0], direction, metric);
        if (row) measured.push(row);
      }
  }
  // The family is every test the table holds: each row a CI gate could fail on, and the rows shown beside them.
  const tested = measured.filter((row) => row.test);
  const q = fdrAdjusted(tested.map((row) => row.test?.p ?? 1));
  const adjusted = new Map(tested.map((row, index) => [row, q[index]]));
  const rows = measured.map((row): ComparisonRow => {
    const rowQ = adjusted.get(row);
    return {
      ...row,
      ...(rowQ !== undefined && { q: rowQ }),
      verdict: verdict(row.metric, row.changePct, thresholdPct, rowQ),
    };
  });
  const ids = (documents: ResultsDocument[]) => [
    ...new Set(documents.flatMap((document) => document.variants.map((variant) => variant.id))),
  ];
  const baselineId = before[0].variants.find((variant) => variant.baseline)?.id;
  const sides = { before, after };
  return {
    rows,
    onlyBefore: ids(before).filter((id) => !ids(after).includes(id)),
    onlyAfter: ids(after).filter((id) => !ids(before).includes(id)),
    // Measured in turns, the test reads the sessions' means, not the runs' spread the floor is for.
    floored: inTurns ? [] : (["before", "after"] as const).filter((side) => sides[side][0].profile.stopWhenStable),
    driftCorrected: (["before", "after"] as const).filter((side) =>
      sides[side].some((document) => facts.get(document)?.drifted),
    ),
    baselineMoved: rows.filter(
      (row) =>
        row.variant === baselineId && row.metric.metric === "iops" && row.q !== undefined && row.q < SIGNIFICANCE,
    ),
    sessions: { before: before.length, after: after.length },
  };
}
