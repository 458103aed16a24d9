import type { DirectionSummary, Stat } from "../core/results.js";
import { formatIops, formatLatency, formatRate } from "../util/format.js";
import type { ReportData } from "./rows.js";

// kbench's own summary (longhorn/kbench fio/func.sh): IOPS, bandwidth and latency, each random and sequential,
// read and write, from the IOPS, bandwidth and latency groups; here one column per variant, and the change against
// the baseline in %, as kbench's compare prints it. Latency is fio's total latency (lat_ns), as kbench reads it.

const ROWS = [
  { group: "iops", heading: "IOPS", format: formatIops },
  { group: "bw", heading: "Bandwidth", format: formatRate },
  { group: "lat", heading: "Latency", format: formatLatency },
] as const;

const PATTERNS = [
  { prefix: "rand-read", label: "random read", direction: "read" },
  { prefix: "rand-write", label: "random write", direction: "write" },
  { prefix: "seq-read", label: "sequential read", direction: "read" },
  { prefix: "seq-write", label: "sequential write", direction: "write" },
] as const;

function value(summary: DirectionSummary | undefined, group: (typeof ROWS)[number]["group"]): Stat | undefined {
  if (!summary) return undefined;
  if (group === "iops") return summary.iops;
  if (group === "bw") return summary.bwBytes;
  return summary.latTotalMeanNs ?? summary.latMeanNs;
}

/** The kbench view, for reports of kbench runs; empty for other profiles. */
export function kbenchSummary(data: ReportData): string[] {
  const variants = data.variants.filter((variant) => data.documents[variant.documentIndex].profile.id === "kbench");
  if (variants.length === 0) return [];
  const base = data.baseline && variants.includes(data.baseline) ? data.baseline : undefined;
  const lines = [
    "## kbench summary",
    "",
    "As Longhorn's kbench prints it: mean over runs; latency is the total (submission + completion), as kbench reads it" +
      (base ? `; in parentheses the change against the baseline **${base.markdownLabel}**.` : "."),
    "",
    `| | ${variants.map((variant) => variant.markdownLabel).join(" | ")} |`,
    `| --- |${variants.map(() => " ---: |").join("")}`,
  ];
  for (const row of ROWS) {
    for (const pattern of PATTERNS) {
      const workload = `${pattern.prefix}-${row.group}`;
      const stat = (key: string) =>
        value(
          data.variants
            .find((candidate) => candidate.key === key)
            ?.variant.workloads.find((entry) => entry.id === workload)?.summary[pattern.direction],
          row.group,
        );
      const baseStat = base ? stat(base.key) : undefined;
      const cells = variants.map((variant) => {
        const own = stat(variant.key);
        if (!own) return "–";
        if (!baseStat || variant === base || baseStat.mean === 0) return row.format(own.mean);
        const change = ((own.mean - baseStat.mean) / baseStat.mean) * 100;
        return `${row.format(own.mean)} (${change >= 0 ? "+" : ""}${change.toFixed(2)} %)`;
      });
      lines.push(`| ${row.heading}, ${pattern.label} | ${cells.join(" | ")} |`);
    }
  }
  return [...lines, ""];
}
