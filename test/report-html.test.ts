import { execFileSync } from "node:child_process";
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import test from "ava";
import { type Browser, chromium, type Page } from "playwright-core";
import type { VariantSpec } from "../bench/core/results.js";
import { CHARTS } from "../bench/report/chart-definitions.js";
import { distinctColours } from "../bench/report/colours.js";
import { writeReport } from "../bench/report/index.js";
import { sweepDocument, syntheticDocument, variant } from "./helpers/documents.js";
import { scratchDir } from "./helpers/fio.js";

// report.html in a real browser: Debian's chromium, driven by playwright-core (`sh bench/install-deps.sh --tests`
// installs it). Every chart drawn, a tooltip with the value, the workload picker, no request leaving the page, no
// console error, in light and dark, for 1 variant and for 100.

function chromiumPath(): string {
  try {
    return execFileSync("sh", ["-c", "command -v chromium || command -v chromium-browser"]).toString().trim();
  } catch {
    throw new Error("no chromium on PATH: sh bench/install-deps.sh --tests installs it");
  }
}

/** A VM matrix of `count` variants over cache and iothread, two workloads, two runs each. */
function matrix(count: number) {
  const variants = Array.from({ length: count }, (_, index) => {
    const cache = index % 2 === 0 ? "none" : "writeback";
    const iothread = index % 4 < 2 ? "on" : "off";
    const level = index === 0 ? 1000 : cache === "writeback" ? 1500 : 700;
    const options: VariantSpec["options"] = index === 0 ? {} : { cache, iothread };
    return {
      spec: {
        ...variant(
          index === 0 ? "host-zvol" : `vm-${String(index).padStart(3, "0")}-${cache}-${iothread}`,
          index === 0,
        ),
        layer: index === 0 ? ("host" as const) : ("vm" as const),
        options,
      },
      iops: { "rand-read-iops": [level + index, level + index + 10], "seq-write-bw": [300 + index, 310 + index] },
    };
  });
  return syntheticDocument({ kind: "local", host: "pve" }, variants);
}

/** The bars of the page's charts (named in html.ts), one group per chart. */
const BARS = '#charts svg .mark-rect[class*="_bars_marks"]';

/** In the page: the outlines of the first chart's bars, joined. */
function firstChartBars(): string {
  const chart = document.querySelectorAll('#charts svg .mark-rect[class*="_bars_marks"]')[0];
  return Array.from(chart.querySelectorAll("path"), (path) => path.getAttribute("d")).join("|");
}

interface Opened {
  page: Page;
  requests: string[];
  errors: string[];
  loadMs: number;
}

async function open(browser: Browser, file: string, colorScheme: "light" | "dark"): Promise<Opened> {
  const page = await browser.newPage({ colorScheme });
  const requests: string[] = [];
  const errors: string[] = [];
  page.on("request", (request) => requests.push(request.url()));
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(String(error)));
  const started = Date.now();
  await page.goto(pathToFileURL(file).href);
  await page.waitForSelector(`${BARS} path`, { timeout: 20_000 });
  return { page, requests, errors, loadMs: Date.now() - started };
}

let browser: Browser;
test.before(async () => {
  browser = await chromium.launch({ executablePath: chromiumPath(), args: ["--no-sandbox"] });
});
test.after.always(async () => {
  await browser?.close();
});

