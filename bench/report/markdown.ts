import { unaccountedRuns } from "../core/completeness.js";
import { formatStat, SHOWN_METRICS, type ShownMetric } from "../core/metrics.js";
import {
  DIRECTIONS,
  type DirectionSummary,
  EMULATED_CPU_WARNING,
  type Stat,
  throughPageCache,
} from "../core/results.js";
import { fioVersions } from "../core/settings.js";
import { STEADY_CRITERION } from "../core/steady-state.js";
import { WARNING_CODES, WARNING_MEANINGS, warningCodes } from "../core/warnings.js";
import { times } from "../util/format.js";
import { formatJobSize } from "../util/size.js";
import { answerSection } from "./answer.js";
import { ANALYSIS_CHARTS, CHARTS, chartImage, MAX_LABELLED_VARIANTS } from "./chart-definitions.js";
import { effectsSection } from "./effects-section.js";
import { etcdSection } from "./etcd-section.js";
import { kbenchSummary } from "./kbench-summary.js";
import { panelLayers } from "./layer-steps.js";
import { mdText } from "./markdown-text.js";
import { percentileCurves } from "./percentile-chart.js";
import { measuresRbdImages, panelName, type ReportData, type ReportPanel, sourceLabel, sourceNumber } from "./rows.js";
import { partsToMarkdown, quotedList, type ReportPart } from "./table.js";

/** Marks a percentile that is an IO-weighted mean of several processes' percentiles rather than fio's number. */
const ESTIMATE_MARK = "≈";

function cell(stat: Stat | undefined, column: ShownMetric, estimated: boolean): string {
  if (!stat) return "–";
  const value = formatStat(stat, column);
  return estimated && column.metric === "latP99Ns" ? `${ESTIMATE_MARK}${value}` : value;
}

function ratio(stat: Stat | undefined, baseline: Stat | undefined): string {
  if (!stat || !baseline || baseline.mean === 0) return "–";
  return times(stat.mean / baseline.mean);
}

/** The variants of the panel's documents with no run of its workload but a failed or never made one. */
function unmeasured(panel: ReportPanel, data: ReportData): Array<{ label: string; why: string }> {
  const shown = new Set(panel.cells.map((entry) => entry.variant.key));
  return data.documents.flatMap((document, index) => {
    const prefix = data.documents.length > 1 ? `${sourceNumber(index)} ${sourceLabel(document.source)}/` : "";
    const missing = new Map<string, string>();
    for (const failure of document.failures ?? [])
      if (failure.workload === panel.workloadId) missing.set(failure.variant, "failed");
    for (const entry of document.notRun ?? [])
      if (entry.workload === panel.workloadId && !missing.has(entry.variant)) missing.set(entry.variant, "not run");
    return [...missing]
      .filter(([variant]) => !shown.has(`${index}:${variant}`))
      .map(([variant, why]) => ({ label: `${prefix}${variant}`, why }));
  });
}

function panelTable(panel: ReportPanel, data: ReportData): ReportPart[] {
  const baselineSummary: DirectionSummary | undefined = panel.cells.find((entry) => entry.variant.baseline)?.summary;
  // Each shown metric is a column, followed by its ratio to the baseline where it is relative.
  const columns = SHOWN_METRICS.filter(
    (column) => !column.whereMeasured || panel.cells.some((entry) => entry.summary[column.metric]),
  );
  const headings = [
    "Variant",
    ...columns.flatMap((column) =>
      column.relative && baselineSummary ? [column.heading, "vs base"] : [column.heading],
    ),
    "Runs",
    "Flags",
  ];
  const rows = panel.cells.map(({ variant, summary, estimatedPercentiles, warnings }) => {
    const values = columns.flatMap((column) => {
      const value = cell(summary[column.metric], column, estimatedPercentiles);
      return column.relative && baselineSummary
        ? [value, ratio(summary[column.metric], baselineSummary[column.metric])]
        : [value];
    });
    const name = variant.baseline ? `**${variant.markdownLabel}** (baseline)` : variant.markdownLabel;
    const flags = warningCodes(warnings);
    return [name, ...values, String(summary.iops?.n ?? 0), flags || "–"];
  });
  // A variant none of whose runs of this workload worked keeps its row: no numbers, and why (see Incomplete).
  const emptyRows = unmeasured(panel, data).map(({ label, why }) => [
    mdText(label),
    ...headings.slice(1, -2).map(() => "–"),
    "0",
    why,
  ]);
  rows.push(...emptyRows);
  return [
    [`### ${panelName(panel, data.panels)} · ${panel.direction}`, "", `Workload \`${panel.workloadId}\`.`, ""].join(
      "\n",
    ),
    { headings, alignRight: headings.map((_, index) => index > 0), rows },
    "",
  ];
}

