import type * as vl from "vega-lite";
import { throughPageCache, type WorkloadSettings } from "../core/results.js";
import { formatBytes } from "../util/size.js";
import { axisTitle, type ChartDefinition, chartFrame, panelUnit } from "./chart-definitions.js";
import { variantColourScale } from "./colours.js";
import { emulatedCpuNote, type ReportData, type ReportPanel } from "./rows.js";

// A queue-depth sweep (fio-plot's benchmarks, an iodepth x numjobs matrix) drawn as storage people read it: the
// value against iodepth, one line per variant, a panel per rw, block size and numjobs. A bar panel per workload
// would draw 98 panels for fio-plot's 1-64 x 1-64, in the string order of their names.

/** A sweep has a line of at least this many queue depths somewhere; fewer read better as bars. */
const MIN_DEPTHS = 3;
const PANEL_WIDTH_PX = 260;
const COLUMNS = 4;

/** A report panel in a sweep: which line panel it belongs to, and where on it. */
interface SweepPoint {
  panel: ReportPanel;
  /** "randread 4 KiB · 8 jobs", with the direction when the workload does both. */
  sweepPanel: string;
  iodepth: number;
  /** Orders the sweep panels: rw, block size, numjobs. */
  order: [string, number, number];
}

/** Where each workload's settings are known: the documents' profiles. */
function settingsById(data: ReportData): Map<string, WorkloadSettings> {
  const settings = new Map<string, WorkloadSettings>();
  for (const document of data.documents) {
    for (const workload of document.profile.workloads ?? []) {
      if (!settings.has(workload.id)) settings.set(workload.id, workload);
    }
  }
  return settings;
}

/**
 * The report as a sweep, when it is one: every workload's settings known, the workloads alike but for iodepth and
 * numjobs (size aside: a sweep sizes its jobs as it likes), and some line of MIN_DEPTHS queue depths.
 */
export function sweepOf(data: ReportData): SweepPoint[] | undefined {
  const settings = settingsById(data);
  const points: SweepPoint[] = [];
  for (const panel of data.panels) {
    const workload = settings.get(panel.workloadId);
    if (!workload) return undefined;
    const both = data.panels.filter((other) => other.workloadId === panel.workloadId).length > 1;
    const jobs = `${workload.numjobs} job${workload.numjobs === 1 ? "" : "s"}`;
    points.push({
      panel,
      sweepPanel: `${workload.rw} ${formatBytes(workload.bs)} · ${jobs}${both ? ` · ${panel.direction}` : ""}`,
      iodepth: workload.iodepth,
      order: [`${workload.rw} ${panel.direction}`, workload.bs, workload.numjobs],
    });
  }
  const depths = new Map<string, Set<number>>();
  for (const point of points)
    depths.set(point.sweepPanel, (depths.get(point.sweepPanel) ?? new Set()).add(point.iodepth));
  const sweeping = [...depths.values()].some((set) => set.size >= MIN_DEPTHS);
  // One point per queue depth per line: two workloads of the same settings are not a sweep.
  const distinct = points.length === [...depths.values()].reduce((sum, set) => sum + set.size, 0);
  return sweeping && distinct ? points : undefined;
}

/** The sweep panels in order: rw, then block size and numjobs in numeric order. */
function panelOrder(points: SweepPoint[]): string[] {
  const first = new Map<string, SweepPoint>();
  for (const point of points) if (!first.has(point.sweepPanel)) first.set(point.sweepPanel, point);
  return [...first.values()]
    .sort((a, b) => a.order[0].localeCompare(b.order[0]) || a.order[1] - b.order[1] || a.order[2] - b.order[2])
    .map((point) => point.sweepPanel);
}

/**
 * A point per variant and queue depth in each sweep panel, the panel's lines sharing one unit; the panels named
 * with their unit where they differ.
 */
function sweepRows(chart: ChartDefinition, points: SweepPoint[]) {
  const order = panelOrder(points);
  // One unit per sweep panel: its lines share a y axis.
  const units = new Map(
    order.map((sweepPanel) => [
      sweepPanel,
      panelUnit(
        chart,
        points
          .filter((point) => point.sweepPanel === sweepPanel)
          .flatMap((point) => point.panel.cells.map((cell) => cell.summary)),
      ),
    ]),
  );
  const labels = new Set([...units.values()].map((unit) => unit.label));
  const shared = labels.size === 1 ? [...units.values()][0] : undefined;
  const rows = points.flatMap(({ panel, sweepPanel, iodepth }) =>
    panel.cells.flatMap(({ variant, summary }) => {
      const stat = summary[chart.metric];
      if (!stat) return [];
      const unit = units.get(sweepPanel) ?? { label: "", divisor: 1 };
      const p99 = chart.p99Metric ? summary[chart.p99Metric] : undefined;
      return [
        {
          panel: shared ? sweepPanel : `${sweepPanel} (${unit.label})`,
          variant: variant.label,
          iodepth,
          value: stat.mean / unit.divisor,
          ...(p99 && { p99: p99.mean / unit.divisor }),
        },
      ];
    }),
  );
  const panels = order.map((sweepPanel) => (shared ? sweepPanel : `${sweepPanel} (${units.get(sweepPanel)?.label})`));
  return { rows, panels, shared };
}

export function sweepChartSpec(data: ReportData, chart: ChartDefinition, points: SweepPoint[]): vl.TopLevelSpec {
  const { rows, panels, shared } = sweepRows(chart, points);
  const variantOrder = data.variants.map((variant) => variant.label);
  const x = {
    field: "iodepth",
    type: "quantitative" as const,
    title: "Queue depth (iodepth)",
    scale: { type: "log" as const, base: 2 },
    axis: { values: [...new Set(points.map((point) => point.iodepth))].sort((a, b) => a - b), format: "d" },
  };
  const y = (field: string) => ({ field, type: "quantitative" as const, title: axisTitle(chart.axis, shared) });
  const color = {
    field: "variant",
    type: "nominal" as const,
    sort: null,
    title: "Variant",
    scale: variantColourScale(variantOrder),
    legend: { orient: "top" as const, columns: 2, labelLimit: 0 },
  };
  const withP99 = chart.p99Metric !== undefined && rows.some((row) => row.p99 !== undefined);
  const buffered = data.documents.some((document) => throughPageCache(document.profile));
  const subtitle = [
    withP99 ? "solid: mean; dashed: 99th percentile" : "",
    "values in report.md's tables",
    buffered ? "buffered I/O: the page cache is part of the numbers" : "",
    emulatedCpuNote(data) ?? "",
  ].filter(Boolean);
  return {
    ...chartFrame(`${chart.axis} against queue depth`, subtitle),
    description: `${chart.title} against queue depth per variant; the values are in the tables of report.md.`,
    data: { values: rows },
    facet: { field: "panel", type: "nominal", title: null, sort: panels },
    columns: Math.min(COLUMNS, panels.length),
    resolve: { scale: { y: "independent" }, axis: { x: "independent" } },
    spec: {
      width: PANEL_WIDTH_PX,
      height: 180,
      layer: [
        {
          mark: { type: "line", point: true },
          encoding: { x, y: y("value"), color },
        },
        ...(withP99
          ? [
              {
                transform: [{ filter: "isValid(datum.p99)" }],
                mark: { type: "line" as const, strokeDash: [4, 3], point: { shape: "diamond" } },
                encoding: { x, y: y("p99"), color },
              },
            ]
          : []),
      ],
    },
  };
}
