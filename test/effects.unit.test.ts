import { promises as fs } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { measurementOrder } from "../bench/core/measurement-order.js";
import { proposeConfirmation } from "../bench/plan/confirm.js";
import { heatmapSpec, layersSpec } from "../bench/report/analysis-charts.js";
import { averagedCells, panelEffects } from "../bench/report/effects.js";
import { writeReport } from "../bench/report/index.js";
import { panelLayers } from "../bench/report/layer-steps.js";
import { renderMarkdown } from "../bench/report/markdown.js";
import { collectReportData } from "../bench/report/rows.js";
import { parseDesign } from "../bench/variants/design.js";
import { combinationProblem, DEFAULT_VARIANT, expandVariants, variantOptions } from "../bench/variants/vm-variants.js";
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
    cache.values.map(({ value, ratio, n }) => [value, Number(ratio.toFixed(12)), n]),
    [
      ["writeback", 1.5, 4],
      ["none", 0.5, 4],
    ],
  );
  t.is(Number(cache.moves.toFixed(12)), 3);
  t.true(Math.abs(iothread.moves - 1) < 1e-9);
  const markdown = renderMarkdown(collectReportData([cacheMatrix()]));
  t.regex(
    markdown,
    /\| \*\*cache\*\* \| 3\.00× \| writeback \| 1\.50× \| 1\.50×–1\.50× \| 4 \|\n\| +\| +\| none \| 0\.50× \|/,
  );
  t.true(markdown.indexOf("## Effects") < markdown.indexOf("## Results"));
  t.regex(
    markdown,
    /Nothing was repeated: the baseline's spread in the intervals is the variants' spread about the model/,
  );
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

// The homelab's VM axes under a main-effects design: 12 of the 48 valid variants measured.
function designedDocument(confirm: string[] = []) {
  const axes = {
    bus: ["virtio-blk", "virtio-scsi-single"],
    cache: ["none", "directsync", "writethrough", "writeback", "unsafe"],
    iothread: [true, false],
    aio: ["io_uring", "native", "threads"],
  };
  const { variants, design } = expandVariants(
    { axes },
    parseDesign({ design: "main-effects", confirm }, Object.keys(axes), (key) => `layerbench:vmVariants.${key}`),
  );
  if (!design) throw new Error("no design");
  const cacheIops: Record<string, number> = {
    none: 500,
    directsync: 400,
    writethrough: 600,
    writeback: 1500,
    unsafe: 2000,
  };
  const document = syntheticDocument({ kind: "local", host: "pve" }, [
    { spec: { ...variant("host-zvol", true), layer: "host" }, iops: { "rand-read-iops": [1000, 1000] } },
    ...variants.map((disk) => ({
      spec: { ...variant(disk.id), layer: "vm" as const, options: variantOptions(disk) },
      iops: { "rand-read-iops": [cacheIops[disk.cache], cacheIops[disk.cache]] },
    })),
  ]);
  document.designs = [design];
  return document;
}

test("a main-effects design in which only the cache mode changes IOPS gives the exact cache effects", (t) => {
  const document = designedDocument();
  t.is(document.variants.length, 13, "the baseline and 12 of the 48");
  const [vm] = panelEffects(collectReportData([document]));
  t.is(vm.axes[0].axis, "cache");
  t.deepEqual(
    vm.axes[0].values.map(({ value, ratio }) => [value, Number(ratio.toFixed(9))]),
    [
      ["unsafe", 2],
      ["writeback", 1.5],
      ["writethrough", 0.6],
      ["none", 0.5],
      ["directsync", 0.4],
    ],
  );
  for (const axis of vm.axes.slice(1)) t.true(Math.abs(axis.moves - 1) < 1e-9, axis.axis);
  t.is(vm.parameters, 9);
  t.is(vm.runs, 24);
  const markdown = renderMarkdown(collectReportData([document]));
  t.regex(
    markdown,
    /Design main-effects: 12 of the 48 valid variants of the axes measured \(D-efficiency 0\.980 against measuring all 48\)\./,
  );
  t.regex(markdown, /\| \*\*cache\*\* \| 5\.00× \| unsafe \| 2\.00× \| 2\.00×–2\.00× \| \d \|/);
  t.regex(
    markdown,
    /Model: 9 parameters fitted to the means of 12 variants \(24 runs\): 3 degrees of freedom for the error\./,
  );
  t.regex(markdown, /Predicted best [a-z-]+-unsafe-[a-z-]+ 2\.00×/);
  t.regex(markdown, /predicted worst [a-z-]+-dsync-[a-z-]+ 0\.40×/);
});

