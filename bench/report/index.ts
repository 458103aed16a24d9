import { promises as fs } from "node:fs";
import { join } from "node:path";
import type { ResultsDocument } from "../core/results.js";
import { UserError } from "../util/errors.js";
import { CHARTS, renderChartSvg } from "./charts.js";
import { renderMarkdown } from "./markdown.js";
import { collectReportData } from "./rows.js";

/** Writes the four charts and report.md for one or more results documents; returns the files written. */
export async function writeReport(documents: ResultsDocument[], outDir: string): Promise<string[]> {
  const data = collectReportData(documents);
  if (data.panels.length === 0) throw new UserError("nothing to report: the results hold no measured runs");
  // Render everything first, so that a failure leaves no half-written report behind.
  const files = new Map<string, string>();
  for (const chart of CHARTS) files.set(chart.file, await renderChartSvg(data, chart));
  files.set("report.md", renderMarkdown(data));
  await fs.mkdir(outDir, { recursive: true });
  for (const [name, content] of files) await fs.writeFile(join(outDir, name), content);
  return [...files.keys()].map((name) => join(outDir, name));
}
