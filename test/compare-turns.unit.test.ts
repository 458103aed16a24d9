import { promises as fs } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { sessionChangeTest } from "../bench/core/change-test.js";
import { writeResultsFile } from "../bench/core/results-io.js";
import { type Comparison, compareDocuments, compareSessions } from "../bench/report/compare.js";
import { renderComparison } from "../bench/report/compare-markdown.js";
import { seededUniforms } from "../bench/util/random.js";
import { runCli } from "./helpers/cli.js";
import { syntheticDocument, variant } from "./helpers/documents.js";
import { scratchDir } from "./helpers/fio.js";
import { normalsFrom } from "./helpers/normals.js";

// compare with each side measured in turns (before, after, after, before): the machine moves between runs of
// layerbench, and the test reads each run's mean, so that the move is noise and not a change.

test("measured in turns: Student's t on the sessions' log means, on sessions - 2 degrees of freedom", (t) => {
  const test = sessionChangeTest(
    [{ values: [100, 100] }, { values: [110, 110, 110] }],
    [{ values: [120] }, { values: [130, 130] }],
  );
  // By hand: the log means, their pooled variance on 2 df, and t on 2 df, whose two-sided p is 1 - |t| / sqrt(2 + t²).
  const [a, b] = [
    [Math.log(100), Math.log(110)],
    [Math.log(120), Math.log(130)],
  ];
  const centre = (values: number[]) => (values[0] + values[1]) / 2;
  const pooled = [a, b].flatMap((side) => side.map((value) => (value - centre(side)) ** 2)).reduce((x, y) => x + y) / 2;
  const tValue = (centre(b) - centre(a)) / Math.sqrt(pooled);
  t.is(test?.kind, "sessions");
  t.is(test?.df, 2);
  t.true(Math.abs((test?.p ?? 0) - (1 - Math.abs(tValue) / Math.sqrt(2 + tValue ** 2))) < 1e-9, JSON.stringify(test));
  // The interval's half-width: t(0.975, 2) = 4.302653 standard errors.
  const half = Math.log((test?.high ?? 1) / (test?.low ?? 1)) / 2;
  t.true(Math.abs(half - 4.302653 * Math.sqrt(pooled)) < 1e-5, `${half}`);
  t.is(
    sessionChangeTest([{ values: [100, 101] }], [{ values: [120, 121] }]),
    undefined,
    "one session a side: changeTest's case",
  );
  // From 5 sessions a line through their times takes a degree of freedom; a session without a time, none.
  const timed = (hours: Array<number | undefined>) =>
    hours.map((hour, index) => ({ values: [100 + index, 101 + 2 * index], hours: hour }));
  t.is(sessionChangeTest(timed([0, 3, 4]), timed([1, 2, 5]))?.df, 3);
  t.is(sessionChangeTest(timed([0, 3, undefined]), timed([1, 2, 5]))?.df, 4);
  t.is(sessionChangeTest(timed([0, 0, 0]), timed([0, 0, 0]))?.df, 4, "times all alike: no line to fit");
});

/** 4 variants x 3 workloads, 3 runs each, in one session of a machine whose state is `machine` (a factor). */
function session(draw: () => number, machine: number, slower: (variant: number) => number) {
  const normal = normalsFrom(draw);
  return syntheticDocument(
    { kind: "local", host: "box" },
    Array.from({ length: 4 }, (_, index) => ({
      spec: variant(`v${index}`, index === 0),
      iops: Object.fromEntries(
        Array.from({ length: 3 }, (_, workload) => [
          `w${workload}`,
          Array.from(
            { length: 3 },
            () => 1000 * (index + 1) * (workload + 1) * machine * slower(index) * Math.exp(0.03 * normal()),
          ),
        ]),
      ),
    })),
  );
}

/**
 * A machine that moves between runs of layerbench, made 5 hours apart: 2 % further each session (a cache warming)
 * and 3 % of its own (load, heat). `turns` says each session's side in order, B before and A after; `pair` compares
 * the first two sessions alone.
 */
function experiment(draw: () => number, turns: string, slower: (variant: number) => number = () => 1) {
  const normal = normalsFrom(draw);
  const sessions = [...turns].map((side, index) => {
    const document = session(draw, Math.exp(0.02 * index + 0.03 * normal()), side === "A" ? slower : () => 1);
    document.createdAt = new Date(index * 5 * 3_600_000).toISOString();
    return { side, document };
  });
  const of = (side: string) => sessions.filter((entry) => entry.side === side).map((entry) => entry.document);
  return {
    turns: compareSessions(of("B"), of("A")),
    pair: compareDocuments(sessions[0].document, sessions[1].document),
  };
}

/** How often a comparison's IOPS intervals hold the truth, `truth` giving each variant's true ratio. */
function held(comparison: Comparison, truth: (variant: string) => number): { inside: number; intervals: number } {
  const rows = comparison.rows.filter((row) => row.metric.metric === "iops" && row.test);
  const inside = rows.filter(
    (row) => (row.test?.low ?? 2) <= truth(row.variant) && (row.test?.high ?? 0) >= truth(row.variant),
  ).length;
  return { inside, intervals: rows.length };
}

