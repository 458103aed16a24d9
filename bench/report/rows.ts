import {
  DIRECTIONS,
  type Direction,
  type DirectionSummary,
  EMULATED_CPU_WARNING,
  type ResultsDocument,
  type Source,
  type Variant,
} from "../core/results.js";
import { reportDifferences, reportEnvironmentDifferences } from "../core/settings.js";
import { deriveWarnings, type ResultWarning } from "../core/warnings.js";
import { mdText } from "./markdown-text.js";

/** A variant as the report shows it, across every document given. */
export interface ReportVariant {
  key: string;
  label: string;
  /** The label as report.md writes it: the variant's name escaped (markdown-text.ts), the report's own marks not. */
  markdownLabel: string;
  baseline: boolean;
  variant: Variant;
  /** Which document it comes from (0-based). */
  documentIndex: number;
}

/** One workload in one direction: the unit a table and a chart panel show. */
export interface ReportPanel {
  workloadId: string;
  title: string;
  direction: Direction;
  cells: Array<{
    variant: ReportVariant;
    summary: DirectionSummary;
    /** A run's percentiles are estimates (several fio processes without json+): shown marked. */
    estimatedPercentiles: boolean;
    /** Warnings about this variant's numbers of this workload (core/warnings.ts). */
    warnings: ResultWarning[];
  }>;
}

export interface ReportData {
  documents: ResultsDocument[];
  /** Settings that differ between the documents, each against the first: the numbers may not be comparable. */
  settingsWarnings: string[];
  /** What ran them that differs (kernel, Proxmox VE, QEMU...), each against the first, layer by layer. */
  environmentDifferences: string[];
  /** Per document, the warnings about its numbers. */
  warnings: ResultWarning[][];
  variants: ReportVariant[];
  baseline?: ReportVariant;
  panels: ReportPanel[];
}

/** "[2]": how labels and report.md's Sources refer to the second document of a report. */
export function sourceNumber(documentIndex: number): string {
  return `[${documentIndex + 1}]`;
}

export function sourceLabel(source: Source): string {
  if (source.kind === "local") return source.host;
  if (source.kind === "import") return `import of ${source.from}`;
  // Gathered runs (layerbench matrix up --runs N) carry every run id; the Sources section lists them.
  const runIds = source.runId.split(",");
  return `${source.stack}@${runIds.length > 1 ? `${runIds.length} runs` : source.runId}`;
}

/** A label's mark of a variant run in a local guest under TCG; the caveat itself is said once (emulatedCpuNote). */
const EMULATED_CPU_MARK = EMULATED_CPU_WARNING.split(":")[0];

function variantLabel(variant: Variant, prefix: string, name: (id: string) => string = (id) => id): string {
  // Flushes never reach the disk with cache=unsafe: its numbers are not comparable, say so where they are shown.
  const warnings = [
    ...(variant.options.cache === "unsafe" ? ["unsafe: ignores flushes"] : []),
    ...(variant.options.accel === "tcg" ? [EMULATED_CPU_MARK] : []),
  ];
  return `${prefix}${name(variant.id)}${warnings.map((warning) => ` (${warning})`).join("")}`;
}

/**
 * What a chart's subtitle says once about the variants marked "(emulated CPU)": a local guest under TCG measures
 * what emulation costs, not VirtIO. Absent when no variant ran so.
 */
export function emulatedCpuNote(data: ReportData): string | undefined {
  return data.variants.some((entry) => entry.variant.options.accel === "tcg") ? EMULATED_CPU_WARNING : undefined;
}

/** Whether fio's rbd engine measured some variant: its direct=0 is librbd's cache, not a page cache (flag client-cache). */
export function measuresRbdImages(data: ReportData): boolean {
  return data.variants.some((entry) => entry.variant.options.engine === "rbd");
}

/** Lines up the variants and workloads of one or more results documents; the first document's baseline is the baseline. */
export function collectReportData(documents: ResultsDocument[]): ReportData {
  const variants: ReportVariant[] = documents.flatMap((document, documentIndex) =>
    document.variants.map((variant) => {
      // With several documents every variant says where it ran, with the number of its source in report.md.
      const prefix = documents.length > 1 ? `${sourceNumber(documentIndex)} ${sourceLabel(document.source)}/` : "";
      return {
        key: `${documentIndex}:${variant.id}`,
        label: variantLabel(variant, prefix),
        markdownLabel: variantLabel(variant, prefix, mdText),
        baseline: documentIndex === 0 && variant.baseline,
        variant,
        documentIndex,
      };
    }),
  );
  // Derived again rather than read: documents written before the warnings existed get them too.
  const warnings = documents.map((document) => deriveWarnings(document));
  // Each cell's warnings by key: filtering them all for each cell took 10 ms at 2,000 cells.
  const cellWarningsOf = new Map<string, ResultWarning[]>();
  warnings.forEach((list, documentIndex) => {
    for (const warning of list) {
      const key = `${documentIndex}:${warning.variant}\n${warning.workload}`;
      const known = cellWarningsOf.get(key);
      if (known) known.push(warning);
      else cellWarningsOf.set(key, [warning]);
    }
  });
  const panels: ReportPanel[] = [];
  for (const { variant } of variants) {
    for (const workload of variant.workloads) {
      for (const direction of DIRECTIONS) {
        if (!workload.summary[direction]) continue;
        if (!panels.some((panel) => panel.workloadId === workload.id && panel.direction === direction)) {
          panels.push({ workloadId: workload.id, title: workload.title ?? workload.id, direction, cells: [] });
        }
      }
    }
  }
  for (const panel of panels) {
    for (const reportVariant of variants) {
      const workload = reportVariant.variant.workloads.find((candidate) => candidate.id === panel.workloadId);
      const summary = workload?.summary[panel.direction];
      if (!workload || !summary) continue;
      const estimatedPercentiles = workload.runs.some((run) => run[panel.direction]?.latencyNs.percentilesEstimated);
      const cellWarnings =
        cellWarningsOf.get(`${reportVariant.documentIndex}:${reportVariant.variant.id}\n${panel.workloadId}`) ?? [];
      panel.cells.push({ variant: reportVariant, summary, estimatedPercentiles, warnings: cellWarnings });
    }
  }
  const baseline = variants.find((variant) => variant.baseline);
  const names = documents.map((document, index) => `${sourceNumber(index)} ${sourceLabel(document.source)}`);
  const settingsWarnings = reportDifferences(documents, names);
  const environmentDifferences = reportEnvironmentDifferences(documents, names);
  return {
    documents,
    settingsWarnings,
    environmentDifferences,
    warnings,
    variants,
    ...(baseline && { baseline }),
    panels,
  };
}

/** A panel's name in charts and headings; the direction is named only when the workload does both. */
export function panelName(panel: ReportPanel, panels: ReportPanel[]): string {
  const both = panels.filter((other) => other.workloadId === panel.workloadId).length > 1;
  return both ? `${panel.title} (${panel.direction})` : panel.title;
}

/** The panel name over two lines, broken at the first ", " ("4 KiB random write" / "1 job, QD1"), for chart headers. */
export function panelHeader(panel: ReportPanel, panels: ReportPanel[]): string {
  return panelName(panel, panels).replace(", ", "\n");
}