test("confirmation: a variant measured beside the design is set against the model's prediction", (t) => {
  // A writeback variant the design did not choose.
  const chosen = designedDocument().designs?.[0].chosen ?? [];
  const id = ["scsi-wb-noiot-uring", "blk-wb-noiot-uring", "scsi-wb-iot-threads"].find(
    (entry) => !chosen.includes(entry),
  );
  if (!id) throw new Error("every candidate chosen");
  const document = designedDocument([id]);
  const [vm] = panelEffects(collectReportData([document]));
  t.is(vm.variants, 12, "the confirmation is left out of the fit");
  t.deepEqual(
    vm.confirmations.map(({ id, ratio, measured }) => [id, Number(ratio.toFixed(9)), Number(measured?.toFixed(9))]),
    [[id, 1.5, 1.5]],
  );
  t.regex(
    renderMarkdown(collectReportData([document])),
    new RegExp(`\\| ${id} \\| 1\\.50× \\| 1\\.50×–1\\.50× \\| 1\\.50× \\| yes \\|`),
  );
});

test("layers.svg: one view, a group of bars per workload: the baseline, then each layer's best and median", (t) => {
  const at = (id: string, layer: "host" | "vm" | "k8s", iops: number, baseline = false) => ({
    spec: { ...variant(id, baseline), layer, options: {} },
    iops: { "rand-read": [iops], "seq-write": [iops * 2] },
  });
  const document = syntheticDocument({ kind: "local", host: "pve" }, [
    at("host", "host", 1000, true),
    at("vm-a", "vm", 800),
    at("vm-b", "vm", 600),
    at("vm-c", "vm", 500),
    at("k8s-a", "k8s", 400),
    at("k8s-b", "k8s", 300),
  ]);
  const spec = layersSpec(collectReportData([document])) as {
    facet?: unknown;
    data: { values: Array<{ workload: string; bar: string; ratio: number }> };
  };
  t.is(spec.facet, undefined);
  const rows = spec.data.values.filter((row) => row.workload === "rand-read, QD1 · write");
  t.deepEqual(
    rows.map((row) => [row.bar, Number(row.ratio.toFixed(6))]),
    [
      ["baseline", 1],
      ["vm: best", 0.8],
      ["vm: median", 0.6],
      ["k8s: best", 0.4],
      ["k8s: median", 0.35],
    ],
  );
  t.is(spec.data.values.length, 10, "two workloads");
});

test("the heatmap draws only the panels of the layer whose axes it crosses, in columns that fit 1200 px", (t) => {
  // Two Longhorn variants beside the VM matrix: the Kubernetes layer has axes of its own (replicas, dataLocality).
  const document = cacheMatrix();
  const longhorn = syntheticDocument({ kind: "local", host: "pve" }, [
    ...[1, 2].flatMap((replicas) =>
      ["disabled", "best-effort"].map((dataLocality) => ({
        spec: {
          ...variant(`k8s-longhorn-r${replicas}-${dataLocality}`),
          layer: "k8s" as const,
          options: { kind: "longhorn", replicas, dataLocality },
        },
        iops: { "rand-read-iops": [300 / replicas] },
      })),
    ),
  ]);
  document.variants.push(...longhorn.variants);
  const spec = heatmapSpec(collectReportData([document])) as unknown as {
    data: { values: Array<{ panel: string; a: string; b: string }> };
    columns: number;
  };
  const panels = [...new Set(spec.data.values.map((row) => row.panel))];
  t.deepEqual(panels, ["rand-read-iops, QD1 · write · vm"], "the VM layer's, whose axes it crosses");
  t.false(
    spec.data.values.some((row) => row.a === "–" && row.b === "–"),
    "no cell of a layer without those axes",
  );
  // Columns of 70 px per value of the first axis, plus the axis titles and labels, within 1200 px.
  const firstAxisValues = new Set(spec.data.values.map((row) => row.a)).size;
  t.true(spec.columns * (firstAxisValues * 70 + 150) <= 1200, `${spec.columns} columns`);
});