test("in turns, a moving machine: identical sides rarely flagged, and the intervals hold the truth", (t) => {
  const draw = seededUniforms(61);
  const experiments = 200;
  let flagged = 0;
  const [turns, pairs] = [
    { inside: 0, intervals: 0 },
    { inside: 0, intervals: 0 },
  ];
  for (let index = 0; index < experiments; index += 1) {
    const outcome = experiment(draw, "BAAB");
    if (outcome.turns.rows.some((row) => row.verdict === "regression")) flagged += 1;
    for (const [sum, comparison] of [
      [turns, outcome.turns],
      [pairs, outcome.pair],
    ] as const) {
      const { inside, intervals } = held(comparison, () => 1);
      sum.inside += inside;
      sum.intervals += intervals;
    }
  }
  const [turnsHeld, pairsHeld] = [turns, pairs].map(({ inside, intervals }) => inside / intervals);
  t.log(
    `in turns: ${flagged} of ${experiments} identical sides flagged, intervals held 1 in ${(turnsHeld * 100).toFixed(1)} %; one run a side: ${(pairsHeld * 100).toFixed(1)} %`,
  );
  t.true(flagged / experiments <= 0.06, `${flagged}`);
  t.true(turnsHeld >= 0.92 && turnsHeld <= 0.98, `${turnsHeld}`);
  t.true(pairsHeld < 0.85, `one run a side reads the machine's move as a change: ${pairsHeld}`);
  // Two runs a side leave the test 2 degrees of freedom: a variant half as fast is found, smaller changes want more
  // turns (README).
  const found = Array.from({ length: 50 }, () =>
    experiment(draw, "BAAB", (index) => (index === 2 ? 0.5 : 1)).turns.rows.some(
      (row) => row.variant === "v2" && row.metric.metric === "iops" && row.verdict === "regression",
    ),
  ).filter(Boolean).length;
  t.log(`a variant half as fast found in ${found} of 50`);
  t.true(found >= 40, `${found}`);
});

test("four turns a side: a line through the runs' times takes the drift out, and a 20 % change is found", (t) => {
  const draw = seededUniforms(64);
  const sum = { inside: 0, intervals: 0 };
  for (let index = 0; index < 200; index += 1) {
    const { inside, intervals } = held(experiment(draw, "BAABBAAB").turns, () => 1);
    sum.inside += inside;
    sum.intervals += intervals;
  }
  const share = sum.inside / sum.intervals;
  // Without the line the drift is spread within each side: 99.9 % of intervals held the truth in a run without it.
  t.log(`intervals held 1 in ${(share * 100).toFixed(1)} %`);
  t.true(share >= 0.92 && share <= 0.98, `${share}`);
  t.regex(
    renderComparison(experiment(draw, "BAABBAAB").turns, { before: "before", after: "after" }, 5),
    /beside a line through the runs' start times that takes a drift out; 5 degrees of freedom\)/,
  );
  const found = Array.from({ length: 50 }, () =>
    experiment(draw, "BAABBAAB", (index) => (index === 2 ? 0.8 : 1)).turns.rows.some(
      (row) => row.variant === "v2" && row.metric.metric === "iops" && row.verdict === "regression",
    ),
  ).filter(Boolean).length;
  t.log(`a variant 20 % slower found in ${found} of 50`);
  t.true(found >= 45, `${found}`);
});

test("layerbench compare of two directories of runs: each side's results found, tested in turns, and said so", async (t) => {
  const dir = await scratchDir();
  t.teardown(dir.cleanup);
  const draw = seededUniforms(62);
  const slower = (index: number) => (index === 3 ? 0.5 : 1);
  for (const [side, index, machine] of [
    ["before", 1, 1],
    ["after", 1, 1.01],
    ["after", 2, 1.02],
    ["before", 2, 1.03],
  ] as const) {
    await fs.mkdir(join(dir.path, side, String(index)), { recursive: true });
    await writeResultsFile(
      join(dir.path, side, String(index), "results.json"),
      session(draw, machine, side === "after" ? slower : () => 1),
    );
  }
  const result = await runCli(["compare", join(dir.path, "before"), join(dir.path, "after")]);
  t.is(result.code, 1, result.stderr);
  t.regex(
    result.stdout,
    /^Measured in turns: 2 run\(s\) of layerbench before, 2 after\. .*means; 2 degrees of freedom\)/m,
  );
  t.regex(result.stdout, /^\| v3 \| w0 \| write \| IOPS \| .* \| -5\d\.\d % \| .* \| \*\*regression\*\* \|$/m);
  t.regex(result.stderr, /Student's t test on the runs' means/);

  await fs.mkdir(join(dir.path, "empty"));
  const empty = await runCli(["compare", join(dir.path, "before"), join(dir.path, "empty")]);
  t.is(empty.code, 3);
  t.regex(empty.stderr, /empty holds no results: a directory of runs holds one results\.json a subdirectory/);
});

test("compare in turns renders the sessions' note, and names no test of the runs' spread; one run a side does not", (t) => {
  const draw = seededUniforms(63);
  const documents = [1, 1.01, 1.02].map((machine) => session(draw, machine, () => 1));
  const labels = { before: "before", after: "after" };
  const inTurns = renderComparison(compareSessions(documents.slice(0, 2), documents.slice(2)), labels, 5);
  t.regex(inTurns, /^Measured in turns: 2 run\(s\) of layerbench before, 1 after\. .*means; 1 degrees of freedom\)/m);
  t.notRegex(inTurns, /Welch|a side run once/);
  const single = renderComparison(compareDocuments(documents[0], documents[1]), labels, 5);
  t.notRegex(single, /Measured in turns/);
  t.regex(single, /Welch's t test on the log of the runs' values/);
});
