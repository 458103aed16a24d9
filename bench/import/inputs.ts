import { type Dirent, promises as fs } from "node:fs";
import { basename, join, resolve } from "node:path";
import { logKind } from "../core/series.js";
import { fsReason, UserError } from "../util/errors.js";

// The fio outputs someone already has, as `layerbench import` finds them: a directory VARIANT/WORKLOAD.json
// (or .json+, or fio-plot's bench-fio layout), or one JSON file mapping variant -> workload -> fio output (or a list
// of them, one per repeat).

export interface FoundOutput {
  variant: string;
  workload: string;
  /** Where it came from, as error messages name it: the file, and in a map file the JSON path. */
  origin: string;
  text: string;
  /** The file's modification time: when fio's own timestamp is missing. */
  modifiedAt: Date;
  /** fio's per-second logs found beside the output (logsBeside), by kind. */
  logs?: Record<"iops" | "bw" | "clat", string[]>;
}

/**
 * The log prefixes an output's logs may have: its own name ("randread-16-8_iops.1.log" beside "randread-16-8.json"),
 * and fio-plot's, whose bench-fio names the output MODE-IODEPTH-NUMJOBS.json and its logs
 * MODE-iodepth-IODEPTH-numjobs-NUMJOBS_iops.N.log (bench_fio/benchlib/runfio.py and its job templates).
 */
function logPrefixes(workload: string): string[] {
  const fioPlot = /^(.+)-(\d+)-(\d+)$/.exec(workload);
  return [workload, ...(fioPlot ? [`${fioPlot[1]}-iodepth-${fioPlot[2]}-numjobs-${fioPlot[3]}`] : [])];
}

/** The per-second logs beside an output, when there are any (core/series.ts reads them). */
async function logsBeside(dir: string, names: string[], workload: string): Promise<FoundOutput["logs"]> {
  const logs: Record<"iops" | "bw" | "clat", string[]> = { iops: [], bw: [], clat: [] };
  for (const prefix of logPrefixes(workload)) {
    for (const name of names) {
      const kind = logKind(name, prefix);
      if (kind) logs[kind].push(await fs.readFile(join(dir, name), "utf8"));
    }
    if (logs.iops.length > 0) return logs;
  }
  return undefined;
}

export class ImportInputError extends UserError {}

const OUTPUT_FILE = /^(.+)\.json\+?$/;

/** Names with numbers in their numeric order (randread-2 before randread-16), as the report shows them. */
const naturalOrder = (a: string, b: string) => a.localeCompare(b, "en", { numeric: true });

/**
 * bench-fio's folders below a target (fio-plot bench_fio/benchlib/supporting.py, generate_output_directory): a block
 * size ("4k"), under a mixed mode's "randrw70" (its rwmixread), and "run-N" for the preconditioning runs of
 * --precondition-repeat, which are not measurements.
 */
const BENCH_FIO_BLOCK_SIZE = /^\d+[kmgt]?$/i;
const BENCH_FIO_MIXED = /^(readwrite|rw|randrw)\d+$/;
const BENCH_FIO_PRECONDITION = /^run-\d+$/;

/** The outputs under a variant's directory, at any depth, with their folders below it; preconditioning skipped. */
async function outputsUnder(dir: string, folders: string[] = []): Promise<Array<{ folders: string[]; name: string }>> {
  const entries = (await fs.readdir(dir, { withFileTypes: true })).sort((a, b) => naturalOrder(a.name, b.name));
  const found = entries
    .filter((entry) => entry.isFile() && OUTPUT_FILE.test(entry.name))
    .map((entry) => ({ folders, name: entry.name }));
  for (const entry of entries) {
    if (!entry.isDirectory() || BENCH_FIO_PRECONDITION.test(entry.name)) continue;
    found.push(...(await outputsUnder(join(dir, entry.name), [...folders, entry.name])));
  }
  return found;
}

/** Whether a directory is one target of bench-fio's output: its folders are block sizes (or mixed modes). */
function isBenchFioTarget(entries: Dirent[]): boolean {
  const folders = entries.filter((entry) => entry.isDirectory() && !BENCH_FIO_PRECONDITION.test(entry.name));
  return (
    folders.length > 0 &&
    folders.every((entry) => BENCH_FIO_BLOCK_SIZE.test(entry.name) || BENCH_FIO_MIXED.test(entry.name))
  );
}

/**
 * A directory of VARIANT/WORKLOAD.json, of bench-fio's OUT/TARGET/BS/MODE-IODEPTH-NUMJOBS.json (each target a
 * variant), or one TARGET directory of it (the variant named after it). A workload is named after its file, with
 * its folders below the variant ("64k/randread-16-8") when the variants' outputs lie in more than one.
 */