function sourcesSection(data: ReportData): string {
  const lines = data.documents.map((document, index) => {
    const fio = [...fioVersions(document.variants)];
    const { profile, source } = document;
    const runIds =
      source.kind === "pulumi" && source.runId.includes(",") ? ` (run ids ${source.runId.split(",").join(", ")})` : "";
    const ramp = profile.rampSec === undefined ? "ramp not recorded" : `ramp ${profile.rampSec} s`;
    const sizes = profile.workloads
      ? profile.workloads
          .map((workload) => `${workload.id} ${workload.numjobs}×${formatJobSize(workload.size)}`)
          .join(", ")
      : "not recorded";
    return `- ${sourceNumber(index)} ${source.kind} \`${sourceLabel(source)}\`${runIds}, ${document.createdAt}: profile \`${profile.id}\`, ${profile.runtimeSec} s per run, ${ramp}, ${profile.repeat} repeat(s), ioengine ${profile.ioengine}, direct=${profile.direct ? 1 : 0}${profile.precondition ? ", device targets filled before their first run" : ""}, ${fio.join(", ") || "no runs"}; size per job: ${sizes}`;
  });
  return ["### Sources", "", ...lines].join("\n");
}

/** Failed runs and runs never reached, per source: what the tables below do not hold. */
function incompleteSection(data: ReportData): string[] {
  const lines = data.documents.flatMap((document, index) => [
    ...(document.failures ?? []).map(
      (failure) =>
        `- ${sourceNumber(index)} ${mdText(failure.variant)} / ${mdText(failure.workload)} #${failure.attempt}: **failed**: ${mdText(failure.message)}`,
    ),
    ...(document.notRun ?? []).map(
      (entry) =>
        `- ${sourceNumber(index)} ${mdText(entry.variant)} / ${mdText(entry.workload)} #${entry.attempts.join(", #")}: **not run** (${entry.reason}): ${mdText(entry.message)}`,
    ),
    ...unaccountedRuns(document).map(
      (entry) =>
        `- ${sourceNumber(index)} ${mdText(entry.variant)} / ${mdText(entry.workload)}: **missing** ${entry.missing} of ${entry.expected} run(s): neither measured, failed nor listed as not run (the run that wrote this file ended without a word: killed?)`,
    ),
  ]);
  return lines.length > 0
    ? [
        "## Incomplete: runs missing from the tables",
        "",
        "These runs failed or never ran; the tables and charts show only the runs that were measured.",
        "",
        ...lines,
        "",
      ]
    : [];
}

/** The flags in the tables explained, and the ones that call the number into question listed with their reason. */
function warningsSection(data: ReportData): string[] {
  const all = data.warnings.flatMap((warnings, index) => warnings.map((warning) => ({ ...warning, index })));
  if (all.length === 0) return [];
  const codes = WARNING_CODES.filter((code) => all.some((warning) => warning.code === code));
  // buffered-io concerns every number of a buffered profile: said once, not per row.
  const listed = all.filter((warning) => warning.code !== "buffered-io");
  return [
    "## Flags",
    "",
    ...codes.map((code) => `- \`${code}\`: ${WARNING_MEANINGS[code]}.`),
    "",
    ...listed.map(
      (warning) =>
        `- ${sourceNumber(warning.index)} ${mdText(warning.variant)} / ${mdText(warning.workload)}: \`${warning.code}\`: ${mdText(warning.message)}`,
    ),
    ...(listed.length > 0 ? [""] : []),
  ];
}

/** The runs second by second, where fio logged them, and which did not settle. */
function seriesSection(data: ReportData): ReportPart[] {
  if (
    !data.documents.some((document) =>
      document.variants.some((variant) =>
        variant.workloads.some((workload) => workload.runs.some((run) => run.series)),
      ),
    )
  )
    return [];
  return [
    "## During the runs",
    "",
    "Each run second by second, from fio's own logs (IOPS of all jobs, averaged over each second; a mixed workload's panels each show their own direction). A run is steady from the first second whose rest of the run (at least half of it) holds the steady-state rule of SNIA's Solid State Storage Performance Test Specification (version 2.0.2, 2020): five rounds, their means within 20 % of their average, their fitted line rising or falling by at most 10 % of it, the rounds long enough for the run's per-second noise. One that never settles is flagged `not-steady`; one that settled late, its steady part's mean 5 % or more off the whole run's, `settled-late`. Under --steady, fio's own criterion judges each run instead: a run it ended is steady, one that took its full --runtime is not.",
    "",
    chartImage(ANALYSIS_CHARTS.series),
    "",
  ];
}

