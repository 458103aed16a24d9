import { formatStat, SHOWN_METRICS } from "../core/metrics.js";
import type { Stat } from "../core/results.js";
import { times } from "../util/format.js";
import { barFlags } from "./chart-definitions.js";
import { panelLayers, ranked, ratios } from "./layer-steps.js";
import { panelName, type ReportData, type ReportPanel, type ReportVariant } from "./rows.js";
import type { ReportPart } from "./table.js";

// What report.md opens with: the answer to "what does each layer cost me", one short table, before any caveat,
// chart or method. Every number in it is in the tables below; this picks the ones the question asks for.

const IOPS = SHOWN_METRICS.find((metric) => metric.metric === "iops") ?? SHOWN_METRICS[0];
const READ_AS = SHOWN_METRICS.filter((metric) => ["iops", "bwBytes", "latMeanNs", "latP99Ns"].includes(metric.metric));

const value = (stat: Stat | undefined, metric = IOPS) => (stat ? formatStat(stat, metric) : "–");

const workloadName = (panel: ReportPanel, data: ReportData) => `${panelName(panel, data.panels)} · ${panel.direction}`;

/** One variant alone: what it measured, per workload. */
function aloneTable(data: ReportData): ReportPart[] {
  const [only] = data.variants;
  return [
    `What **${only.markdownLabel}** measured, per workload:`,
    "",
    {
      headings: ["Workload", ...READ_AS.map((metric) => metric.heading)],
      alignRight: [false, ...READ_AS.map(() => true)],
      rows: data.panels.map((panel) => [
        workloadName(panel, data),
        ...READ_AS.map((metric) => value(panel.cells[0]?.summary[metric.metric], metric)),
      ]),
    },
  ];
}

/** Peers without layers (local directories): one group beside the baseline. */
function peerSteps(panel: ReportPanel) {
  const peers = ratios(panel);
  return peers.length > 0 ? [{ label: "other targets", ...ranked(peers) }] : [];
}

/**
 * Per workload, the baseline's IOPS and each layer above it (each storage of a layer apart): the median of its
 * variants against the baseline, its best and its worst variant.
 */
function againstBaseline(data: ReportData, baselineLabel: string): ReportPart[] {
  const layered = new Map(panelLayers(data).map(({ panel, steps }) => [panel, steps]));
  const rows = data.panels.flatMap((panel) => {
    const base = panel.cells.find((cell) => cell.variant.baseline)?.summary.iops;
    const steps = layered.get(panel) ?? peerSteps(panel);
    // A number its flags call into question (a cache beating the disk under it) carries the "!" the charts give it.
    const named = ({ variant, ratio }: { variant: ReportVariant; ratio: number }) => {
      const cell = panel.cells.find((candidate) => candidate.variant === variant);
      return `${variant.markdownLabel} ${times(ratio)}${cell && barFlags(cell.warnings) ? " !" : ""}`;
    };
    return steps.map((step, index) => [
      index === 0 ? workloadName(panel, data) : "",
      index === 0 ? value(base) : "",
      step.label,
      times(step.median),
      named(step.best),
      step.n > 1 ? named(step.worst) : "–",
      String(step.n),
    ]);
  });
  const flagged = rows.some((row) => row.some((text) => text.endsWith(" !")));
  if (rows.length === 0) return [];
  return [
    `IOPS against the baseline **${baselineLabel}**, per workload and layer: the median of the layer's variants, its best and its worst (every number, with its spread and flags, is in Results below).`,
    "",
    {
      headings: ["Workload", "Baseline IOPS", "Layer", "Median", "Best", "Worst", "Variants"],
      alignRight: [false, true, false, true, false, false, true],
      rows,
    },
    ...(flagged ? ["", "! flagged: the number may measure something else than the storage (see Flags below)."] : []),
  ];
}

export function answerSection(data: ReportData): ReportPart[] {
  if (data.variants.length === 0 || data.panels.length === 0) return [];
  const body =
    data.variants.length === 1
      ? aloneTable(data)
      : data.baseline
        ? againstBaseline(data, data.baseline.markdownLabel)
        : [];
  return body.length > 0 ? ["## Answer", "", ...body, ""] : [];
}