test.serial(
  "report.html: charts drawn, a tooltip with the value, the workload picker works, nothing fetched, no error",
  async (t) => {
    const dir = await scratchDir();
    t.teardown(dir.cleanup);
    await writeReport([matrix(5)], dir.path);
    const file = join(dir.path, "report.html");
    const { page, requests, errors, loadMs } = await open(browser, file, "light");
    t.log(`report.html loaded and drawn in ${loadMs} ms`);
    // The SVGs' four charts (IOPS, bandwidth, bytes written, latency), a bar per variant in each.
    t.is(await page.locator(BARS).count(), CHARTS.length);
    t.is(CHARTS.length, 4);
    t.is(await page.locator(`${BARS} path`).count(), 4 * 5);
    // Each chart's title names the selected workload's unit, as the SVGs' panels do.
    const titles = await page.locator("#charts svg .role-title-text").allTextContents();
    t.deepEqual(titles.slice(0, 2), ["IOPS", "Bandwidth (MiB/s)"]);
    t.regex(titles[3] ?? "", /^Latency \((ns|µs|ms)\)$/);
    // The diamond is explained where it is drawn, and no mark reaches the right edge, where it would be cut.
    const subtitles = await page.locator("#charts svg .role-title-subtitle").allTextContents();
    t.true(subtitles.includes("bar: mean · ◆: 99th percentile"), JSON.stringify(subtitles));
    // A string: tsx's names for the helpers of a function would not exist in the page.
    const edges = (await page.evaluate(`(() => {
      const right = (selector) =>
        Math.max(...[...document.querySelectorAll(selector)].map((node) => node.getBoundingClientRect().right));
      return { diamonds: right('#charts svg .mark-symbol:not([class*="_room_"]) path'), axes: right("#charts svg .role-axis-domain line") };
    })()`)) as { diamonds: number; axes: number };
    t.true(edges.diamonds < edges.axes - 5, JSON.stringify(edges));
    // The tables of report.md are there too.
    t.true((await page.locator("table").count()) >= 2);

    await page.locator(`${BARS} path`).first().hover();
    const tooltip = page.locator("#vg-tooltip-element");
    await tooltip.waitFor({ state: "visible" });
    t.regex((await tooltip.textContent()) ?? "", /host-zvol[\s\S]*IOPS[\s\S]*1,005\.0[\s\S]*runs[\s\S]*2/);

    const picker = page.locator("#controls select").first();
    t.deepEqual(await picker.locator("option").allInnerTexts(), [
      "rand-read-iops, QD1 · write",
      "seq-write-bw, QD1 · write",
    ]);
    // The first chart's bar outlines: another workload draws other bars.
    const before = await page.evaluate(firstChartBars);
    await picker.selectOption({ index: 1 });
    await page.waitForFunction(`(${firstChartBars.toString()})() !== ${JSON.stringify(before)}`);
    t.not(await page.evaluate(firstChartBars), before, "the other workload's bars");

    // The filter of an axis: cache=writeback leaves the two writeback variants.
    const cacheFilter = page.locator("#controls select").nth(2);
    await cacheFilter.selectOption("writeback");
    await page.waitForFunction(
      () =>
        document.querySelectorAll('#charts svg .mark-rect[class*="_bars_marks"]')[0].querySelectorAll("path").length ===
        2,
    );
    t.pass();

    t.deepEqual(requests, [pathToFileURL(file).href], "nothing but the file itself");
    t.deepEqual(errors, []);
  },
);

test.serial("report.html in the dark, and with 1 and with 100 variants", async (t) => {
  const dir = await scratchDir();
  t.teardown(dir.cleanup);
  for (const count of [1, 100]) {
    const out = join(dir.path, String(count));
    await writeReport([matrix(count)], out);
    const file = join(out, "report.html");
    const { size } = await fs.stat(file);
    t.true(size < 4 * 1024 ** 2, `${count} variant(s): ${size} bytes, under 4 MiB`);
    for (const scheme of ["light", "dark"] as const) {
      const { page, errors, loadMs } = await open(browser, file, scheme);
      t.log(`${count} variant(s), ${scheme}: drawn in ${loadMs} ms`);
      t.is(await page.locator(BARS).first().locator("path").count(), count);
      const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      t.is(background, scheme === "dark" ? "rgb(22, 22, 22)" : "rgb(255, 255, 255)");
      // A results table of 100 rows comes folded, and opens; one of a single row is shown as it is.
      const folded = page.locator("details", { hasText: `${count} rows: open the table` });
      if (count === 100) {
        t.true((await folded.count()) >= 2, "each workload's table");
        t.false(await folded.first().locator("table").isVisible());
        await folded.first().locator("summary").click();
        t.true(await folded.first().locator("table").isVisible());
      } else {
        t.is(await page.locator("details").count(), 0);
      }
      t.deepEqual(errors, []);
      await page.close();
    }
  }
});

