import { Marked, Renderer } from "marked";
import type { ReportPart, Table } from "./table.js";

// report.html's text and tables: report.md's parts as HTML, the big tables folded.

/**
 * Beyond this many rows a table of report.md comes folded (a <details> to open): a browser lays out every
 * table before it draws the charts, and a matrix of 100 variants has twenty of them, 1.5 s of the page's load.
 */
const FOLDED_TABLE_ROWS = 40;

/** A table of more rows than FOLDED_TABLE_ROWS, in a <details> to open. */
function folded(rows: number, table: string): string {
  return rows > FOLDED_TABLE_ROWS
    ? `<details><summary>${rows} rows: open the table</summary>${table}</details>\n`
    : table;
}

/** HTML's special characters as entities: text, never markup. */
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);

const markdownToHtml = new Marked({
  renderer: {
    table(token) {
      return folded(token.rows.length, Renderer.prototype.table.call(this, token));
    },
    // report.md writes no HTML of its own: any there came in with a name (a variant, a workload, an option read
    // from a results file or an import) and is shown as the text it is, never run.
    html(token) {
      return escapeHtml(token.text);
    },
  },
});

/** What a cell's markdown may mark up; a cell without any (most: numbers) is written as it is. */
const INLINE_MARKUP = /[*_`[\\<>&]/;

const inlineHtml = (text: string) =>
  INLINE_MARKUP.test(text) ? markdownToHtml.parseInline(text, { async: false }) : text;

function htmlTable(table: Table): string {
  const align = (index: number) => (table.alignRight[index] ? ' align="right"' : "");
  const row = (cells: string[], tag: "th" | "td") =>
    `<tr>${cells.map((cell, index) => `<${tag}${align(index)}>${inlineHtml(cell)}</${tag}>`).join("")}</tr>`;
  return folded(
    table.rows.length,
    `<table>\n<thead>\n${row(table.headings, "th")}\n</thead>\n<tbody>\n${table.rows.map((cells) => row(cells, "td")).join("\n")}\n</tbody>\n</table>\n`,
  );
}

/** A part of the page: report.md's (markdown text, a table), or an element of the page's own. */
export type HtmlPart = ReportPart | { html: string };

/** report.md's parts as HTML: its text through marked, its tables written directly; the page's own as they are. */
export function partsToHtml(parts: HtmlPart[]): string {
  const html: string[] = [];
  let text: string[] = [];
  const flushText = () => {
    if (text.length > 0) html.push(markdownToHtml.parse(text.join("\n"), { async: false }));
    text = [];
  };
  for (const part of parts) {
    if (typeof part === "string") text.push(part);
    else {
      flushText();
      html.push("html" in part ? part.html : htmlTable(part));
    }
  }
  flushText();
  return html.join("");
}