test("heatmap cells for a blog: iothread on/off as its axis says, small ratios apart, white text on dark cells", (t) => {
  // iothread as the stacks record it, a boolean; writeback at 0.005× to 0.014× of the baseline.
  const vms = ["none", "writeback"].flatMap((cache) =>
    [true, false].flatMap((iothread) =>
      ["virtio-blk", "virtio-scsi-single"].map((bus) => ({
        spec: { ...variant(`${bus}-${cache}-${iothread}`), layer: "vm" as const, options: { bus, cache, iothread } },
        iops: { w: [cache === "none" ? 900 : iothread ? 14 : 5] },
      })),
    ),
  );
  const document = syntheticDocument({ kind: "local", host: "pve" }, [
    { spec: { ...variant("host-zvol", true), layer: "host" }, iops: { w: [1000] } },
    ...vms,
  ]);
  const spec = heatmapSpec(collectReportData([document])) as unknown as {
    data: { values: Array<{ a: string; b: string; label: string; ratio: number; dark: number }> };
  };
  const cells = spec.data.values;
  const levels = new Set(cells.flatMap((cell) => [cell.a, cell.b]));
  t.false(levels.has("true") || levels.has("false"), [...levels].join(", "));
  t.true(levels.has("on") && levels.has("off"), [...levels].join(", "));
  const labels = cells.map((cell) => cell.label).sort();
  t.true(labels.includes("0.0050×") && labels.includes("0.014×"), labels.join(" "));
  // The cells furthest below 1.0 are dark red: their text is white; those near 1.0 stay black.
  for (const cell of cells) t.is(cell.dark, cell.ratio < 0.1 ? 1 : 0, cell.label);
});

test("an axis value is averaged over the combinations valid with every value of its axis, never over one that cannot run", (t) => {
  const { design } = expandVariants(
    { axes: { cache: ["none", "writeback"], aio: ["io_uring", "native"] } },
    parseDesign({}, ["cache", "aio"], (key) => key),
  );
  if (!design) throw new Error("no design record");
  // aio=native needs cache none (or directsync): 3 of the 4 combinations are valid.
  const grid = design.candidates.map((candidate) => candidate.point);
  t.is(grid.length, 3);
  const aio = design.factors.find((factor) => factor.name === "aio");
  const cache = design.factors.find((factor) => factor.name === "cache");
  if (!aio || !cache) throw new Error("no factors");
  const byAio = averagedCells(aio, grid);
  t.true(byAio.shared);
  t.deepEqual(
    [...byAio.cells].map(([level, cells]) => [level, cells.map((point) => point.cache)]),
    [
      ["io_uring", ["none"]],
      ["native", ["none"]],
    ],
    "both aio values over cache=none alone: writeback cannot run with native",
  );
  const byCache = averagedCells(cache, grid);
  t.deepEqual(
    [...byCache.cells].map(([level, cells]) => [level, cells.map((point) => point.aio)]),
    [
      ["none", ["io_uring"]],
      ["writeback", ["io_uring"]],
    ],
  );
});

test("a large interaction the design leaves out: interaction-suspected, and plan --confirm proposes what would tell", (t) => {
  const document = designedDocument();
  // Every variant measured twice, 1 % apart; writeback with iothread off 40 % faster than the main effects say.
  for (const entry of document.variants) {
    if (entry.baseline) continue;
    const boost = entry.options.cache === "writeback" && entry.options.iothread === false ? 1.4 : 1;
    for (const [index, run] of entry.workloads[0].runs.entries()) {
      if (run.write) run.write.iops *= boost * (index === 0 ? 0.995 : 1.005);
    }
  }
  const [vm] = panelEffects(collectReportData([document]));
  t.true(vm.lackOfFit?.suspected, JSON.stringify(vm.lackOfFit));
  t.true((vm.lackOfFit?.p ?? 1) < 0.05);
  t.is(vm.lackOfFit?.confirm.length, 3, "three unmeasured variants the model knows least of");
  const markdown = renderMarkdown(collectReportData([document]));
  t.regex(
    markdown,
    /\*\*interaction-suspected\*\*: the variants scatter about the model more than their runs do \(F = [\d.]+ on 3 and 12 degrees of freedom, p (< 0\.001|= 0\.0[0-4]\d)\)/,
  );
  const [proposal] = proposeConfirmation(document, "results.json");
  for (const id of vm.lackOfFit?.confirm ?? []) t.true(proposal.confirm.includes(id), id);
});