/** Tail latency: every variant's percentiles, where fio reported them. */
function tailSection(data: ReportData): ReportPart[] {
  if (percentileCurves(data).length === 0) return [];
  return [
    "## Tail latency",
    "",
    data.variants.length > MAX_LABELLED_VARIANTS
      ? `Completion latency at the highest percentile fio reported for every variant (fio's \`clat_ns.percentile\`), the mean over each variant's runs, against the baseline's: with ${data.variants.length} variants, a cell each instead of a curve each.`
      : "Completion latency at the median, 90th, 99th, 99.9th and 99.99th percentiles (fio's `clat_ns.percentile`), the mean over each variant's runs: where one variant's tail rises and another's stays flat.",
    "",
    chartImage(ANALYSIS_CHARTS.percentiles),
    "",
  ];
}

/** What each layer costs: per workload, the baseline, then each layer's best variant and its median. */
function layersSection(data: ReportData): ReportPart[] {
  const layers = panelLayers(data);
  if (layers.length === 0 || !data.baseline) return [];
  return [
    "## Layer by layer",
    "",
    `IOPS against the baseline **${data.baseline.markdownLabel}**, per layer above it: its best variant and the median of its variants.`,
    "",
    chartImage(ANALYSIS_CHARTS.layers),
    "",
    {
      headings: ["Workload", "Layer", "Best variant", "Best", "Median", "n"],
      alignRight: [false, false, false, true, true, true],
      rows: layers.flatMap(({ panel, steps }) =>
        steps.map((step, index) => [
          index === 0 ? `${panelName(panel, data.panels)} · ${panel.direction}` : "",
          step.label,
          step.best.variant.markdownLabel,
          times(step.best.ratio),
          times(step.median),
          String(step.n),
        ]),
      ),
    },
    "",
  ];
}

function fasterThanBaselineNote(data: ReportData): string[] {
  const count = data.warnings.flat().filter((warning) => warning.code === "faster-than-baseline").length;
  return count > 0
    ? [
        `> **${count} number(s) faster than the baseline from a layer above it** (flag \`faster-than-baseline\`): a guest or a volume does not beat the storage under it; such a number measured a cache. See Flags below.`,
        "",
      ]
    : [];
}

/**
 * The fio versions of the numbers side by side, by layer, when there is more than one: a host on Proxmox VE 9 runs
 * Debian 13's fio, a guest from Debian 12's image another; the difference between them is then partly fio's.
 */
export function fioVersionNote(data: ReportData): string[] {
  const byVersion = new Map<string, Map<string, number>>();
  for (const { variant } of data.variants) {
    for (const version of fioVersions([variant])) {
      const layers = byVersion.get(version) ?? new Map<string, number>();
      layers.set(variant.layer, (layers.get(variant.layer) ?? 0) + 1);
      byVersion.set(version, layers);
    }
  }
  if (byVersion.size < 2) return [];
  const parts = [...byVersion]
    .sort(([a], [b]) => a.localeCompare(b, undefined, { numeric: true }))
    .map(
      ([version, layers]) =>
        `${version}: ${[...layers].map(([layer, count]) => `${layer} (${count} variant${count > 1 ? "s" : ""})`).join(", ")}`,
    );
  return [
    `> **fio differs between the numbers compared** (${parts.join("; ")}): part of a difference may be fio's own. Run one fio everywhere: on Proxmox VE 9 the default guest image (Debian 13) and pod image (\`debian:trixie-slim\`) have the host's; on 8.4, set \`vm.imageUrl\` to Debian 12's image and \`k8s.fioImage\` to \`debian:bookworm-slim\`.`,
    "",
  ];
}

/** What ran the sources that differs: named, since a difference in numbers may come from it. */
function environmentSection(data: ReportData): string[] {
  return quotedList(
    "**The sources ran on different software** (layer by layer); a difference between them may come from it:",
    data.environmentDifferences,
  );
}