/** In the page: the fills of the first chart's bars, in the order drawn (top to bottom). */
function firstChartFills(): string[] {
  const chart = document.querySelectorAll('#charts svg .mark-rect[class*="_bars_marks"]')[0];
  const bars = Array.from(chart.querySelectorAll("path"));
  bars.sort((a, b) => a.getBoundingClientRect().top - b.getBoundingClientRect().top);
  return bars.map((path) => path.getAttribute("fill") ?? "");
}

test.serial(
  "report.html shows what the SVGs show: spread, p99, flags, the analysis charts, the same colours",
  async (t) => {
    const dir = await scratchDir();
    t.teardown(dir.cleanup);
    await writeReport([matrix(5)], dir.path);
    const { page, errors } = await open(browser, join(dir.path, "report.html"), "light");
    // Two runs per variant: an error bar per bar, in each of the four charts.
    t.is(await page.locator('#charts svg .mark-rule[class*="_spread_"] line').count(), 4 * 5);
    // The latency chart's 99th percentiles, one per variant.
    t.is(await page.locator('#charts svg .mark-symbol:not([class*="_room_"]) path').count(), 5);
    // The writeback guests beat the host under them (faster-than-baseline): a "!" beside their bars in each chart.
    const marks = await page.locator("#charts svg .mark-text text").allTextContents();
    t.is(marks.filter((text) => text === "!").length, 4 * 2);
    // The Layer by layer, Effects and heatmap charts, where report.md shows them.
    for (const id of ["chart-layers", "chart-effects", "chart-heatmap"])
      t.true((await page.locator(`#${id} svg .role-mark`).count()) > 0, `${id} drawn`);
    // Each variant its colour, the same as in iops.svg's panels.
    const svgFills = [
      ...(await fs.readFile(join(dir.path, "iops.svg"), "utf8")).matchAll(
        /class="mark-rect role-mark child_layer_0_marks"[^>]*>(.*?)<\/g>/g,
      ),
    ].map((group) => [...group[1].matchAll(/fill="(#[0-9a-f]{6})"/g)].map((match) => match[1]));
    t.deepEqual(svgFills[0], distinctColours(5));
    t.deepEqual(await page.evaluate(firstChartFills), distinctColours(5));
    t.deepEqual(errors, []);
  },
);

/** In a page showing an SVG: its texts' boxes, those cut by the SVG's edge, and the pairs that overlap. */
function textProblems(): { texts: number; cut: string[]; overlapping: string[] } {
  const svg = document.querySelector("svg") as SVGSVGElement;
  const edge = svg.getBoundingClientRect();
  const texts = Array.from(svg.querySelectorAll("text"))
    .filter((text) => (text.textContent ?? "").trim() !== "" && getComputedStyle(text).opacity !== "0")
    .filter((text) => Number(text.getAttribute("opacity") ?? 1) > 0)
    .map((text) => ({ label: text.textContent ?? "", box: text.getBoundingClientRect() }));
  const cut = texts
    .filter(
      ({ box }) =>
        box.left < edge.left - 1 ||
        box.top < edge.top - 1 ||
        box.right > edge.right + 1 ||
        box.bottom > edge.bottom + 1,
    )
    .map(({ label }) => label);
  const overlapping: string[] = [];
  for (let i = 0; i < texts.length; i += 1) {
    for (let j = i + 1; j < texts.length; j += 1) {
      const [a, b] = [texts[i].box, texts[j].box];
      const width = Math.min(a.right, b.right) - Math.max(a.left, b.left);
      const height = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      if (width > 1 && height > 1) overlapping.push(`${texts[i].label} / ${texts[j].label}`);
    }
  }
  return { texts: texts.length, cut, overlapping };
}

