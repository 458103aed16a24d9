import { promises as fs } from "node:fs";
import { join } from "node:path";
import { mergeRunDocuments } from "../core/merge-runs.js";
import type { ResultsDocument } from "../core/results.js";
import { readResultsFile, writeResultsFile } from "../core/results-io.js";

// Every run a stack returned is kept in its own file, never overwritten; all-runs.json pools them for the report.

export interface SavedRun {
  runId: string;
  path: string;
  /** False when the same document was kept already (reading a stack's outputs twice). */
  isNew: boolean;
}

/** A run id as a file name: anything but letters, digits, dot, dash and underscore becomes a dash. */
function fileSafe(runId: string): string {
  return runId.replace(/[^A-Za-z0-9._-]/g, "-") || "run";
}

export interface GatheredRuns {
  path: string;
  pooled: number;
  /** Kept runs of another profile or runtime, not in all-runs.json. */
  leftOut: number;
}

export class RunStore {
  constructor(readonly dir: string) {}

  stackDir(stack: string): string {
    return join(this.dir, stack);
  }

  /** Keeps one run's document as run-<id>.json; a different document under a taken name gets run-<id>.2.json. */
  async save(stack: string, document: ResultsDocument): Promise<SavedRun> {
    const runId = document.source.kind === "pulumi" ? document.source.runId : document.createdAt;
    const text = `${JSON.stringify(document, null, 2)}\n`;
    await fs.mkdir(this.stackDir(stack), { recursive: true });
    for (let copy = 1; ; copy += 1) {
      const path = join(this.stackDir(stack), `run-${fileSafe(runId)}${copy > 1 ? `.${copy}` : ""}.json`);
      try {
        await fs.writeFile(path, text, { flag: "wx" });
        return { runId, path, isNew: true };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
        if ((await fs.readFile(path, "utf8")) === text) return { runId, path, isNew: false };
      }
    }
  }

  /**
   * Pools the kept runs of the stack, oldest first, into all-runs.json. Only runs of the newest run's profile
   * and runtime are pooled (numbers of other workloads would blur the spread); the others stay in their files.
   */
  async gather(stack: string): Promise<GatheredRuns> {
    const dir = this.stackDir(stack);
    const names = (await fs.readdir(dir)).filter((name) => /^run-.*\.json$/.test(name));
    const documents = [];
    for (const name of names)
      documents.push({ document: await readResultsFile(join(dir, name)), origin: join(dir, name) });
    // Oldest first; between equal times, run-<id>.json before its later copy run-<id>.2.json.
    const order = (origin: string) => origin.replace(/\.json$/, "");
    documents.sort(
      (a, b) =>
        a.document.createdAt.localeCompare(b.document.createdAt) || order(a.origin).localeCompare(order(b.origin)),
    );
    const newest = documents.at(-1)?.document.profile;
    const pooled = documents.filter(
      ({ document }) => document.profile.id === newest?.id && document.profile.runtimeSec === newest?.runtimeSec,
    );
    const path = join(dir, "all-runs.json");
    await writeResultsFile(path, mergeRunDocuments(pooled));
    return { path, pooled: pooled.length, leftOut: documents.length - pooled.length };
  }
}
