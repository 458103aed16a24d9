import { execFileSync } from "node:child_process";
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import test from "ava";
import { type Browser, chromium, type Page } from "playwright-core";
import type { VariantSpec } from "../bench/core/results.js";
import { CHARTS } from "../bench/report/chart-definitions.js";
import { writeReport } from "../bench/report/index.js";
import { syntheticDocument, variant } from "./helpers/documents.js";
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

/** In the page: the outlines of the first chart's bars, joined. */
function firstChartBars(): string {
  const chart = document.querySelectorAll("#charts svg .mark-rect")[0];
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
  await page.waitForSelector("#charts svg .mark-rect path", { timeout: 20_000 });
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
    t.is(await page.locator("#charts svg .mark-rect").count(), CHARTS.length);
    t.is(CHARTS.length, 4);
    t.is(await page.locator("#charts svg .mark-rect path").count(), 4 * 5);
    // Each chart's title names the selected workload's unit, as the SVGs' panels do.
    const titles = await page.locator("#charts svg .role-title-text").allTextContents();
    t.deepEqual(titles.slice(0, 2), ["IOPS", "Bandwidth (MiB/s)"]);
    t.regex(titles[3] ?? "", /^Latency \((ns|µs|ms)\)$/);
    // The tables of report.md are there too.
    t.true((await page.locator("table").count()) >= 2);

    await page.locator("#charts svg .mark-rect path").first().hover();
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
      () => document.querySelectorAll("#charts svg .mark-rect")[0].querySelectorAll("path").length === 2,
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
      t.is(await page.locator("#charts svg .mark-rect").first().locator("path").count(), count);
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
