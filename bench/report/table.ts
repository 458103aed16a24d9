import { mdText } from "./markdown-text.js";

// A table of the report as data, so that each output writes it in its own form: report.md as a pipe table,
// report.html as an HTML table (html.ts) without parsing the markdown back (a hundred variants make tables of
// two thousand rows, most of the markdown a page would parse).

export interface Table {
  headings: string[];
  /** Per column: numbers are right-aligned. */
  alignRight: boolean[];
  /** Cells in markdown (a baseline's name in bold). */
  rows: string[][];
}

export function markdownTable(table: Table): string {
  return [
    `| ${table.headings.join(" | ")} |`,
    `|${table.alignRight.map((right) => (right ? " ---: " : " --- ")).join("|")}|`,
    ...table.rows.map((row) => `| ${row.join(" | ")} |`),
  ].join("\n");
}

/** report.md in parts: markdown text, and the tables that html.ts writes without a markdown parser. */
export type ReportPart = string | Table;

export function partsToMarkdown(parts: ReportPart[]): string {
  return parts.map((part) => (typeof part === "string" ? part : markdownTable(part))).join("\n");
}

/**
 * A quoted note: its heading line (Markdown), then one quoted item per line, each text (they name targets, paths and
 * variants: escaped); nothing when there are no lines.
 */
export function quotedList(heading: string, lines: string[]): string[] {
  return lines.length > 0 ? [`> ${heading}`, ...lines.map((line) => `> - ${mdText(line)}`), ""] : [];
}
