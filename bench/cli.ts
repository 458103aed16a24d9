import { Command, InvalidArgumentError, Option } from "commander";
import { promises as fs } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { UserError } from "./errors.js";
import { parseFioOutput } from "./fio-parser.js";
import { consoleProgress } from "./local/progress.js";
import { runLocal } from "./local/run.js";
import { checkDistinctNames, parseTargetSpec, type LocalTarget } from "./local/targets.js";
import { DEFAULT_PROFILE_ID, IO_ENGINES, PROFILE_IDS, resolveProfile } from "./profiles.js";
import { readResultsFile, writeReport } from "./report/index.js";
import { parseSize } from "./size.js";

function positiveInteger(name: string) {
  return (value: string): number => {
    const number = Number(value);
    if (!/^\d+$/.test(value) || number < 1) throw new InvalidArgumentError(`${name} must be a whole number, at least 1.`);
    return number;
  };
}

function sizeArgument(value: string): string {
  try {
    parseSize(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
  return value;
}

function timestamp(date: Date): string {
  return date.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
}

interface RunFlags {
  target: string[];
  profile: string;
  runtime?: number;
  size?: string;
  repeat: number;
  ioengine?: string;
  direct?: boolean;
  out?: string;
}

async function runCommand(flags: RunFlags): Promise<number> {
  const profile = resolveProfile(flags.profile, { runtimeSec: flags.runtime, size: flags.size, ioengine: flags.ioengine, direct: flags.direct });
  const targets: LocalTarget[] = flags.target.map(parseTargetSpec);
  checkDistinctNames(targets);
  const outDir = resolve(flags.out ?? join("results", timestamp(new Date())));
  // Default target: a scratch directory on the disk of the current directory (not /tmp, often a RAM disk).
  const scratch = targets.length === 0 ? await fs.mkdtemp(join(process.cwd(), ".layerbench-tmp-")) : undefined;
  if (scratch) targets.push({ name: "local", path: scratch });

  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort(new UserError("interrupted by Ctrl-C"));
  };
  process.on("SIGINT", onSigint);
  try {
    const outcome = await runLocal({ targets, profile, repeat: flags.repeat, outDir, progress: consoleProgress(), signal: controller.signal });
    const measured = outcome.document.variants.length > 0;
    if (measured) {
      await writeReport([outcome.document], outDir);
      console.log(`results: ${outcome.resultsPath}\nreport:  ${join(outDir, "report.md")} (charts: iops.svg, io_bandwidth.svg, io_written.svg, latency.svg)`);
    }
    if (outcome.stoppedBy) {
      const kept = measured ? "; everything measured before it is kept in results.json" : "";
      console.error(`layerbench: run stopped: ${outcome.stoppedBy.message}${kept}`);
      return controller.signal.aborted ? 130 : 1;
    }
    return 0;
  } finally {
    process.off("SIGINT", onSigint);
    if (scratch) await fs.rm(scratch, { recursive: true, force: true });
  }
}

async function reportCommand(files: string[], flags: { out?: string }): Promise<number> {
  const documents = [];
  for (const file of files) documents.push(await readResultsFile(file));
  const outDir = resolve(flags.out ?? dirname(files[0]));
  const written = await writeReport(documents, outDir);
  console.log(written.join("\n"));
  return 0;
}

async function parseCommand(file: string): Promise<number> {
  const text = await fs.readFile(file, "utf8").catch((error: NodeJS.ErrnoException) => {
    throw new UserError(`cannot read ${file}: ${error.code ?? error.message}`);
  });
  console.log(JSON.stringify(parseFioOutput(text, file), null, 2));
  return 0;
}

export function buildProgram(setExitCode: (code: number) => void): Command {
  const program = new Command("layerbench")
    .description("What does each storage layer cost you? Runs the same fio workloads everywhere and reports them side by side.")
    // Commander's own usage errors come out like ours: one line, "layerbench: ...".
    .configureOutput({ outputError: (text, write) => write(`layerbench: ${text.replace(/^error: /, "")}`) });
  program
    .command("run")
    .description("benchmark local directories with fio and write results.json and a report")
    .option("-t, --target <NAME=DIR>", "a directory to benchmark (repeatable; the first is the baseline; default: a scratch directory here)", (value: string, previous: string[]) => [...previous, value], [])
    .addOption(new Option("-p, --profile <name>", "workload profile").choices(PROFILE_IDS).default(DEFAULT_PROFILE_ID))
    .option("--runtime <seconds>", "seconds per workload run (default: the profile's, 60 for ars)", positiveInteger("--runtime"))
    .option("--size <size>", "file size per fio job, e.g. 32m or 4g (default: the profile's)", sizeArgument)
    .option("--repeat <n>", "runs per workload, for mean ± stdev", positiveInteger("--repeat"), 1)
    .addOption(new Option("--ioengine <engine>", "fio ioengine (default: the profile's)").choices(IO_ENGINES))
    .option("--direct", "use O_DIRECT (bypass the page cache)")
    .option("--no-direct", "go through the page cache")
    .option("-o, --out <dir>", "where results.json and the report go (default: results/<timestamp>)")
    .action(async (flags: RunFlags) => setExitCode(await runCommand(flags)));
  program
    .command("report")
    .description("write iops.svg, io_bandwidth.svg, io_written.svg, latency.svg and report.md from results files")
    .argument("<results...>", "results.json files; the first one's baseline is the baseline")
    .option("-o, --out <dir>", "output directory (default: the first results file's directory)")
    .action(async (files: string[], flags: { out?: string }) => setExitCode(await reportCommand(files, flags)));
  program
    .command("parse")
    .description("print the normalised result of one `fio --output-format=json` output")
    .argument("<fio-json>", "a file holding fio's JSON output")
    .action(async (file: string) => setExitCode(await parseCommand(file)));
  return program;
}

export async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  try {
    await buildProgram((code) => (exitCode = code)).parseAsync(argv);
  } catch (error) {
    // One line per error, whatever the message carries (JSON.parse quotes the input, newlines included).
    const message = (error as Error).message.replace(/\s*\n\s*/g, " ");
    if (error instanceof UserError) {
      console.error(`layerbench: ${message}`);
    } else {
      console.error(`layerbench: unexpected error: ${message}`);
      if (process.env.LAYERBENCH_DEBUG) console.error((error as Error).stack);
      else console.error("(set LAYERBENCH_DEBUG=1 to see where it happened)");
    }
    return 1;
  }
  return exitCode;
}
