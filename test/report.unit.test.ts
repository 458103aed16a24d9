import { promises as fs } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { marked } from "marked";
import { summarize } from "../bench/core/results.js";
import { readResultsFile } from "../bench/core/results-io.js";
import { CHARTS } from "../bench/report/chart-definitions.js";
import { chartRows, chartSpec, renderChartSvg } from "../bench/report/charts.js";
import { pageSpec } from "../bench/report/html.js";
import { writeReport } from "../bench/report/index.js";
import { renderMarkdown } from "../bench/report/markdown.js";
import { cellText } from "../bench/report/matrix-chart.js";
import { collectReportData } from "../bench/report/rows.js";
import { syntheticDocument, variant } from "./helpers/documents.js";
import { scratchDir } from "./helpers/fio.js";

const twoVariants = () =>
  syntheticDocument({ kind: "local", host: "box" }, [
    { spec: variant("nvme", true), iops: { "randwrite-4k": [1000, 1200] } },
    { spec: variant("sata"), iops: { "randwrite-4k": [500] } },
  ]);

test("report.md: a table per workload with the ratio to the baseline and mean ± stdev when repeated", (t) => {
  const markdown = renderMarkdown(collectReportData([twoVariants()]));
  t.regex(markdown, /### randwrite-4k, QD1 · write/);
  const nvme = markdown.split("\n").find((line) => line.startsWith("| **nvme** (baseline)"));
  const sata = markdown.split("\n").find((line) => line.startsWith("| sata"));
  t.truthy(nvme);
  t.regex(nvme ?? "", /\| 1100 ± 141 \| 1\.00× \|/, "IOPS mean ± sample stdev of 1000 and 1200");
  t.regex(sata ?? "", /^\| sata \| 500 \| 0\.45× \|/, "500 / 1100 IOPS");
  t.regex(sata ?? "", /\| 1 \| buffered-io \|$/, "one run, flagged as buffered (the ars profile)");
  t.regex(nvme ?? "", /\| 2 \| buffered-io, high-spread \|$/, "1000 and 1200 IOPS: 13 % apart");
});

test("numbers of different fio versions side by side are flagged at the top, by version and layer", (t) => {
  const document = syntheticDocument({ kind: "local", host: "h" }, [
    { spec: { ...variant("host", true), layer: "host" }, iops: { w: [1000] } },
    { spec: { ...variant("vm-a"), layer: "vm" }, iops: { w: [900] } },
    { spec: { ...variant("vm-b"), layer: "vm" }, iops: { w: [800] } },
  ]);
  const host = document.variants.find((entry) => entry.id === "host");
  for (const run of host?.workloads[0].runs ?? []) run.fioVersion = "fio-3.39";
  t.regex(
    renderMarkdown(collectReportData([document])),
    /^> \*\*fio differs between the numbers compared\*\* \(fio-3\.33: vm \(2 variants\); fio-3\.39: host \(1 variant\)\): part of a difference may be fio's own\./m,
  );
  t.notRegex(renderMarkdown(collectReportData([twoVariants()])), /fio differs/, "one version: no note");
});

test("sources that ran on different software are named at the top, layer by layer", (t) => {
  const ranOn = (kernel: string) => {
    const document = syntheticDocument({ kind: "local", host: "h" }, [
      { spec: variant("nvme", true), iops: { w: [1000] } },
    ]);
    document.variants[0].environment = { kernel, os: "Debian GNU/Linux 13 (trixie)" };
    return document;
  };
  const markdown = renderMarkdown(collectReportData([ranOn("6.8.12-9-pve"), ranOn("6.14.8-2-pve")]));
  t.regex(
    markdown,
    /^> \*\*The sources ran on different software\*\* \(layer by layer\); a difference between them may come from it:\n> - \\\[1\\\] h vs \\\[2\\\] h: local kernel: 6\.8\.12-9-pve → 6\.14\.8-2-pve$/m,
  );
  t.notRegex(markdown, /local os:/, "what is the same is not listed");
});

test("failed runs and runs never reached are listed at the top, above the tables that keep the runs that worked", (t) => {
  const document = {
    ...twoVariants(),
    failures: [{ variant: "sata", workload: "randwrite-1m", attempt: 1, message: "fio: No space left on device" }],
    notRun: [
      {
        variant: "sata",
        workload: "randwrite-4k",
        attempts: [2, 3],
        reason: "interrupted" as const,
        message: "interrupted by Ctrl-C",
      },
    ],
  };
  const markdown = renderMarkdown(collectReportData([document]));
  t.regex(
    markdown,
    /## Incomplete: runs missing from the tables\n\nThese runs failed or never ran; the tables and charts show only the runs that were measured\.\n\n- \[1\] sata \/ randwrite-1m #1: \*\*failed\*\*: fio: No space left on device\n- \[1\] sata \/ randwrite-4k #2, #3: \*\*not run\*\* \(interrupted\): interrupted by Ctrl-C\n/,
  );
  t.true(markdown.indexOf("## Incomplete") < markdown.indexOf("## Results"), "above the results");
  t.regex(markdown, /\| sata \| 500 \|/);
  t.notRegex(renderMarkdown(collectReportData([twoVariants()])), /Incomplete/);
});

test("a results.json cut short (a run killed outright): the runs its profile asked for and no entry accounts for are listed", (t) => {
  const settings = { rw: "randwrite", bs: 4096, numjobs: 1, iodepth: 1, size: 1024 ** 2 };
  const cut = syntheticDocument({ kind: "local", host: "box" }, [
    { spec: variant("nvme", true), iops: { "randwrite-4k": [1000, 1100], "randwrite-64k": [300] } },
  ]);
  cut.profile = {
    ...cut.profile,
    repeat: 2,
    workloads: ["randwrite-4k", "randwrite-64k", "randwrite-1m"].map((id) => ({ id, ...settings })),
  };
  const markdown = renderMarkdown(collectReportData([cut]));
  t.regex(markdown, /## Incomplete/);
  const missing = markdown.split("\n").filter((line) => line.includes("**missing**"));
  t.deepEqual(
    missing.map((line) => line.split(": neither")[0]),
    ["- [1] nvme / randwrite-64k: **missing** 1 of 2 run(s)", "- [1] nvme / randwrite-1m: **missing** 2 of 2 run(s)"],
  );
  // Runs that an entry accounts for (failed, not run) are not missing.
  cut.failures = [{ variant: "nvme", workload: "randwrite-64k", attempt: 2, message: "fio: killed" }];
  cut.notRun = [
    { variant: "nvme", workload: "randwrite-1m", attempts: [1, 2], reason: "interrupted", message: "interrupted" },
  ];
  t.notRegex(renderMarkdown(collectReportData([cut])), /\*\*missing\*\*/);
});

test("with several documents every variant is labelled by its numbered source: host, or stack and run id", (t) => {
  const second = syntheticDocument({ kind: "pulumi", project: "layerbench", stack: "quick", runId: "2" }, [
    { spec: variant("nvme", true), iops: { "randwrite-4k": [900] } },
  ]);
  const data = collectReportData([twoVariants(), second]);
  t.deepEqual(
    data.variants.map((entry) => entry.label),
    ["[1] box/nvme", "[1] box/sata", "[2] quick@2/nvme"],
  );
  t.is(data.baseline?.label, "[1] box/nvme", "the first document's baseline is the baseline");
  const sources = renderMarkdown(data).split("## Sources")[1];
  t.regex(sources, /^- \[1\] local `box`/m);
  t.regex(sources, /^- \[2\] pulumi `quick@2`/m);
  // The same document twice: two sources, so two bars that never merge.
  t.deepEqual(
    collectReportData([second, second]).variants.map((entry) => entry.label),
    ["[1] quick@2/nvme", "[2] quick@2/nvme"],
  );
  t.is(data.variants.filter((entry) => entry.baseline).length, 1);
});

test("cache=unsafe is labelled as ignoring flushes wherever it is shown", (t) => {
  const document = syntheticDocument({ kind: "local", host: "box" }, [
    { spec: variant("none", true, { cache: "none" }), iops: { w: [100] } },
    { spec: variant("unsafe", false, { cache: "unsafe" }), iops: { w: [900] } },
  ]);
  const data = collectReportData([document]);
  t.regex(renderMarkdown(data), /\| unsafe \(unsafe: ignores flushes\) \|/);
  t.true(chartRows(data, CHARTS[0]).rows.some((row) => row.variant === "unsafe (unsafe: ignores flushes)"));
});

test("chart rows carry units, and error bars only where a workload was repeated", (t) => {
  const data = collectReportData([twoVariants()]);
  const bandwidth = chartRows(data, CHARTS.find((chart) => chart.file === "io_bandwidth.svg")!);
  t.is(bandwidth.unit?.label, "MiB/s");
  const nvme = bandwidth.rows.find((row) => row.variant === "nvme")!;
  t.is(nvme.value, (1100 * 4096) / 1024 ** 2);
  t.is(nvme.repeats, 2);
  t.true(nvme.high > nvme.value && nvme.low < nvme.value);
  const spec = JSON.stringify(chartSpec(data, CHARTS[0]));
  t.regex(spec, /"errorbar"/);
  t.regex(spec, /datum\.repeats > 1/);
  const latency = chartRows(data, CHARTS.find((chart) => chart.file === "latency.svg")!);
  t.is(latency.unit?.label, "ms", "p99 of sata: 6 ms");
  t.is(latency.rows.find((row) => row.variant === "sata")?.p99, 3e9 / 500 / 1e6);
  const repeatedP99 = latency.rows.find((row) => row.variant === "nvme")!;
  t.true((repeatedP99.p99Low ?? Infinity) < (repeatedP99.p99 ?? 0), "the p99 has its spread when repeated");
  t.is(latency.rows.find((row) => row.variant === "sata")?.p99Low, undefined);
});

test("charts: a unit per panel, every variant named whole, log-scale bars start at the axis", async (t) => {
  const fast = 1e9 / 4_000_000; // 250 ns, p99 750 ns
  const document = syntheticDocument({ kind: "local", host: "box" }, [
    {
      spec: variant("a-variant-with-a-long-name-bus-virtio-scsi-single-cache-none-iothread", true),
      iops: { "page-cache-hit": [4_000_000], "slow-disk": [20, 22] },
    },
    { spec: variant("sata"), iops: { "page-cache-hit": [3_900_000], "slow-disk": [25, 24] } },
  ]);
  const data = collectReportData([document]);
  const latencyChart = CHARTS.find((chart) => chart.file === "latency.svg")!;
  const { rows, unit } = chartRows(data, latencyChart);
  t.is(unit, undefined, "no unit shared by the panels");
  t.true(
    rows.some((row) => row.panel.endsWith("(ns)") && row.value === fast),
    "250 ns in ns",
  );
  t.true(
    rows.some((row) => row.panel.endsWith("(ms)") && Math.abs(row.value - (50 + 1000 / 22) / 2) < 1e-9),
    "the mean of 50 and 45.5 ms in ms",
  );
  const svg = await renderChartSvg(data, latencyChart, { latencyScale: "log" });
  t.true(
    svg.includes(">a-variant-with-a-long-name-bus-virtio-scsi-single-cache-none-iothread</text>"),
    "the label whole",
  );
  t.notRegex(svg, /…/, "no label cut");
  t.is((svg.match(/>sata</g) ?? []).length, 1, "the variants named once, beside the row of panels");
  t.regex(svg, /logarithmic scale/);
  t.true((svg.match(/>[\d,.]+<\/text>/g) ?? []).length >= 4, "a log axis with ticks: the bars do not start at zero");
  // The bars are horizontal paths from their start: on the log scale that start is the scale's own bottom, x = 0
  // of the panel (a scale rounded down to a power of ten left them floating off the axis).
  const bars = [...svg.matchAll(/class="mark-rect role-mark child_layer_0_marks"[^>]*>(.*?)<\/g>/g)].flatMap((group) =>
    [...group[1].matchAll(/d="M([\d.-]+),/g)].map((match) => match[1]),
  );
  t.is(bars.length, 4, "two variants in two panels");
  t.deepEqual(new Set(bars), new Set(["0"]));
  t.regex(JSON.stringify(chartSpec(data, latencyChart, { latencyScale: "log" })), /"type":"log"/);
  t.notRegex(JSON.stringify(chartSpec(data, CHARTS[0], { latencyScale: "log" })), /"type":"log"/, "latency only");
});

test("beyond 40 variants a chart is a matrix: every variant named, every value printed, coloured against the baseline", async (t) => {
  // 41 variants, IOPS 1000 (the baseline) up to 5000; v40 is the last and fastest, v20 has no run of "rand".
  const variants = Array.from({ length: 41 }, (_, index) => ({
    spec: variant(`v${index}`, index === 0),
    iops: { seq: [1000 + 100 * index], ...(index !== 20 && { rand: [1000 + 100 * index] }) },
  }));
  const data = collectReportData([syntheticDocument({ kind: "local", host: "box" }, variants)]);
  const iops = chartSpec(data, CHARTS[0]) as { layer: unknown[]; data: { values: Array<Record<string, unknown>> } };
  t.is(iops.layer.length, 2, "cells and their text: no panels");
  const cells = iops.data.values;
  t.is(cells.length, 41 + 40);
  const cell = (id: string, panel: string) => cells.find((entry) => entry.variant === id && entry.panel === panel);
  t.is(cell("v0", "seq, QD1")?.ratio, 1);
  t.is(cell("v40", "rand, QD1")?.ratio, 5);
  t.is(cell("v40", "rand, QD1")?.text, "5000");
  t.true(cell("v40", "rand, QD1")?.dark, "white text on the darkest cell");
  t.false(cell("v1", "rand, QD1")?.dark);
  t.is(cell("v20", "rand, QD1"), undefined, "no cell for a run that is not there");
  const latency = chartSpec(data, CHARTS.find((chart) => chart.file === "latency.svg")!);
  t.regex(JSON.stringify(latency), /"reverse":true/, "lower latency is the better colour");
  t.regex(JSON.stringify(latency), /Mean completion latency/);

  const svg = await renderChartSvg(data, CHARTS[0]);
  for (let index = 0; index <= 40; index += 1) t.true(svg.includes(`>v${index}</text>`), `v${index} named`);
  t.true(svg.includes(">5000</text>") && svg.includes(">1000</text>"), "the values in print");
  t.regex(svg, /colour: × baseline, blue better/);
  t.is((svg.match(/<path[^>]*fill="rgb/g) ?? []).length, 81, "one coloured cell per measured variant and workload");
});

test("a matrix whose baseline misses a workload colours every cell against its workload's median", (t) => {
  // 41 variants; the baseline (v0) measured only "seq": one reference for the whole chart, the median.
  const variants = Array.from({ length: 41 }, (_, index) => ({
    spec: variant(`v${index}`, index === 0),
    iops: { seq: [1000 + 100 * index], ...(index > 0 && { rand: [1000 + 100 * index] }) },
  }));
  const data = collectReportData([syntheticDocument({ kind: "local", host: "box" }, variants)]);
  const spec = chartSpec(data, CHARTS[0]) as {
    title: { subtitle: string[] };
    data: { values: Array<Record<string, unknown>> };
  };
  const cell = (id: string, panel: string) =>
    spec.data.values.find((entry) => entry.variant === id && entry.panel === panel);
  t.is(cell("v20", "seq, QD1")?.ratio, 1, "3000 IOPS: the median of 1000 to 5000");
  t.is(cell("v21", "rand, QD1")?.ratio, 3100 / 3050, "40 values, 1100 to 5000: their median is 3050");
  t.true(spec.title.subtitle.includes("colour: × the workload's median, blue better"));
});

test("cell text: at most six characters in the unit the chart names", (t) => {
  t.deepEqual([86_012, 10_000, 9_999, 1024, 100, 99.94, 12.345, 9.814, 0.4249].map(cellText), [
    "86.0k",
    "10.0k",
    "9999",
    "1024",
    "100",
    "99.9",
    "12.3",
    "9.81",
    "0.42",
  ]);
});

test("writeReport writes four titled SVG charts with axes and named bars, report.md and report.html", async (t) => {
  const dir = await scratchDir();
  t.teardown(dir.cleanup);
  const { files } = await writeReport([twoVariants()], dir.path);
  t.deepEqual(files.map((file) => file.slice(dir.path.length + 1)).sort(), [
    "io_bandwidth.svg",
    "io_written.svg",
    "iops.svg",
    "latency.svg",
    "report.html",
    "report.md",
  ]);
  const iops = await fs.readFile(join(dir.path, "iops.svg"), "utf8");
  t.true(iops.startsWith("<svg"));
  for (const text of ["IOPS", "nvme", "sata", "±1 standard deviation"])
    t.true(iops.includes(text), `iops.svg shows "${text}"`);
  t.true((await fs.readFile(join(dir.path, "io_bandwidth.svg"), "utf8")).includes("Bandwidth (MiB/s)"));
  t.true((await fs.readFile(join(dir.path, "latency.svg"), "utf8")).includes("Latency (ms)"));
  t.true((await fs.readFile(join(dir.path, "io_written.svg"), "utf8")).includes("Written (MiB)"));
  // report.html's tables are written from the same cells as report.md's: markup rendered, numbers right-aligned.
  const html = await fs.readFile(join(dir.path, "report.html"), "utf8");
  t.regex(
    html,
    /<tr><td><strong>nvme<\/strong> \(baseline\)<\/td><td align="right">1100 ± 141<\/td><td align="right">1\.00×<\/td>/,
  );
  t.regex(html, /<tr><td>sata<\/td><td align="right">500<\/td><td align="right">0\.45×<\/td>/);
});

test("readResultsFile rejects a missing file, bad JSON and a foreign document in one line each", async (t) => {
  const dir = await scratchDir();
  t.teardown(dir.cleanup);
  await t.throwsAsync(readResultsFile(join(dir.path, "none.json")), {
    message: /cannot read .*none\.json: no such file or directory$/,
  });
  await fs.writeFile(join(dir.path, "bad.json"), "{");
  await t.throwsAsync(readResultsFile(join(dir.path, "bad.json")), { message: /bad\.json is not valid JSON/ });
  await fs.writeFile(join(dir.path, "other.json"), "[]");
  await t.throwsAsync(readResultsFile(join(dir.path, "other.json")), {
    message: /other\.json is not a layerbench\/results@2 document/,
  });
});

test("report.md: the spread in its mean's unit, sizes per job in the sources, the page-cache caveat, estimated p99 marked", (t) => {
  const document = syntheticDocument({ kind: "local", host: "box" }, [
    { spec: variant("nvme", true), iops: { "randwrite-4k": [84_000, 88_000, 86_000] } },
  ]);
  document.profile.workloads = [
    { id: "randwrite-4k", rw: "randwrite", bs: 4096, numjobs: 16, iodepth: 16, size: 256 * 1024 ** 2 },
  ];
  document.profile.rampSec = 0;
  const markdown = renderMarkdown(collectReportData([document]));
  t.regex(markdown, /\| 86\.0k ± 2\.0k \|/, "86.0k ± 2.0k, not 86.0k ± 2000");
  t.regex(markdown, /ramp 0 s, .*size per job: randwrite-4k 16×256m/);
  // An import of jobs without size=: fio sized them from their file or device, which the output does not say.
  const unsized = structuredClone(document);
  unsized.profile.workloads = [{ ...document.profile.workloads[0], size: 0 }];
  t.regex(
    renderMarkdown(collectReportData([unsized])),
    /size per job: randwrite-4k 16×its file's or device's size$/m,
    "not 16×0t",
  );
  t.regex(markdown, /> \*\*Buffered I\/O\*\* \(\[1\] profile `ars`\): fio wrote through the page cache/);
  t.notRegex(markdown, /≈/);

  const runs = document.variants[0].workloads[0].runs;
  for (const run of runs) if (run.write) run.write.latencyNs.percentilesEstimated = true;
  const estimated = renderMarkdown(collectReportData([document]));
  t.regex(estimated, /≈ p99 estimated: several fio processes/);
  const row = estimated.split("\n").find((line) => line.startsWith("| **nvme**")) ?? "";
  t.is(row.split("|").filter((cell) => cell.includes("≈")).length, 1, "only the p99 column is marked");

  document.profile.direct = true;
  t.notRegex(renderMarkdown(collectReportData([document])), /Buffered I\/O/);
});

test("report of documents measured with different settings: a warning atop report.md and from writeReport", async (t) => {
  const first = twoVariants();
  const second = twoVariants();
  second.profile = { ...second.profile, direct: true, runtimeSec: 30 };
  const data = collectReportData([first, second]);
  t.deepEqual(data.settingsWarnings, [
    "[1] box vs [2] box: runtime: 60 s → 30 s",
    "[1] box vs [2] box: direct: 0 (page cache) → 1 (O_DIRECT)",
  ]);
  const markdown = renderMarkdown(data);
  t.true(
    markdown.indexOf("**Warning: the sources were measured with different settings**") < markdown.indexOf("## Results"),
  );
  t.deepEqual(collectReportData([first, twoVariants()]).settingsWarnings, []);
  const dir = await scratchDir();
  t.teardown(dir.cleanup);
  t.deepEqual((await writeReport([first, second], dir.path)).warnings, data.settingsWarnings);
});

test("an existing report is never replaced without being asked to", async (t) => {
  const dir = await scratchDir();
  t.teardown(dir.cleanup);
  await writeReport([twoVariants()], dir.path);
  const before = await fs.readFile(join(dir.path, "report.md"), "utf8");
  await t.throwsAsync(writeReport([twoVariants(), twoVariants()], dir.path), {
    message: new RegExp(
      `^${dir.path} already holds a report \\(.*report\\.md.*\\): choose another --out, or --force to replace it$`,
    ),
  });
  t.is(await fs.readFile(join(dir.path, "report.md"), "utf8"), before);
  await writeReport([twoVariants(), twoVariants()], dir.path, { replace: true });
  t.not(await fs.readFile(join(dir.path, "report.md"), "utf8"), before);
});

test("a kbench run gets kbench's summary: a column per variant, the change against the baseline in %", (t) => {
  const document = syntheticDocument({ kind: "local", host: "box" }, [
    {
      spec: variant("local-path", true),
      iops: { "rand-write-iops": [1000], "seq-write-bw": [100], "rand-write-lat": [4000] },
    },
    {
      spec: variant("longhorn-r3"),
      iops: { "rand-write-iops": [1500], "seq-write-bw": [50], "rand-write-lat": [2000] },
    },
  ]);
  t.deepEqual(renderMarkdown(collectReportData([document])).match(/## kbench summary/), null, "ars: no kbench view");
  document.profile.id = "kbench";
  const markdown = renderMarkdown(collectReportData([document]));
  const section = markdown.slice(markdown.indexOf("## kbench summary"), markdown.indexOf("## Results"));
  t.regex(section, /^\| \| local-path \| longhorn-r3 \|$/m);
  t.regex(section, /^\| IOPS, random write \| 1000 \| 1500 \(\+50\.00 %\) \|$/m);
  t.regex(section, /^\| Bandwidth, sequential write \| 0\.4 MiB\/s \| 0\.2 MiB\/s \(-50\.00 %\) \|$/m);
  t.regex(section, /^\| Latency, random write \| 250\.0 µs \| 500\.0 µs \(\+100\.00 %\) \|$/m);
  t.regex(section, /^\| IOPS, random read \| – \| – \|$/m, "a workload not run is a dash");
});

test("report.html filters by the axes of each layer, not by a key only the baseline has", (t) => {
  const vm = (id: string, cache: string, iothread: boolean) => ({
    spec: { ...variant(id), layer: "vm" as const, options: { cache, iothread } },
    iops: { w: [100] },
  });
  const document = syntheticDocument({ kind: "local", host: "pve" }, [
    {
      spec: { ...variant("host", true), layer: "host" as const, options: { path: "/tank/bench" } },
      iops: { w: [100] },
    },
    vm("a", "none", true),
    vm("b", "none", false),
    vm("c", "writeback", true),
    vm("d", "writeback", false),
  ]);
  const params = (pageSpec(collectReportData([document])) as { params: Array<{ name: string }> }).params;
  t.deepEqual(
    params.map((param) => param.name),
    ["workload", "sortBy", "axis_cache", "axis_iothread"],
  );
});

test("report.html's charts use the page: two a row while the bars beside the names keep 240 px, one a row beyond", (t) => {
  const layout = (nameLength: number) => {
    const document = syntheticDocument(
      { kind: "local", host: "box" },
      Array.from({ length: 3 }, (_, index) => ({
        spec: variant(`v${index}`.padEnd(nameLength, "x"), index === 0),
        iops: { w: [100 + index] },
      })),
    );
    const spec = pageSpec(collectReportData([document])) as { columns: number; concat: Array<{ width: number }> };
    return { columns: spec.columns, widths: [...new Set(spec.concat.map((chart) => chart.width))] };
  };
  // The names take 6 px a character and 60 px of axis; half the page's 1100 px is 550.
  t.deepEqual(layout(2), { columns: 2, widths: [550 - 72] }, "short names: a 2 x 2 grid across the page");
  t.deepEqual(layout(40), { columns: 2, widths: [550 - 300] }, "40 characters leave 250 px of bars");
  t.deepEqual(layout(45), { columns: 1, widths: [1100 - 330] }, "45 leave 220: a chart a row, as wide as the page");
});

test("a report that cannot be written whole leaves none of its files: the next report needs no --force", async (t) => {
  const dir = await scratchDir();
  t.teardown(dir.cleanup);
  // report.html, written last, cannot be: a directory stands where it goes (as a full disk stops a write; replace,
  // or the directory would be taken for a report).
  await fs.mkdir(join(dir.path, "report.html"));
  await t.throwsAsync(writeReport([twoVariants()], dir.path, { replace: true }), {
    message: /cannot write .*report\.html/,
  });
  t.deepEqual(await fs.readdir(dir.path), ["report.html"], "the files written before it are removed");
  await fs.rmdir(join(dir.path, "report.html"));
  const written = await writeReport([twoVariants()], dir.path);
  t.true(written.files.some((file) => file.endsWith("report.md")));
});

test("report.md writes names as text: a name with Markdown's | * < > keeps its cell and shows as written", async (t) => {
  const name = "a|b*c<x>";
  const document = syntheticDocument({ kind: "local", host: "box" }, [
    { spec: variant("nvme", true), iops: { "randwrite-4k": [1000] } },
    { spec: variant(name), iops: { "randwrite-4k": [500] } },
  ]);
  document.failures = [{ variant: name, workload: "randwrite-4k", attempt: 2, message: "fio: <oops>" }];
  const markdown = renderMarkdown(collectReportData([document]));
  const cells = (line: string) => line.split(/(?<!\\)\|/).length;
  const header = markdown.split("\n").find((line) => line.startsWith("| Variant |")) ?? "";
  const row = markdown.split("\n").find((line) => line.startsWith("| a\\|b")) ?? "";
  t.is(cells(row), cells(header), row);
  t.true(row.startsWith("| a\\|b\\*c\\<x\\> |"));
  t.regex(markdown, /^- \[1\] a\\\|b\\\*c\\<x\\> \/ randwrite-4k #2: \*\*failed\*\*: fio: \\<oops\\>$/m);
  // As a Markdown reader shows it: the name itself.
  const html = await marked.parse(markdown);
  t.true(html.includes("<td>a|b*c&lt;x&gt;</td>"), html.slice(0, 400));
});

test("a variant none of whose runs worked keeps its row in the table: no numbers, failed or not run", (t) => {
  const document = syntheticDocument({ kind: "local", host: "box" }, [
    { spec: variant("nvme", true), iops: { "randwrite-4k": [1000] } },
  ]);
  document.failures = [
    { variant: "sata", workload: "randwrite-4k", attempt: 1, message: "fio: No space left on device" },
  ];
  document.notRun = [
    {
      variant: "usb",
      workload: "randwrite-4k",
      attempts: [1],
      reason: "interrupted",
      message: "interrupted by Ctrl-C",
    },
  ];
  const lines = renderMarkdown(collectReportData([document])).split("\n");
  const header = lines.find((line) => line.startsWith("| Variant |")) ?? "";
  const row = (name: string) => lines.find((line) => line.startsWith(`| ${name} |`)) ?? "";
  t.regex(row("sata"), /^\| sata \|( – \|)+ 0 \| failed \|$/);
  t.regex(row("usb"), /^\| usb \|( – \|)+ 0 \| not run \|$/);
  t.is(row("sata").split("|").length, header.split("|").length);
});

test("report.md opens with the answer: each layer against the baseline, its median, best and worst; methods last", (t) => {
  const document = syntheticDocument({ kind: "local", host: "pve" }, [
    { spec: { ...variant("host-zvol", true), layer: "host" }, iops: { w: [1000] } },
    ...["none", "writeback", "directsync"].map((cache, index) => ({
      spec: { ...variant(`vm-${cache}`), layer: "vm" as const, options: { cache } },
      iops: { w: [[800, 1500, 400][index]] },
    })),
    { spec: { ...variant("k8s-longhorn"), layer: "k8s" as const, options: { kind: "longhorn" } }, iops: { w: [300] } },
  ]);
  const markdown = renderMarkdown(collectReportData([document]));
  const headings = [...markdown.matchAll(/^## (.*)$/gm)].map((match) => match[1]);
  t.is(headings[0], "Answer", headings.join(" / "));
  t.is(headings.at(-1), "Method");
  t.true(markdown.indexOf("## Results") < markdown.indexOf("![IOPS](iops.svg)"), "the tables before the charts");
  t.true(markdown.indexOf("## Method") < markdown.indexOf("### Sources"));
  t.regex(
    markdown,
    /^\| w, QD1 · write \| 1000 \| vm \| 0\.80× \| vm-writeback 1\.50× ! \| vm-directsync 0\.40× \| 3 \|$/m,
  );
  t.regex(markdown, /^! flagged: the number may measure something else than the storage/m, "a cache beat the disk");
  t.regex(markdown, /^\| +\| +\| k8s \| 0\.30× \| k8s-longhorn 0\.30× \| – \| 1 \|$/m);
  // One variant alone: what it measured.
  const alone = renderMarkdown(
    collectReportData([
      syntheticDocument({ kind: "local", host: "h" }, [{ spec: variant("nvme", true), iops: { w: [2000] } }]),
    ]),
  );
  t.regex(
    alone,
    /^## Answer\n\nWhat \*\*nvme\*\* measured, per workload:\n\n\| Workload \| IOPS \| Bandwidth \| Mean latency \| p99 latency \|$/m,
  );
  t.regex(alone, /^\| w, QD1 · write \| 2000 \| 7\.8 MiB\/s \| 500\.0 µs \| 1\.50 ms \|$/m);
});

test("etcd's check: each variant's fdatasync p99 against 10 ms over its runs, and the layer that crosses the line", (t) => {
  const document = syntheticDocument({ kind: "local", host: "pve" }, [
    { spec: { ...variant("host-zvol", true), layer: "host" }, iops: { "etcd-fdatasync": [5000, 5000] } },
    { spec: { ...variant("vm-none"), layer: "vm" as const }, iops: { "etcd-fdatasync": [3000, 3000] } },
    { spec: { ...variant("vm-writeback"), layer: "vm" as const }, iops: { "etcd-fdatasync": [2000, 2000] } },
    { spec: { ...variant("k8s-longhorn-r3"), layer: "k8s" as const }, iops: { "etcd-fdatasync": [300, 300] } },
  ]);
  // fdatasync p99 per run, in ms: the host well under, one VM on both sides of 10 ms, Longhorn over.
  const p99s: Record<string, number[]> = {
    "host-zvol": [0.3, 0.4],
    "vm-none": [2, 3],
    "vm-writeback": [8, 12],
    "k8s-longhorn-r3": [25, 30],
  };
  for (const entry of document.variants) {
    entry.workloads[0].runs.forEach((run, index) => {
      if (run.write) run.write.syncLatencyNs = { mean: p99s[entry.id][index] * 2e5, p99: p99s[entry.id][index] * 1e6 };
    });
    entry.workloads[0].summary = summarize(entry.workloads[0].runs);
  }
  const markdown = renderMarkdown(collectReportData([document]));
  t.regex(markdown, / The line is crossed at the \*\*vm\*\* layer: vm-writeback \(10\.00 ms ± 2\.83 ms\)\.$/m);
  t.regex(markdown, /^\| \*\*host-zvol\*\* \(baseline\) \| host \| 350\.0 µs ± 70\.7 µs \| 2 \| under 10 ms \|$/m);
  t.regex(markdown, /^\| vm-writeback \| vm \| 10\.00 ms ± 2\.83 ms \| 2 \| \*\*at the line\*\* \|$/m);
  t.regex(markdown, /^\| k8s-longhorn-r3 \| k8s \| 27\.50 ms ± 3\.54 ms \| 2 \| \*\*over 10 ms\*\* \|$/m);
  t.true(markdown.indexOf("## etcd's fdatasync check") < markdown.indexOf("## Results"), "beside the answer");
  // The tables show the column only where a run synced; a plain profile's have none.
  t.regex(markdown, /\| fdatasync p99 \| vs base \|/);
  t.notRegex(renderMarkdown(collectReportData([twoVariants()])), /fdatasync|etcd/);
});