function settingsSection(data: ReportData): string[] {
  return quotedList(
    "**Warning: the sources were measured with different settings**; their numbers may not be comparable:",
    data.settingsWarnings,
  );
}

function pageCacheSection(data: ReportData): string[] {
  const buffered = data.documents.flatMap((document, index) =>
    throughPageCache(document.profile) ? [`${sourceNumber(index)} profile \`${document.profile.id}\``] : [],
  );
  return buffered.length > 0
    ? [
        `> **Buffered I/O** (${buffered.join(", ")}): fio wrote through the page cache (direct=0). Writes land in the RAM of the machine that runs fio and reach the disk later; a layer with more RAM for caching (a guest's page cache) can beat the disk under it. Use a direct profile (\`--direct\`, \`kbench\`) to measure the storage.${measuresRbdImages(data) ? " fio's rbd engine has no page cache under it: on RBD images direct=0 means librbd's own cache, as the client configures it (flag `client-cache`); direct=1 turns it off." : ""}`,
        "",
      ]
    : [];
}

/** --steady: how many runs ended once fio's criterion held, and the time that saved. */
function steadyNote(data: ReportData): string[] {
  return data.documents.flatMap((document, index) => {
    if (!document.profile.steady) return [];
    const runs = document.variants.flatMap((variant) => variant.workloads.flatMap((workload) => workload.runs));
    const ranSec = runs.reduce(
      (sum, run) => sum + Math.max(...DIRECTIONS.map((direction) => run[direction]?.runtimeMs ?? 0)) / 1000,
      0,
    );
    const fullSec = runs.length * document.profile.runtimeSec;
    const settled = runs.filter((run) => run.steadyAttained).length;
    return [
      `> **--steady** (${sourceNumber(index)}): ${settled} of ${runs.length} runs ended once fio's steadystate held (${STEADY_CRITERION}); the runs took ${ranSec.toFixed(0)} s of the ${fullSec} s their --runtime allowed, ${fullSec > 0 ? Math.max(0, (1 - ranSec / fullSec) * 100).toFixed(0) : 0} % saved. A run that never settled ran its full --runtime.`,
      "",
    ];
  });
}

function estimateNote(data: ReportData): string[] {
  return data.panels.some((panel) => panel.cells.some((entry) => entry.estimatedPercentiles))
    ? [
        `${ESTIMATE_MARK} p99 estimated: several fio processes reported without json+ histograms; the value is the IO-weighted mean of their p99s, not the p99 of all I/Os.`,
        "",
      ]
    : [];
}

/** report.md in parts, for report.md itself and for report.html (html.ts). */
export function reportParts(data: ReportData): ReportPart[] {
  const baseline = data.baseline
    ? `Ratios are against the baseline **${data.baseline.markdownLabel}** (higher is better for IOPS and bandwidth, lower for latency).`
    : "No baseline variant: no ratios.";
  const charts = CHARTS.map(chartImage).join("\n");
  const emulated = data.variants
    .filter(({ variant }) => variant.options.accel === "tcg")
    .map(({ markdownLabel }) => markdownLabel.replace(/ \(.*$/, ""));
  const tcgWarning =
    emulated.length > 0
      ? [
          `> **Warning: ${EMULATED_CPU_WARNING}.** ${emulated.join(", ")} ran in a local guest without KVM (QEMU's TCG): the numbers show what emulation costs, not what VirtIO costs a KVM guest.`,
          "",
        ]
      : [];
  // The answer first, then what qualifies it, the analyses and every number; how it was measured last.
  return [
    "# layerbench report",
    "",
    ...incompleteSection(data),
    ...settingsSection(data),
    ...answerSection(data),
    ...etcdSection(data),
    ...fasterThanBaselineNote(data),
    ...pageCacheSection(data),
    ...tcgWarning,
    ...kbenchSummary(data),
    ...layersSection(data),
    ...effectsSection(data),
    "## Results",
    "",
    baseline,
    "Values are the mean over runs; ± is one standard deviation when a workload was repeated.",
    "",
    ...estimateNote(data),
    ...data.panels.flatMap((panel) => panelTable(panel, data)),
    charts,
    "",
    ...seriesSection(data),
    ...tailSection(data),
    ...warningsSection(data),
    "## Method",
    "",
    ...environmentSection(data),
    ...fioVersionNote(data),
    ...steadyNote(data),
    sourcesSection(data),
    "",
  ];
}

export function renderMarkdown(data: ReportData): string {
  return partsToMarkdown(reportParts(data));
}
