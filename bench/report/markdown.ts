import { SHOWN_METRICS } from "../core/metrics.js";
import { type DirectionSummary, EMULATED_CPU_WARNING, type Stat } from "../core/results.js";
import { CHARTS } from "./charts.js";
import { panelName, type ReportData, type ReportPanel, sourceLabel } from "./rows.js";

// Each shown metric is a column, followed by its ratio to the baseline where it is relative.
const COLUMNS = SHOWN_METRICS;

function cell(stat: Stat | undefined, format: (value: number) => string): string {
  if (!stat) return "–";
  return stat.n > 1 ? `${format(stat.mean)} ± ${format(stat.stdev)}` : format(stat.mean);
}

function ratio(stat: Stat | undefined, baseline: Stat | undefined): string {
  if (!stat || !baseline || baseline.mean === 0) return "–";
  return `${(stat.mean / baseline.mean).toFixed(2)}×`;
}

function panelTable(panel: ReportPanel, data: ReportData): string {
  const baselineSummary: DirectionSummary | undefined = panel.cells.find((entry) => entry.variant.baseline)?.summary;
  const headings = [
    "Variant",
    ...COLUMNS.flatMap((column) =>
      column.relative && baselineSummary ? [column.heading, "vs base"] : [column.heading],
    ),
    "Runs",
  ];
  const lines = [
    `| ${headings.join(" | ")} |`,
    `|${headings.map((_, index) => (index === 0 ? " --- " : " ---: ")).join("|")}|`,
  ];
  for (const { variant, summary } of panel.cells) {
    const values = COLUMNS.flatMap((column) => {
      const value = cell(summary[column.metric], column.format);
      return column.relative && baselineSummary
        ? [value, ratio(summary[column.metric], baselineSummary[column.metric])]
        : [value];
    });
    const name = variant.baseline ? `**${variant.label}** (baseline)` : variant.label;
    lines.push(`| ${[name, ...values, String(summary.iops?.n ?? 0)].join(" | ")} |`);
  }
  return [
    `### ${panelName(panel, data.panels)} · ${panel.direction}`,
    "",
    `Workload \`${panel.workloadId}\`.`,
    "",
    ...lines,
  ].join("\n");
}

function sourcesSection(data: ReportData): string {
  const lines = data.documents.map((document) => {
    const fio = [
      ...new Set(
        document.variants.flatMap((variant) =>
          variant.workloads.flatMap((workload) => workload.runs.map((run) => run.fioVersion)),
        ),
      ),
    ];
    const { profile, source } = document;
    const runIds =
      source.kind === "pulumi" && source.runId.includes(",") ? ` (run ids ${source.runId.split(",").join(", ")})` : "";
    return `- ${source.kind} \`${sourceLabel(source)}\`${runIds}, ${document.createdAt}: profile \`${profile.id}\`, ${profile.runtimeSec} s per run, ${profile.repeat} repeat(s), ioengine ${profile.ioengine}, direct=${profile.direct ? 1 : 0}, ${fio.join(", ") || "no runs"}`;
  });
  return ["## Sources", "", ...lines].join("\n");
}

function failuresSection(data: ReportData): string[] {
  const lines = data.documents.flatMap((document) =>
    (document.failures ?? []).map(
      (failure) =>
        `- \`${sourceLabel(document.source)}\` ${failure.variant} / ${failure.workload} #${failure.attempt}: ${failure.message}`,
    ),
  );
  return lines.length > 0
    ? ["## Failed runs", "", "These runs failed; the tables show the runs that worked.", "", ...lines, ""]
    : [];
}

export function renderMarkdown(data: ReportData): string {
  const baseline = data.baseline
    ? `Ratios are against the baseline **${data.baseline.label}** (higher is better for IOPS and bandwidth, lower for latency).`
    : "No baseline variant: no ratios.";
  const charts = CHARTS.map((chart) => `![${chart.title}](${chart.file})`).join("\n");
  const emulated = data.variants
    .filter(({ variant }) => variant.options.accel === "tcg")
    .map(({ label }) => label.replace(/ \(.*$/, ""));
  const tcgWarning =
    emulated.length > 0
      ? [
          `> **Warning: ${EMULATED_CPU_WARNING}.** ${emulated.join(", ")} ran in a local guest without KVM (QEMU's TCG): the numbers show what emulation costs, not what VirtIO costs a KVM guest.`,
          "",
        ]
      : [];
  return [
    "# layerbench report",
    "",
    baseline,
    "Values are the mean over runs; ± is one standard deviation when a workload was repeated.",
    "",
    ...tcgWarning,
    charts,
    "",
    "## Results",
    "",
    ...data.panels.map((panel) => `${panelTable(panel, data)}\n`),
    ...failuresSection(data),
    sourcesSection(data),
    "",
  ].join("\n");
}
