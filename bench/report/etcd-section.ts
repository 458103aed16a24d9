import { LAYERS_BOTTOM_UP } from "../core/layers.js";
import { formatStat, SHOWN_METRICS } from "../core/metrics.js";
import { ETCD_FDATASYNC_P99_NS } from "../core/profiles.js";
import { runValues, type Stat } from "../core/results.js";
import { panelName, type ReportData, type ReportPanel, type ReportVariant } from "./rows.js";
import type { ReportPart } from "./table.js";

// etcd's question of each layer: is the fdatasync after a write under 10 ms at the 99th percentile (etcd.io,
// Hardware recommendations)? Asked of every workload whose runs synced (the etcd profile, or a job file of yours).

type Verdict = "under" | "over" | "at the line";

interface Judged {
  variant: ReportVariant;
  /** The fdatasync p99 over the runs, from the summary. */
  p99: Stat;
  verdict: Verdict;
}

const SYNC_P99 = SHOWN_METRICS.find((metric) => metric.metric === "syncP99Ns") ?? SHOWN_METRICS[0];

/** Each run's p99 against the limit: all under, all over, or runs on both sides of it. */
function judged(panel: ReportPanel): Judged[] {
  return panel.cells.flatMap(({ variant, summary }) => {
    const p99 = summary.syncP99Ns;
    if (!p99) return [];
    // The verdict needs each run's p99, not only their mean.
    const runs = variant.variant.workloads.find((workload) => workload.id === panel.workloadId)?.runs ?? [];
    const over = runValues(runs, panel.direction, "syncP99Ns").filter((value) => value >= ETCD_FDATASYNC_P99_NS);
    const verdict: Verdict = over.length === 0 ? "under" : over.length === p99.n ? "over" : "at the line";
    return [{ variant, p99, verdict }];
  });
}

const VERDICT_TEXT: Record<Verdict, string> = {
  under: "under 10 ms",
  over: "**over 10 ms**",
  "at the line": "**at the line**",
};

/** The lowest layer with a variant that is not under the limit, and which of its variants those are. */
function crossing(entries: Judged[]): string {
  const baseline = entries.find((entry) => entry.variant.baseline);
  if (baseline && baseline.verdict !== "under")
    return `The baseline ${baseline.variant.markdownLabel} is already ${VERDICT_TEXT[baseline.verdict]}: no layer above it can be under.`;
  for (const layer of LAYERS_BOTTOM_UP) {
    const failing = entries.filter((entry) => entry.variant.variant.layer === layer && entry.verdict !== "under");
    if (failing.length > 0)
      return `The line is crossed at the **${layer}** layer: ${failing.map((entry) => `${entry.variant.markdownLabel} (${formatStat(entry.p99, SYNC_P99)})`).join(", ")}.`;
  }
  return "Every variant is under etcd's 10 ms.";
}

export function etcdSection(data: ReportData): ReportPart[] {
  const panels = data.panels.flatMap((panel) => {
    const entries = judged(panel);
    return entries.length > 0 ? [{ panel, entries }] : [];
  });
  if (panels.length === 0) return [];
  return [
    "## etcd's fdatasync check",
    "",
    `etcd wants the fdatasync after each write to take less than 10 ms at the 99th percentile (etcd.io, Hardware recommendations). Per variant, fio's fdatasync p99, the mean ± standard deviation over its runs; "at the line" when its runs fall on both sides.`,
    "",
    ...panels.flatMap(({ panel, entries }) => [
      `**${panelName(panel, data.panels)} · ${panel.direction}.** ${crossing(entries)}`,
      "",
      {
        headings: ["Variant", "Layer", "fdatasync p99", "Runs", "Verdict"],
        alignRight: [false, false, true, true, false],
        rows: entries.map(({ variant, p99, verdict }) => [
          variant.baseline ? `**${variant.markdownLabel}** (baseline)` : variant.markdownLabel,
          variant.variant.layer,
          formatStat(p99, SYNC_P99),
          String(p99.n),
          VERDICT_TEXT[verdict],
        ]),
      },
      "",
    ]),
  ];
}