async function fromDirectory(dir: string): Promise<FoundOutput[]> {
  const entries = (await fs.readdir(dir, { withFileTypes: true })).sort((a, b) => naturalOrder(a.name, b.name));
  const stray = entries.find((entry) => entry.isFile() && OUTPUT_FILE.test(entry.name));
  if (stray) {
    throw new ImportInputError(
      `${join(dir, stray.name)}: a fio output directly in the input directory has no variant: put it at ${join(dir, "VARIANT", stray.name)}`,
    );
  }
  const variants = isBenchFioTarget(entries)
    ? [{ name: basename(resolve(dir)), path: dir }]
    : entries
        .filter((entry) => entry.isDirectory())
        .map((entry) => ({ name: entry.name, path: join(dir, entry.name) }));
  const listed = await Promise.all(
    variants.map(async (variant) => ({ ...variant, outputs: await outputsUnder(variant.path) })),
  );
  const foldered = new Set(listed.flatMap(({ outputs }) => outputs.map(({ folders }) => folders.join("/")))).size > 1;
  const found: FoundOutput[] = [];
  for (const variant of listed) {
    for (const { folders, name } of variant.outputs) {
      const folder = join(variant.path, ...folders);
      const path = join(folder, name);
      const file = OUTPUT_FILE.exec(name)?.[1] ?? name;
      const [text, stat, logs] = await Promise.all([
        fs.readFile(path, "utf8"),
        fs.stat(path),
        fs.readdir(folder).then((names) => logsBeside(folder, names, file)),
      ]);
      found.push({
        variant: variant.name,
        workload: foldered ? [...folders, file].join("/") : file,
        origin: path,
        text,
        modifiedAt: stat.mtime,
        ...(logs && { logs }),
      });
    }
  }
  if (found.length === 0)
    throw new ImportInputError(
      `${dir}: no fio outputs: expected VARIANT/WORKLOAD.json (or .json+) files under it, or bench-fio's TARGET/BS/MODE-IODEPTH-NUMJOBS.json`,
    );
  return found;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** A JSON path the way a reader finds the place again: $.nvme["rand read"][1]. */
function pathPart(key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

async function fromMapFile(file: string): Promise<FoundOutput[]> {
  const [text, stat] = await Promise.all([fs.readFile(file, "utf8"), fs.stat(file)]);
  let map: unknown;
  try {
    map = JSON.parse(text);
  } catch (error) {
    throw new ImportInputError(`${file}: not JSON: ${(error as Error).message}`);
  }
  if (isObject(map) && "fio version" in map) {
    throw new ImportInputError(
      `${file}: one fio output names no variant: put it at VARIANT/${basename(file)} in a directory, or in a map file {"VARIANT": {"WORKLOAD": output}}`,
    );
  }
  if (!isObject(map))
    throw new ImportInputError(`${file}: $: expected an object mapping variant -> workload -> fio output`);
  const found: FoundOutput[] = [];
  for (const [variant, workloads] of Object.entries(map)) {
    const variantPath = `$${pathPart(variant)}`;
    if (!isObject(workloads))
      throw new ImportInputError(`${file}: ${variantPath}: expected an object mapping workload -> fio output`);
    for (const [workload, value] of Object.entries(workloads)) {
      const workloadPath = `${variantPath}${pathPart(workload)}`;
      const repeats = Array.isArray(value)
        ? value.map((entry, index) => [entry, `${workloadPath}[${index}]`])
        : [[value, workloadPath]];
      for (const [output, path] of repeats as Array<[unknown, string]>) {
        if (!isObject(output) && typeof output !== "string")
          throw new ImportInputError(`${file}: ${path}: expected a fio JSON output (an object, or fio's text)`);
        found.push({
          variant,
          workload,
          origin: `${file}: ${path}`,
          text: typeof output === "string" ? output : JSON.stringify(output),
          modifiedAt: stat.mtime,
        });
      }
    }
  }
  return found;
}

/** Every output of every input, in input order; a path that is neither a directory nor a file is refused. */
export async function findOutputs(inputs: string[]): Promise<FoundOutput[]> {
  if (inputs.length === 0) throw new ImportInputError("import needs at least one input: a directory or a map file");
  const found: FoundOutput[] = [];
  for (const input of inputs) {
    const stat = await fs.stat(input).catch((error: NodeJS.ErrnoException) => {
      throw new ImportInputError(`${input}: cannot read it: ${fsReason(error)}`);
    });
    found.push(...(stat.isDirectory() ? await fromDirectory(input) : await fromMapFile(input)));
  }
  return found;
}
