import { promises as fs } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { readResultsFile } from "../bench/core/results-io.js";
import { CHARTS, chartRows, chartSpec } from "../bench/report/charts.js";
import { writeReport } from "../bench/report/index.js";
import { renderMarkdown } from "../bench/report/markdown.js";
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
  t.regex(sata ?? "", /\| 1 \|$/, "one run");
});

test("failed runs are listed under the tables, which keep the runs that worked", (t) => {
  const document = {
    ...twoVariants(),
    failures: [{ variant: "sata", workload: "randwrite-1m", attempt: 1, message: "fio: No space left on device" }],
  };
  const markdown = renderMarkdown(collectReportData([document]));
  t.regex(
    markdown,
    /## Failed runs\n\nThese runs failed; the tables show the runs that worked\.\n\n- `box` sata \/ randwrite-1m #1: fio: No space left on device\n/,
  );
  t.regex(markdown, /\| sata \| 500 \|/);
  t.notRegex(renderMarkdown(collectReportData([twoVariants()])), /Failed runs/);
});

test("with several documents every variant is labelled by its source: host, or stack and run id", (t) => {
  const second = syntheticDocument({ kind: "pulumi", project: "layerbench", stack: "quick", runId: "2" }, [
    { spec: variant("nvme", true), iops: { "randwrite-4k": [900] } },
  ]);
  const data = collectReportData([twoVariants(), second]);
  t.deepEqual(
    data.variants.map((entry) => entry.label),
    ["box/nvme", "box/sata", "quick@2/nvme"],
  );
  t.is(data.baseline?.label, "box/nvme", "the first document's baseline is the baseline");
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
  t.is(bandwidth.unit.label, "MiB/s");
  const nvme = bandwidth.rows.find((row) => row.variant === "nvme")!;
  t.is(nvme.value, (1100 * 4096) / 1024 ** 2);
  t.is(nvme.repeats, 2);
  t.true(nvme.high > nvme.value && nvme.low < nvme.value);
  const spec = JSON.stringify(chartSpec(data, CHARTS[0]));
  t.regex(spec, /"errorbar"/);
  t.regex(spec, /datum\.repeats > 1/);
  const latency = chartRows(data, CHARTS.find((chart) => chart.file === "latency.svg")!);
  t.is(latency.unit.label, "µs");
  t.is(latency.rows.find((row) => row.variant === "sata")?.p99, 3e9 / 500 / 1e3);
});

test("writeReport writes four titled SVG charts with axes and legends, and report.md", async (t) => {
  const dir = await scratchDir();
  t.teardown(dir.cleanup);
  const files = await writeReport([twoVariants()], dir.path);
  t.deepEqual(files.map((file) => file.slice(dir.path.length + 1)).sort(), [
    "io_bandwidth.svg",
    "io_written.svg",
    "iops.svg",
    "latency.svg",
    "report.md",
  ]);
  const iops = await fs.readFile(join(dir.path, "iops.svg"), "utf8");
  t.true(iops.startsWith("<svg"));
  for (const text of ["IOPS", "Variant", "nvme", "sata", "±1 standard deviation"])
    t.true(iops.includes(text), `iops.svg shows "${text}"`);
  t.true((await fs.readFile(join(dir.path, "io_bandwidth.svg"), "utf8")).includes("Bandwidth (MiB/s)"));
  t.true((await fs.readFile(join(dir.path, "latency.svg"), "utf8")).includes("Latency (µs)"));
  t.true((await fs.readFile(join(dir.path, "io_written.svg"), "utf8")).includes("Written (MiB)"));
});

test("readResultsFile rejects a missing file, bad JSON and a foreign document in one line each", async (t) => {
  const dir = await scratchDir();
  t.teardown(dir.cleanup);
  await t.throwsAsync(readResultsFile(join(dir.path, "none.json")), { message: /cannot read .*none\.json: ENOENT/ });
  await fs.writeFile(join(dir.path, "bad.json"), "{");
  await t.throwsAsync(readResultsFile(join(dir.path, "bad.json")), { message: /bad\.json is not valid JSON/ });
  await fs.writeFile(join(dir.path, "other.json"), "[]");
  await t.throwsAsync(readResultsFile(join(dir.path, "other.json")), {
    message: /other\.json is not a layerbench\/results@1 document/,
  });
});
