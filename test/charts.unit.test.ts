import test from "ava";
import { lab } from "d3-color";
import type * as vl from "vega-lite";
import type { ResultsDocument, VariantSpec } from "../bench/core/results.js";
import { effectsSpec, heatmapSpec } from "../bench/report/analysis-charts.js";
import { CHARTS } from "../bench/report/chart-definitions.js";
import { chartSpec, renderChartSvg, renderSpecSvg } from "../bench/report/charts.js";
import { distinctColours } from "../bench/report/colours.js";
import { percentileSpec } from "../bench/report/percentile-chart.js";
import { collectReportData } from "../bench/report/rows.js";
import { seriesSpec } from "../bench/report/series-chart.js";
import { sweepDocument, syntheticDocument, variant } from "./helpers/documents.js";

// What the SVG charts look like: a colour per variant, caveats said once, panels in the report's order, an axis
// under every panel and none under an empty cell, a queue-depth sweep as lines.

const deltaE = (a: string, b: string) => {
  const [x, y] = [lab(a), lab(b)];
  return Math.hypot(x.l - y.l, x.a - y.a, x.b - y.b);
};

test("colours: one per variant for any count, at least 13 CIE76 units apart up to the 40 a bar chart labels", (t) => {
  for (let count = 1; count <= 40; count += 1) {
    const colours = distinctColours(count);
    t.is(new Set(colours).size, count, `${count} variants: ${count} colours`);
    let closest = Number.POSITIVE_INFINITY;
    for (let i = 0; i < count; i += 1)
      for (let j = i + 1; j < count; j += 1) closest = Math.min(closest, deltaE(colours[i], colours[j]));
    t.true(count === 1 || closest >= 13, `${count} variants: closest pair ${closest.toFixed(1)} apart`);
  }
  t.is(new Set(distinctColours(200)).size, 200);
});

/** A local matrix: a host baseline and `count - 1` guests under TCG, over cache and iothread. */
function guests(count: number, workloads: string[]): ResultsDocument {
  return syntheticDocument(
    { kind: "local", host: "box" },
    Array.from({ length: count }, (_, index) => {
      const options: VariantSpec["options"] =
        index === 0
          ? {}
          : { cache: index % 2 ? "writeback" : "none", iothread: index % 4 < 2 ? "on" : "off", accel: "tcg" };
      return {
        spec: { ...variant(index === 0 ? "host" : `vm-${index}`, index === 0, options) },
        iops: Object.fromEntries(workloads.map((workload, rank) => [workload, [100 * (index + 1) + rank]])),
      };
    }),
  );
}

test("each variant's bars take its own colour, in every panel; the emulated-CPU caveat is said once", async (t) => {
  const data = collectReportData([guests(11, ["4 KiB", "64 KiB"])]);
  const svg = await renderChartSvg(data, CHARTS[0]);
  const panels = [...svg.matchAll(/class="mark-rect role-mark child_layer_0_marks"[^>]*>(.*?)<\/g>/g)];
  t.is(panels.length, 2);
  for (const [, bars] of panels) {
    t.deepEqual(
      [...bars.matchAll(/fill="(#[0-9a-f]{6})"/g)].map((match) => match[1]),
      distinctColours(11),
      "eleven bars, eleven colours, in the variants' order",
    );
  }
  t.is(svg.split(">emulated CPU: not representative of VirtIO overhead<").length - 1, 1, "in the subtitle, once");
  t.true(svg.includes(">vm-10 (emulated CPU)</text>"), "each guest marked, briefly");
  t.true(svg.includes(">host</text>"), "the host's label unmarked");
});