// A librbd disk gets no aio (qemu-server Blockdev.pm): aio is an axis of the ZFS and krbd disks only.
function librbdAioDocument() {
  const axes = { storage: ["zfs", "rbd"], aio: ["io_uring", "threads"], cache: ["none", "writeback"] };
  const { variants, skipped, design } = expandVariants({ axes });
  if (!design) throw new Error("no design");
  // Multiplicative effects: writeback x1.5, threads x0.8 on ZFS; a librbd disk at 0.3 of the baseline.
  const iops = (disk: (typeof variants)[number]) =>
    (disk.storage === "rbd" ? 300 : disk.aio === "threads" ? 800 : 1000) * (disk.cache === "writeback" ? 1.5 : 1);
  const document = syntheticDocument({ kind: "local", host: "pve" }, [
    { spec: { ...variant("host-zvol", true), layer: "host" }, iops: { "rand-read-iops": [1000, 1000] } },
    ...variants.map((disk) => ({
      spec: { ...variant(disk.id), layer: "vm" as const, options: variantOptions(disk) },
      iops: { "rand-read-iops": [iops(disk), iops(disk)] },
    })),
  ]);
  document.designs = [design];
  return { document, variants, skipped };
}

test("a librbd disk's aio: measured once, recorded n/a, and no part of aio's effect", (t) => {
  const { document, variants, skipped } = librbdAioDocument();
  t.deepEqual(
    variants.map((disk) => disk.id),
    ["zfs-uring-none", "zfs-uring-wb", "zfs-threads-none", "zfs-threads-wb", "rbd-none", "rbd-wb"],
  );
  t.deepEqual(skipped, [
    {
      id: "rbd-threads-none",
      reason: "aio does not reach a librbd disk (qemu-server Blockdev.pm): measured as rbd-none",
    },
    { id: "rbd-threads-wb", reason: "aio does not reach a librbd disk (qemu-server Blockdev.pm): measured as rbd-wb" },
  ]);
  const recorded = new Map(document.variants.map((entry) => [entry.id, entry.options.aio]));
  t.is(recorded.get("rbd-wb"), "n/a");
  t.is(recorded.get("zfs-threads-wb"), "threads");
  for (const withDesign of [true, false]) {
    if (!withDesign) delete document.designs;
    const [vm] = panelEffects(collectReportData([document]));
    const aio = vm.axes.find((axis) => axis.axis === "aio");
    t.is(Number(aio?.moves.toFixed(9)), 1.25, "threads' 0.8 on ZFS, undiluted by the librbd disks");
    t.deepEqual(
      aio?.values.map(({ value, n }) => [value, n]),
      [
        ["io_uring", 2],
        ["threads", 2],
      ],
    );
    t.false(vm.lackOfFit?.suspected ?? false);
  }
});

test("aio=native with a host cache is refused on a file or krbd disk, not on a librbd disk that gets no aio", (t) => {
  t.regex(
    combinationProblem({ ...DEFAULT_VARIANT, storage: "krbd", aio: "native", cache: "writeback" }) ?? "",
    /aio=native needs cache none or directsync/,
  );
  t.is(combinationProblem({ ...DEFAULT_VARIANT, storage: "rbd", aio: "native", cache: "writeback" }), undefined);
});

