// Names come from users and files (a target's name, a job file's sections, an import's keys): in report.md they are
// text. Each character Markdown or HTML would read as markup gets CommonMark's backslash escape, and GFM's `\|` keeps
// a name in its table cell.

const MARKUP = /[\\`*[\]<>|~&]/g;

/** `text` as Markdown shows it: the same characters, none of them markup. */
export const mdText = (text: string) => text.replace(MARKUP, (character) => `\\${character}`);
