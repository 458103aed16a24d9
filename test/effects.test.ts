import { promises as fs } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { heatmapSpec } from "../bench/report/analysis-charts.js";
import { panelEffects, panelLayers } from "../bench/report/effects.js";
import { writeReport } from "../bench/report/index.js";
import { renderMarkdown } from "../bench/report/markdown.js";
import { collectReportData } from "../bench/report/rows.js";
import { syntheticDocument, variant } from "./helpers/documents.js";
import { scratchDir } from "./helpers/fio.js";

// A VM matrix in which only the cache mode changes IOPS: the report must say cache matters, by how much, and
// that the other axes do not.

function cacheMatrix() {
  const vms = ["none", "writeback"].flatMap((cache) =>
    ["on", "off"].flatMap((iothread) =>
      ["virtio-blk", "virtio-scsi-single"].map((bus) => ({
        spec: { ...variant(`${bus}-${cache}-${iothread}`), layer: "vm" as const, options: { bus, cache, iothread } },
        iops: { "rand-read-iops": [cache === "writeback" ? 1500 : 500] },
      })),
    ),
  );
  const document = syntheticDocument({ kind: "local", host: "pve" }, [
    { spec: { ...variant("host-zvol", true), layer: "host" }, iops: { "rand-read-iops": [1000] } },
    ...vms,
    {
      spec: { ...variant("k8s-local-path"), layer: "k8s", options: { kind: "local-path", storageClass: "local-path" } },
      iops: { "rand-read-iops": [400] },
    },
  ]);
  document.profile.direct = true;
  return document;
}

test("effects: cache ranked first with its ratios; iothread and bus move nothing", (t) => {
  const [vm] = panelEffects(collectReportData([cacheMatrix()]));
  t.is(vm.layer, "vm");
  t.is(vm.axes[0].axis, "cache", "ranked first");
  t.deepEqual(vm.axes.map((axis) => axis.axis).sort(), ["bus", "cache", "iothread"]);
  const [cache, , iothread] = vm.axes;
  t.deepEqual(
    cache.values.map(({ value, ratio, n }) => [value, ratio, n]),
    [
      ["writeback", 1.5, 4],
      ["none", 0.5, 4],
    ],
  );
  t.is(cache.moves, 3);
  t.true(Math.abs(iothread.moves - 1) < 1e-9);
  const markdown = renderMarkdown(collectReportData([cacheMatrix()]));
  t.regex(
    markdown,
    /\| \*\*cache\*\* \| 3\.00× \| writeback \| 1\.50× \| 1\.50×–1\.50× \| 4 \|\n\| +\| +\| none \| 0\.50× \|/,
  );
  t.true(markdown.indexOf("## Effects") < markdown.indexOf("## Results"));
});

test("layer by layer: the baseline, then each layer's best variant and median", (t) => {
  const [entry] = panelLayers(collectReportData([cacheMatrix()]));
  t.deepEqual(
    entry.steps.map((step) => [step.layer, step.best.variant.variant.id, step.best.ratio, step.median, step.n]),
    [
      ["vm", "virtio-blk-writeback-on", 1.5, 1, 8],
      ["k8s", "k8s-local-path", 0.4, 0.4, 1],
    ],
  );
  t.regex(
    renderMarkdown(collectReportData([cacheMatrix()])),
    /^\| +\| k8s \| k8s-local-path \| 0\.40× \| 0\.40× \| 1 \|$/m,
  );
});

test("the heatmap puts cache on one axis; effects.svg, heatmap.svg and layers.svg are written with marks", async (t) => {
  const data = collectReportData([cacheMatrix()]);
  const spec = JSON.stringify(heatmapSpec(data));
  t.regex(spec, /"title":"cache"/);
  t.regex(spec, /"label":"1\.50×"/);
  const dir = await scratchDir();
  t.teardown(dir.cleanup);
  const { files } = await writeReport([cacheMatrix()], dir.path);
  for (const name of ["effects.svg", "heatmap.svg", "layers.svg"]) {
    t.true(files.includes(join(dir.path, name)), name);
    const svg = await fs.readFile(join(dir.path, name), "utf8");
    t.regex(svg, /<path|<rect/, `${name} has marks`);
  }
  t.true((await fs.readFile(join(dir.path, "heatmap.svg"), "utf8")).includes("1.50×"), "values printed in the cells");
  // No axes and one layer: none of them.
  const plain = await scratchDir();
  t.teardown(plain.cleanup);
  const twoDirectories = syntheticDocument({ kind: "local", host: "h" }, [
    { spec: variant("a", true), iops: { w: [1] } },
    { spec: variant("b"), iops: { w: [2] } },
  ]);
  const written = (await writeReport([twoDirectories], plain.path)).files.map((file) =>
    file.slice(plain.path.length + 1),
  );
  t.false(written.some((name) => ["effects.svg", "heatmap.svg", "layers.svg"].includes(name)));
});