test("a machine slowing 20 % over a run in random order: the drift is taken out, and report.md says how much", (t) => {
  // Cache doubles IOPS, the other axes move nothing; the machine loses 20 % from the first run to the last.
  const points = ["none", "writeback"].flatMap((cache) =>
    ["on", "off"].flatMap((iothread) => ["virtio-blk", "virtio-scsi-single"].map((bus) => ({ bus, cache, iothread }))),
  );
  const ids = points.map((point) => `${point.bus}-${point.cache}-${point.iothread}`);
  const order = measurementOrder("host", ids, 7);
  const last = order.length - 1;
  const slowing = (slot: number) => 1 - (0.2 * slot) / last;
  const document = syntheticDocument({ kind: "local", host: "pve" }, [
    {
      spec: { ...variant("host", true), layer: "host" },
      iops: { w: order.flatMap((id, slot) => (id === "host" ? [1000 * slowing(slot)] : [])) },
    },
    ...points.map((point, index) => {
      const slot = order.indexOf(ids[index]);
      const iops = (point.cache === "writeback" ? 2000 : 1000) * slowing(slot);
      return { spec: { ...variant(ids[index]), layer: "vm" as const, options: point }, iops: { w: [iops, iops] } };
    }),
  ]);
  const slots = new Map(order.map((id, slot) => [id, slot]));
  const baselineSlots = order.flatMap((id, slot) => (id === "host" ? [slot] : []));
  for (const entry of document.variants) {
    for (const [number, run] of entry.workloads[0].runs.entries()) {
      const slot = entry.id === "host" ? baselineSlots[number] : (slots.get(entry.id) ?? 0);
      run.startedAt = new Date(slot * 60_000 + (entry.id === "host" ? 0 : number * 1000)).toISOString();
    }
  }
  t.deepEqual(baselineSlots, [0, 5, 10], "the runner's order: the baseline at the start, the middle and the end");
  const [vm] = panelEffects(collectReportData([document]));
  t.truthy(vm.drift, "the random order lets the drift be fitted");
  // The baseline's runs span the run: its time's drift is 0, the whole run's about -20 %.
  t.true(Math.abs(Math.exp(vm.drift?.value ?? 0) - 0.8) < 0.02, `${vm.drift?.value}`);
  const cache = vm.axes.find((axis) => axis.axis === "cache");
  const writeback = cache?.values.find((value) => value.value === "writeback");
  t.true(Math.abs((writeback?.ratio ?? 0) - 2) < 0.02, `${writeback?.ratio}`);
  const markdown = renderMarkdown(collectReportData([document]));
  t.regex(markdown, /Drift: .* took out -\d+\.\d % from the first run to the last/);
});

test("spreads that differ: report.md says so, and the noisy level's interval is the wider", (t) => {
  // Cache doubles IOPS; writeback's runs scatter by 30 %, none's by 1 %.
  const spread = (center: number, share: number) => [center * (1 - share), center, center * (1 + share)];
  const document = syntheticDocument({ kind: "local", host: "pve" }, [
    { spec: { ...variant("host", true), layer: "host" }, iops: { w: spread(1000, 0.01) } },
    ...["none", "writeback"].flatMap((cache) =>
      ["on", "off"].flatMap((iothread) =>
        ["virtio-blk", "virtio-scsi-single"].map((bus) => ({
          spec: { ...variant(`${bus}-${cache}-${iothread}`), layer: "vm" as const, options: { bus, cache, iothread } },
          iops: { w: cache === "writeback" ? spread(2000, 0.3) : spread(1000, 0.01) },
        })),
      ),
    ),
  ]);
  const [vm] = panelEffects(collectReportData([document]));
  t.truthy(vm.spreadsDiffer);
  t.false(vm.lackOfFit?.suspected ?? false, "a lack of fit is not read as an interaction");
  const cache = vm.axes.find((axis) => axis.axis === "cache")?.values ?? [];
  const width = (value: string) => {
    const entry = cache.find((candidate) => candidate.value === value);
    return Math.log((entry?.high ?? 0) / (entry?.low ?? 1));
  };
  t.true(width("writeback") > 5 * width("none"), `${width("writeback")} against ${width("none")}`);
  t.regex(
    renderMarkdown(collectReportData([document])),
    /Spreads: the variants' runs spread unlike one another \(Bartlett's test, p = [0-9.e-]+\)/,
  );
});
