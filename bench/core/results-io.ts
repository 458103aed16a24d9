import { UserError } from "../util/errors.js";
import { readTextFile, writeFileAtomic } from "../util/files.js";
import { type ResultsDocument, toResultsDocument } from "./results.js";

// Results documents on disk: read and validated in one place, written atomically in one place.

/** Written whole or not at all: a reader (report, a second process) never sees half a document. */
export function writeResultsFile(path: string, document: ResultsDocument): Promise<void> {
  return writeFileAtomic(path, `${JSON.stringify(document, null, 2)}\n`);
}

/** Reads a results document from a file (or a stack's outputs holding one), with one clear error when it is missing or not one. */
export async function readResultsFile(path: string): Promise<ResultsDocument> {
  const text = await readTextFile(path);
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
