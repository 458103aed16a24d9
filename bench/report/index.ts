import { promises as fs } from "node:fs";
import { join } from "node:path";
import type { ResultsDocument } from "../core/results.js";
import { UserError } from "../util/errors.js";
import { makeDirectory, writeFileAtomic } from "../util/files.js";
import { analysisCharts } from "./analysis-charts.js";
import { CHARTS, REPORT_FILES } from "./chart-definitions.js";
import type { ChartOptions } from "./chart-options.js";
import { compileSpec, renderChartSvg, renderVegaSvg } from "./charts.js";
import { renderHtml } from "./html.js";
import { reportParts } from "./markdown.js";
import { collectReportData } from "./rows.js";
import { partsToMarkdown } from "./table.js";

export class ReportExistsError extends UserError {}

export interface WrittenReport {
  files: string[];
  /** Settings that differ between the documents (core/settings.ts): shown atop report.md, for the CLI to print too. */
  warnings: string[];
}

/**
 * Writes the four charts and report.md for one or more results documents. An existing report is replaced only
 * with `replace`: a report is never overwritten silently.
 */
export async function writeReport(
  documents: ResultsDocument[],
  outDir: string,
  options: { replace?: boolean } & Partial<ChartOptions> = {},
): Promise<WrittenReport> {
  const data = collectReportData(documents);
  if (data.panels.length === 0) throw new UserError("nothing to report: the results hold no measured runs");
  if (!options.replace) {
    const existing = (await fs.readdir(outDir).catch((): string[] => [])).filter((name) => REPORT_FILES.includes(name));
    if (existing.length > 0)
      throw new ReportExistsError(
        `${outDir} already holds a report (${existing.join(", ")}): choose another --out, or --force to replace it`,
      );
  }
  // Render everything first, so that a failure leaves no half-written report behind.
  const files = new Map<string, string>();
  const chartOptions: ChartOptions = { latencyScale: options.latencyScale ?? "linear" };
  for (const chart of CHARTS) files.set(chart.file, await renderChartSvg(data, chart, chartOptions));
  // Compiled once, for its SVG and for report.html.
  const analysis = analysisCharts(data).map(({ file, spec }) => ({ file, spec: compileSpec(spec) }));
  for (const { file, spec } of analysis) files.set(file, await renderVegaSvg(spec));
  const parts = reportParts(data);
  files.set("report.md", partsToMarkdown(parts));
  files.set("report.html", renderHtml(data, parts, analysis));
  await makeDirectory(outDir);
  // Each file whole or not at all: a full disk leaves no truncated report.html behind. And the report whole or not
  // at all: the files written before one that fails are removed, so that no part of a report blocks the next.
  const written: string[] = [];
  try {
    for (const [name, content] of files) {
      await writeFileAtomic(join(outDir, name), content);
      written.push(name);
    }
  } catch (error) {
    await Promise.all(written.map((name) => fs.rm(join(outDir, name), { force: true })));
    throw error;
  }
  return { files: [...files.keys()].map((name) => join(outDir, name)), warnings: data.settingsWarnings };
}
