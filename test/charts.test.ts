import test from "ava";
import { lab } from "d3-color";
import type { ResultsDocument, VariantSpec } from "../bench/core/results.js";
import { effectsSpec, heatmapSpec } from "../bench/report/analysis-charts.js";
import { CHARTS } from "../bench/report/chart-definitions.js";
import { renderChartSvg, renderSpecSvg } from "../bench/report/charts.js";
import { distinctColours } from "../bench/report/colours.js";
import { collectReportData } from "../bench/report/rows.js";
import { syntheticDocument, variant } from "./helpers/documents.js";

// What the SVG charts look like: a colour per variant, caveats said once, panels in the report's order, an axis
// under every panel and none under an empty cell.

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
});
