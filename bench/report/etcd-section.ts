import { LAYERS_BOTTOM_UP } from "../core/layers.js";
import { ETCD_FDATASYNC_P99_NS } from "../core/profiles.js";
import { runValues, stat } from "../core/results.js";
import { formatLatency, formatWithSpread, latencyUnit } from "../util/format.js";
import { panelName, type ReportData, type ReportPanel, type ReportVariant } from "./rows.js";
import type { ReportPart } from "./table.js";

// etcd's question of each layer: is the fdatasync after a write under 10 ms at the 99th percentile (etcd.io,
// Hardware recommendations)? Asked of every workload whose runs synced (the etcd profile, or a job file of yours).

type Verdict = "under" | "over" | "at the line";

interface Judged {
  variant: ReportVariant;
  p99s: number[];
  verdict: Verdict;
}

/** Each run's p99 against the limit: all under, all over, or runs on both sides of it. */
function judged(panel: ReportPanel): Judged[] {
  return panel.cells.flatMap(({ variant }) => {
    const runs = variant.variant.workloads.find((workload) => workload.id === panel.workloadId)?.runs ?? [];
    const p99s = runValues(runs, panel.direction, "syncP99Ns");
    if (p99s.length === 0) return [];
    const over = p99s.filter((value) => value >= ETCD_FDATASYNC_P99_NS).length;
    const verdict: Verdict = over === 0 ? "under" : over === p99s.length ? "over" : "at the line";
    return [{ variant, p99s, verdict }];
  });
}

const spread = (values: number[]) => {
  const { mean, stdev } = stat(values);
  return values.length > 1 ? formatWithSpread(latencyUnit, mean, stdev) : formatLatency(mean);
};

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
      return `The line is crossed at the **${layer}** layer: ${failing.map((entry) => `${entry.variant.markdownLabel} (${spread(entry.p99s)})`).join(", ")}.`;
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
        rows: entries.map(({ variant, p99s, verdict }) => [
          variant.baseline ? `**${variant.markdownLabel}** (baseline)` : variant.markdownLabel,
          variant.variant.layer,
          spread(p99s),
          String(p99s.length),
          VERDICT_TEXT[verdict],
        ]),
      },
      "",
    ]),
  ];
}