test.serial(
  "the SVG charts in a browser: no label cut at the edge, none over another, for long names and a sweep",
  async (t) => {
    const dir = await scratchDir();
    t.teardown(dir.cleanup);
    // Eleven guests with long names under TCG, four workloads, a log latency scale.
    const long = (index: number) => `vm-${index}-bus-virtio-scsi-single-cache-${index % 2 ? "writeback" : "none"}`;
    const document = syntheticDocument(
      { kind: "local", host: "box" },
      Array.from({ length: 11 }, (_, index) => ({
        spec: {
          ...variant(
            index === 0 ? "host" : long(index),
            index === 0,
            index === 0
              ? {}
              : { accel: "tcg", cache: index % 2 ? "writeback" : "none", iothread: index % 4 < 2 ? "on" : "off" },
          ),
          layer: index === 0 ? ("host" as const) : ("vm" as const),
        },
        iops: Object.fromEntries(
          ["4 KiB", "64 KiB", "1 MiB", "8 KiB"].map((w, k) => [w, [90 * (index + 1) + k, 95 * (index + 1)]]),
        ),
      })),
    );
    await writeReport([document], join(dir.path, "long"), { latencyScale: "log" });
    await writeReport([sweepDocument()], join(dir.path, "sweep"));
    const page = await browser.newPage();
    for (const report of ["long", "sweep"]) {
      for (const file of (await fs.readdir(join(dir.path, report))).filter((name) => name.endsWith(".svg"))) {
        await page.goto(pathToFileURL(join(dir.path, report, file)).href);
        const { texts, cut, overlapping } = await page.evaluate(textProblems);
        t.log(`${report}/${file}: ${texts} texts`);
        t.true(texts > 11, `${report}/${file}: ${texts} texts`);
        t.deepEqual(cut, [], `${report}/${file}: nothing cut`);
        t.deepEqual(overlapping, [], `${report}/${file}: nothing overlapping`);
      }
    }
    await page.close();
  },
);

test.serial(
  "report.html: the runs second by second drawn where report.md shows them, and zoomed with the wheel",
  async (t) => {
    const dir = await scratchDir();
    t.teardown(dir.cleanup);
    const measured = matrix(3);
    for (const entry of measured.variants)
      for (const run of entry.workloads.flatMap((workload) => workload.runs))
        run.series = {
          intervalSec: 1,
          iops: Array.from({ length: 60 }, (_, second) => 1000 + second),
          bwBytes: Array.from({ length: 60 }, () => 0),
        };
    await writeReport([measured], dir.path);
    const { page, errors } = await open(browser, join(dir.path, "report.html"), "light");
    const chart = page.locator("#chart-series svg");
    await chart.waitFor();
    t.true((await page.locator("#chart-series svg .mark-line path").count()) >= 3 * 2, "a line per run");
    const ticks = () => page.locator("#chart-series svg .role-axis-label text").allTextContents();
    const before = await ticks();
    await chart.scrollIntoViewIfNeeded();
    const box = await page.locator("#chart-series svg .mark-line").first().boundingBox();
    if (!box) throw new Error("no line drawn");
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.wheel(0, -400);
    await page.waitForFunction(
      (previous) =>
        JSON.stringify(
          Array.from(document.querySelectorAll("#chart-series svg .role-axis-label text"), (text) => text.textContent),
        ) !== previous,
      JSON.stringify(before),
    );
    t.notDeepEqual(await ticks(), before, "the seconds zoomed in");
    t.deepEqual(errors, []);
  },
);

test.serial("names are text: a variant and an option that hold HTML run nothing and show as written", async (t) => {
  const dir = await scratchDir();
  t.teardown(dir.cleanup);
  const image = `<img src=x onerror="document.title='PWNED'">`;
  const script = "<script>document.title='PWNED'</script>";
  const document = syntheticDocument({ kind: "local", host: "pve" }, [
    { spec: { ...variant("host-zvol", true), layer: "host" }, iops: { "rand-read-iops": [1000] } },
    { spec: { ...variant(image), layer: "vm", options: { cache: script } }, iops: { "rand-read-iops": [700] } },
    { spec: { ...variant(`b ${script}`), layer: "vm", options: { cache: "none" } }, iops: { "rand-read-iops": [900] } },
  ]);
  await writeReport([document], dir.path);
  const { page, errors } = await open(browser, join(dir.path, "report.html"), "light");
  await page.waitForTimeout(300);
  t.is(await page.title(), "layerbench report", "no name ran as a script");
  t.is(await page.locator("body img").count(), 0, "no name became an element");
  const text = (await page.locator("body").textContent()) ?? "";
  t.true(text.includes(image), "the name is shown as written");
  t.true(text.includes(script));
  t.deepEqual(errors, []);
});
