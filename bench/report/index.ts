import { promises as fs } from "node:fs";
import { join } from "node:path";
import { UserError } from "../errors.js";
import { toResultsDocument, type ResultsDocument } from "../results.js";
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

/** Reads a results document from a file (or a stack's outputs holding one), with one clear error when it is missing or not one. */
export async function readResultsFile(path: string): Promise<ResultsDocument> {
  let text: string;
  try {
    text = await fs.readFile(path, "utf8");
  } catch (error) {
    throw new UserError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UserError(`${path} is not valid JSON (${(error as Error).message})`);
  }
  return toResultsDocument(unwrapStackOutputs(value), path);
}

/** `pulumi stack output --json` (every output) holds the document under "results"; `... output results --json` is the document. */
function unwrapStackOutputs(value: unknown): unknown {
  if (typeof value === "object" && value !== null && !("schema" in value) && "results" in value) return value.results;
  return value;
}
