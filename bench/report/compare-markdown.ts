import type { ChangeTest } from "../core/change-test.js";
import { formatStat, type ShownMetric } from "../core/metrics.js";
import type { Stat } from "../core/results.js";
import {
  COMPARED,
  type Comparison,
  type ComparisonRow,
  GATING_METRICS,
  SIGNIFICANCE,
  type Verdict,
} from "./compare.js";
import { mdText } from "./markdown-text.js";
import { quotedList } from "./table.js";

// compare's Markdown: what was compared and how, the warnings, and a row per change.

/**
 * The baseline is the same disk measured the same way: a change of it beyond its noise says that the machine (its
 * load, its temperature, a firmware, a cache warming) moved between the runs, and every other change may carry it.
 */
function baselineWarning(moved: ComparisonRow[]): string[] {
  if (moved.length === 0) return [];
  const changes = moved.map((row) => `${mdText(row.workload)} ${row.direction} ${signedPct(row.changePct)}`);
  return [
    `> **The baseline ${mdText(moved[0].variant)} itself changed beyond its noise** (IOPS: ${changes.join(", ")}; q < ${SIGNIFICANCE} each): the machine moved between the two runs, and the other changes may carry it. Measure before and after in turns to tell the two apart: \`run --out before/1\`, \`after/1\`, \`after/2\`, \`before/2\` (the change made and undone between them), then \`compare before after\`.`,
    "",
  ];
}

/** Measured in turns: what the test reads instead of the runs' spread, and whether a line took a drift out. */
function sessionsNote(comparison: Comparison): string[] {
  const { before, after } = comparison.sessions;
  if (before === 1 && after === 1) return [];
  const df = comparison.rows.find((row) => row.test?.kind === "sessions")?.test?.df ?? before + after - 2;
  const line = df < before + after - 2 ? ", beside a line through the runs' start times that takes a drift out" : "";
  return [
    `Measured in turns: ${before} run(s) of layerbench before, ${after} after. Each change is tested on the runs' means, one value a run of layerbench (Student's t on the log of those means${line}; ${df} degrees of freedom), so that what moved the machine between them counts as noise, not as a change; Before and After show all their runs.`,
    "",
  ];
}

function value(stat: Stat, metric: ShownMetric): string {
  return stat.n > 1 ? `${formatStat(stat, metric)} (n=${stat.n})` : formatStat(stat, metric);
}

function signedPct(pct: number): string {
  if (!Number.isFinite(pct)) return "new";
  return `${pct > 0 ? "+" : ""}${pct.toFixed(1)} %`;
}

/** The change's 95 % interval in percent, "-23.1 % to -16.8 %"; "–" without a test. */
const changeInterval = (test: ChangeTest | undefined) =>
  test ? `${signedPct((test.low - 1) * 100)} to ${signedPct((test.high - 1) * 100)}` : "–";

const probability = (value: number | undefined) =>
  value === undefined ? "–" : value < 0.001 ? "< 0.001" : value.toFixed(3);

const MARK: Record<Verdict, string> = {
  regression: "**regression**",
  improvement: "improvement",
  changed: "changed (not gated)",
  untested: "untested: one run a side",
  "within noise": "within noise",
  "below threshold": "",
};

/** The gating metrics by name, in the order tables show them. */
function gatingNames(): string {
  const names = COMPARED.filter((metric) => GATING_METRICS.has(metric.metric)).map((metric) => metric.name);
  return `${names.slice(0, -1).join(", ")} or ${names.at(-1)}`;
}

export function renderComparison(
  comparison: Comparison,
  labels: { before: string; after: string },
  thresholdPct: number,
  /** Settings that differ (core/settings.ts), when compared anyway with --force. */
  settingsDifferences: string[] = [],
  /** What ran the two that differs (core/settings.ts environmentDifferences): named, never refused. */
  environmentDifferences: string[] = [],
  /** Where the two were measured, where it differs (core/settings.ts placeDifferences): named, never refused. */
  placeDifferences: string[] = [],
): string {
  const regressions = comparison.rows.filter((row) => row.verdict === "regression").length;
  const improvements = comparison.rows.filter((row) => row.verdict === "improvement").length;
  const inTurns = comparison.sessions.before + comparison.sessions.after > 2;
  const lines = [
    `# layerbench compare`,
    "",
    `Before: ${mdText(labels.before)} · after: ${mdText(labels.after)}. Flagged: a change of at least ${thresholdPct} % that ${inTurns ? "the test of the runs' means (below)" : "Welch's t test on the log of the runs' values"} also finds beyond the noise (q < ${SIGNIFICANCE}: its p-value adjusted for the ${comparison.rows.filter((row) => row.test).length} tests of this table, Benjamini-Hochberg's false discovery rate, so that many rows do not find changes in noise${inTurns ? "" : "; a side run once takes the other's spread; with one run on each side there is no test, and a change past the threshold is said untested, never a regression"}). The interval is the change's 95 % interval, of the row alone. A regression in ${gatingNames()} sets the exit code; CPU % is shown, not gated.`,
    "",
    ...sessionsNote(comparison),
    ...baselineWarning(comparison.baselineMoved),
    ...(comparison.driftCorrected.length > 0
      ? [
          `The baseline, measured again during the run, shows the machine drifted ${comparison.driftCorrected.length === 2 ? "on both sides" : `on the ${comparison.driftCorrected[0]} side`}: each run is taken back to the baseline's mean time along that drift (a line through the baseline's runs, where its slope is beyond their noise at p < 0.2) before the sides are compared, so that a variant measured early in one run and late in the other does not read as changed.`,
          "",
        ]
      : []),
    ...(comparison.floored.length > 0
      ? [
          `The runs ${comparison.floored.length === 2 ? "of both sides" : `of the ${comparison.floored[0]} side`} stopped once they agreed (\`--repeat auto\`), which keeps runs that agree by chance: each change is tested against at least the spread its layer's variants share in the workload (their runs' pooled variance), not its own alone.`,
          "",
        ]
      : []),
    ...quotedList(
      "**Compared with --force although the settings differ**; the changes may come from them:",
      settingsDifferences,
    ),
    ...quotedList("**Measured on different software**; the changes may come from it:", environmentDifferences),
    ...quotedList("**Measured in different places**; the changes may come from them:", placeDifferences),
    `**${regressions} regression(s)**, ${improvements} improvement(s) in ${comparison.rows.length} comparisons.`,
    "",
    "| Variant | Workload | Direction | Metric | Before | After | Change | 95 % interval | p | q | Flag |",
    "| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ...comparison.rows.map(
      (row) =>
        `| ${mdText(row.variant)} | ${mdText(row.workload)} | ${row.direction} | ${row.metric.name} | ${value(row.before, row.metric)} | ${value(row.after, row.metric)} | ${signedPct(row.changePct)} | ${changeInterval(row.test)} | ${probability(row.test?.p)} | ${probability(row.q)} | ${MARK[row.verdict]} |`,
    ),
  ];
  if (comparison.onlyBefore.length > 0) lines.push("", `Only before: ${comparison.onlyBefore.map(mdText).join(", ")}.`);
  if (comparison.onlyAfter.length > 0) lines.push("", `Only after: ${comparison.onlyAfter.map(mdText).join(", ")}.`);
  return `${lines.join("\n")}\n`;
}