test("effects and heatmap: panels in the report's order, an x axis under each, none under an empty cell", async (t) => {
  // The report's order: 4 KiB, 64 KiB, 1 MiB (a string sort puts 1 MiB first). Three panels in two columns.
  const data = collectReportData([guests(9, ["4 KiB", "64 KiB", "1 MiB"])]);
  const effects = effectsSpec(data) as { facet: { sort: string[] } };
  t.deepEqual(
    effects.facet.sort.map((panel) => panel.split(",")[0]),
    ["4 KiB", "64 KiB", "1 MiB"],
  );
  const heatmap = heatmapSpec(data) as { facet: { sort: string[] }; columns: number };
  t.deepEqual(
    heatmap.facet.sort.map((panel) => panel.split(",")[0]),
    ["4 KiB", "64 KiB", "1 MiB"],
  );
  for (const [name, spec] of [
    ["effects", effectsSpec(data)],
    ["heatmap", heatmapSpec(data)],
  ] as const) {
    if (!spec) throw new Error(`no ${name} chart`);
    const svg = await renderSpecSvg(spec);
    const xAxes = svg.match(/aria-label="X-axis/g) ?? [];
    t.is(xAxes.length, 3, `${name}: one x axis per panel`);
  }
  // The subtitle promises an interval only where one is drawn: three variants and three parameters leave none.
  const subtitle = (count: number) =>
    (effectsSpec(collectReportData([guests(count, ["4 KiB"])])) as { title: { subtitle: string[] } }).title.subtitle[0];
  t.is(subtitle(9), "least-squares estimate with its 95 % interval");
  t.regex(subtitle(4), /^least-squares estimate; no interval: the fit has no degrees of freedom left/);
});

test("a variant without a workload's value says no data there, and each panel has room past its longest mark", async (t) => {
  const document = syntheticDocument({ kind: "local", host: "h" }, [
    { spec: variant("a", true), iops: { w: [1000], x: [50] } },
    { spec: variant("b"), iops: { w: [300] } },
  ]);
  const svg = await renderChartSvg(collectReportData([document]), CHARTS[0]);
  const texts = [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((match) => match[1]);
  t.is(texts.filter((text) => text === "no data").length, 1, "b in panel x: not a bar of zero");
  // The w panel's axis goes past 1,000: a "!" or a diamond at the end of the longest bar is drawn whole.
  const ticks = texts.map((text) => Number(text.replace(/,/g, ""))).filter((value) => Number.isFinite(value));
  t.true(Math.max(...ticks) >= 1120, ticks.join(" "));
});

test("latency panels in different units: the axis points to the panels' titles, which name each unit", async (t) => {
  // 1000 IOPS at QD1: milliseconds; a million: microseconds.
  const document = syntheticDocument({ kind: "local", host: "h" }, [
    { spec: variant("a", true), iops: { disk: [1000], cache: [1_000_000] } },
  ]);
  const svg = await renderChartSvg(collectReportData([document]), CHARTS[3]);
  t.true(svg.includes(">Latency (unit in each panel's title)</text>"), 'not a bare "Latency"');
  t.true(svg.includes("(ms)") && svg.includes("(µs)"));
});

test("a queue-depth sweep: a line per variant against iodepth, a panel per rw and numjobs, in numeric order", async (t) => {
  const data = collectReportData([sweepDocument()]);
  const spec = chartSpec(data, CHARTS[0]) as {
    facet: { sort: string[] };
    data: { values: Array<{ panel: string; variant: string; iodepth: number; value: number }> };
    spec: { layer: Array<{ mark: { type: string }; encoding: { x: { axis: { values: number[] } } } }> };
  };
  t.deepEqual(spec.facet.sort, [
    "randread 4 KiB · 1 job",
    "randread 4 KiB · 2 jobs",
    "randread 4 KiB · 16 jobs",
    "randwrite 4 KiB · 1 job",
    "randwrite 4 KiB · 2 jobs",
    "randwrite 4 KiB · 16 jobs",
  ]);
  t.is(spec.spec.layer[0].mark.type, "line");
  t.deepEqual(spec.spec.layer[0].encoding.x.axis.values, [1, 2, 4, 8, 16, 32, 64]);
  const point = spec.data.values.find(
    (row) => row.panel === "randread 4 KiB · 2 jobs" && row.variant === "sata" && row.iodepth === 4,
  );
  t.is(point?.value, 10_000 * 8, "sata's IOPS at QD4 x 2 jobs");
  const svg = await renderChartSvg(data, CHARTS[0]);
  t.is((svg.match(/class="mark-line role-mark/g) ?? []).length, 2 * 6, "two lines in each of six panels");
  t.notRegex(svg, /mark-rect role-mark/, "no bars: 42 panels of them before");
  t.true(svg.includes("Queue depth (iodepth)"));
});

test("workloads alike but for their queue depth in fewer than three steps stay bars", (t) => {
  const document = sweepDocument();
  const kept = new Set(["randread-1-1", "randread-2-1"]);
  for (const entry of document.variants) entry.workloads = entry.workloads.filter((workload) => kept.has(workload.id));
  const spec = chartSpec(collectReportData([document]), CHARTS[0]) as { spec: { layer: Array<{ mark: unknown }> } };
  t.deepEqual(spec.spec.layer[0].mark, { type: "bar", aria: false });
});

test("the runs second by second: every run a line; beyond 12 variants the baseline and the unsettled first, at most 20,000 points", (t) => {
  const seconds = (count: number, value: (second: number) => number) =>
    Array.from({ length: count }, (_, second) => value(second));
  const small = guests(3, ["4 KiB"]);
  for (const entry of small.variants)
    for (const run of entry.workloads[0].runs)
      run.series = { intervalSec: 1, iops: seconds(60, () => 1000), bwBytes: seconds(60, () => 4096000) };
  const spec = seriesSpec(collectReportData([small])) as {
    data: { values: Array<{ variant: string; second: number }> };
  };
  t.is(spec.data.values.length, 3 * 60, "three runs of 60 seconds");
  t.deepEqual(
    [...new Set(spec.data.values.map((row) => row.variant))],
    ["host", "vm-1 (emulated CPU)", "vm-2 (emulated CPU)"],
  );
  t.is(seriesSpec(collectReportData([guests(3, ["4 KiB"])])), undefined, "no series, no chart");
  // 40 variants x 2 workloads of 600 s: 48,000 seconds; one variant climbs and is drawn though it is the last.
  const big = guests(40, ["4 KiB", "1 MiB"]);
  for (const [index, entry] of big.variants.entries())
    for (const run of entry.workloads.flatMap((workload) => workload.runs))
      run.series = {
        intervalSec: 1,
        iops: seconds(600, (second) => (index === 39 ? 500 + second : 1000)),
        bwBytes: seconds(600, () => 0),
      };
  const bigSpec = seriesSpec(collectReportData([big])) as {
    data: { values: Array<{ variant: string }> };
    title: { subtitle: string[] };
  };
  const drawn = new Set(bigSpec.data.values.map((row) => row.variant));
  t.is(drawn.size, 12);
  t.true(drawn.has("host") && drawn.has("vm-39 (emulated CPU)"), "the baseline and the run that did not settle");
  t.true(bigSpec.data.values.length <= 20_000, String(bigSpec.data.values.length));
  t.true(bigSpec.title.subtitle.some((line) => line.startsWith("12 of 40 variants")));
});

test("the runs second by second: past 240 lines, each variant's runs averaged into one line a panel, said in the subtitle", (t) => {
  // 12 variants x 5 workloads x R runs: 3 runs (180 lines) each drawn, 5 runs (300) averaged.
  const document = (runs: number) =>
    syntheticDocument(
      { kind: "local", host: "box" },
      Array.from({ length: 12 }, (_, index) => ({
        spec: variant(index === 0 ? "host" : `vm-${index}`, index === 0),
        iops: Object.fromEntries(["a", "b", "c", "d", "e"].map((workload) => [workload, Array(runs).fill(100)])),
      })),
    );
  const withSeries = (runs: number) => {
    const made = document(runs);
    for (const entry of made.variants)
      for (const workload of entry.workloads)
        for (const [index, run] of workload.runs.entries())
          run.series = { intervalSec: 1, iops: Array(30).fill(1000 + 100 * index), bwBytes: Array(30).fill(0) };
    return seriesSpec(collectReportData([made])) as {
      data: { values: Array<{ panel: string; variant: string; run: string; iops: number }> };
      title: { subtitle: string[] };
    };
  };
  const drawn = withSeries(3);
  t.is(new Set(drawn.data.values.map((row) => `${row.panel}|${row.run}`)).size, 180, "a line a run");
  t.true(drawn.title.subtitle[0].startsWith("each run a line"));
  const averaged = withSeries(5);
  t.is(new Set(averaged.data.values.map((row) => `${row.panel}|${row.run}`)).size, 60, "a line a variant and panel");
  t.true(averaged.data.values.every((row) => row.run === `${row.variant} (mean of 5 runs)`));
  t.deepEqual([...new Set(averaged.data.values.map((row) => row.iops))], [1200], "the mean of 1000 ... 1400");
  t.true(averaged.title.subtitle[0].startsWith("each variant's runs averaged second by second"));
});

test("tail latency past 40 variants: a matrix of the highest percentile every curve has, against the baseline", (t) => {
  const withTails = (count: number) => {
    const document = guests(count, ["4 KiB", "64 KiB"]);
    for (const [index, entry] of document.variants.entries())
      for (const run of entry.workloads.flatMap((workload) => workload.runs))
        if (run.write)
          run.write.latencyNs = {
            mean: 2e5,
            p50: 1e5,
            p99: 5e5,
            p99_9: 1e6 * (index + 1),
            // The 99.99th only where some variants have it: the matrix takes the 99.9th, which all have.
            ...(index % 2 === 0 && { p99_99: 1e8 }),
          };
    return collectReportData([document]);
  };
  const curves = percentileSpec(withTails(40)) as { facet?: unknown };
  t.truthy(curves.facet, "40 variants: a panel of curves per workload");
  const matrix = percentileSpec(withTails(41)) as {
    title: { text: string };
    data: { values: Array<{ variant: string; panel: string; ratio: number; text: string }> };
    layer: Array<{ mark: { type: string }; encoding: { color?: { scale?: { reverse?: boolean } } } }>;
  };
  t.is(matrix.title.text, "Tail latency: completion latency at the 99.9th percentile");
  t.is(matrix.layer[0].mark.type, "rect");
  t.true(matrix.layer[0].encoding.color?.scale?.reverse, "lower is better: blue is better, as in every chart");
  t.is(matrix.data.values.length, 41 * 2, "a cell per variant and workload");
  const cell = (label: string) => matrix.data.values.find((value) => value.variant === label);
  t.deepEqual([cell("host")?.ratio, cell("host")?.text], [1, "1.00"], "1 ms, in ms");
  t.deepEqual([cell("vm-40 (emulated CPU)")?.ratio, cell("vm-40 (emulated CPU)")?.text], [41, "41.0"]);
});

test("a mixed workload's panels draw their own direction's IOPS, and the seconds are whole on the axis", async (t) => {
  const document = guests(2, ["4 KiB"]);
  for (const entry of document.variants) {
    const [workload] = entry.workloads;
    workload.summary.read = workload.summary.write;
    for (const run of workload.runs) {
      if (run.write) run.read = { ...run.write };
      run.series = { intervalSec: 1, iops: [400, 400], bwBytes: [0, 0], readIops: [100, 100], writeIops: [300, 300] };
    }
  }
  const spec = seriesSpec(collectReportData([document])) as {
    data: { values: Array<{ panel: string; iops: number }> };
    spec: { mark: { point?: unknown } };
  };
  const byPanel = (word: string) =>
    new Set(spec.data.values.filter((row) => row.panel.endsWith(`(${word})`)).map((row) => row.iops));
  t.deepEqual(byPanel("read"), new Set([100]));
  t.deepEqual(byPanel("write"), new Set([300]));
  // Drawn, not only specified: a 2-s run's axis reads 1 2 (vega's own ticks read "1 2 2"), its lines with points.
  const svg = await renderSpecSvg(seriesSpec(collectReportData([document])) as vl.TopLevelSpec);
  const axis = [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((match) => match[1]).join("|");
  t.regex(axis, /\|1\|2\|Seconds\|/);
  t.notRegex(axis, /2\|2\|Seconds/);
  t.truthy(spec.spec.mark.point, "two points a run: drawn with its points");
});

test("tail latency: each variant's percentiles from the median to the 99.99th, on log axes", (t) => {
  const document = guests(2, ["4 KiB"]);
  const ns = { p50: 100_000, p90: 150_000, p99: 400_000, p99_9: 900_000, p99_99: 2_000_000 };
  for (const entry of document.variants) {
    const latency = entry.workloads[0].runs[0].write?.latencyNs;
    if (latency) Object.assign(latency, ns);
  }
  const spec = percentileSpec(collectReportData([document])) as {
    data: { values: Array<{ variant: string; percent: number; latency: number }> };
    spec: { encoding: { y: { title: string; scale: { type: string }; axis: { values: number[] } } } };
  };
  t.deepEqual(
    spec.data.values.filter((row) => row.variant === "host").map((row) => [row.percent, row.latency]),
    [
      [50, 100],
      [90, 150],
      [99, 400],
      [99.9, 900],
      [99.99, 2000],
    ],
  );
  t.is(spec.spec.encoding.y.scale.type, "log");
  t.is(spec.spec.encoding.y.title, "Latency (µs)");
  t.deepEqual(spec.spec.encoding.y.axis.values, [100, 200, 500, 1000, 2000], "1, 2 and 5 a decade: labels apart");
  // A disk's milliseconds read in ms, with ticks that stop where the values do (not at 100,000,000 µs).
  for (const entry of document.variants) {
    const latency = entry.workloads[0].runs[0].write?.latencyNs;
    if (latency) Object.assign(latency, { p50: 4e6, p90: 6e6, p99: 2e7, p99_9: 8e7, p99_99: 3e8 });
  }
  const disk = percentileSpec(collectReportData([document])) as typeof spec;
  t.is(disk.spec.encoding.y.title, "Latency (ms)");
  t.deepEqual(disk.spec.encoding.y.axis.values, [2, 5, 10, 20, 50, 100, 200, 500]);
  // A workload that syncs: a second panel of its fdatasync calls' percentiles.
  for (const entry of document.variants) {
    const write = entry.workloads[0].runs[0].write;
    if (write) write.syncLatencyNs = { mean: 3e6, p50: 2e6, p90: 4e6, p99: 9e6, p99_9: 2e7, p99_99: 3e7 };
  }
  const synced = percentileSpec(collectReportData([document])) as {
    data: { values: Array<{ panel: string; variant: string; latency: number; percent: number }> };
  };
  const panels = [...new Set(synced.data.values.map((row) => row.panel))];
  t.is(panels.length, 2);
  t.true(panels[1].endsWith(" · fdatasync"), panels.join(" / "));
  t.is(synced.data.values.find((row) => row.panel === panels[1] && row.percent === 99)?.latency, 9);
  // The synthetic documents carry only a mean and a p99: too little for a curve.
  t.is(percentileSpec(collectReportData([guests(2, ["4 KiB"])])), undefined);
});
