import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Command, InvalidArgumentError, Option } from "commander";
// Only what declaring the options needs is imported here: each command loads its own modules when it runs, so
// that `--help` and a bad option answer at once (vega, zod and Pulumi's SDK take most of a second to load).
import { DESIGN_KINDS } from "../core/design-kinds.js";
import { LAYERS } from "../core/layers.js";
import { DEFAULT_THRESHOLD_PCT } from "../core/metrics.js";
import { DEFAULT_PROFILE_ID, IO_ENGINES, PROFILE_IDS } from "../core/profiles.js";
import { AUTO_MAX_RUNS, AUTO_MIN_RUNS, DEFAULT_MAX_RSD_PCT } from "../core/repeat.js";
import { LATENCY_SCALES } from "../report/chart-definitions.js";
import { UserError } from "../util/errors.js";
import { parseSize } from "../util/size.js";
import type { CompareFlags } from "./commands/compare.js";
import type { ImportFlags } from "./commands/import.js";
import type { MatrixFlags } from "./commands/matrix.js";
import type { PlanFlags } from "./commands/plan.js";
import type { ReportFlags } from "./commands/report.js";
import type { RunFlags } from "./commands/run.js";

/** An option's parser for a whole number of at least `least`; `message` says what is allowed. */
function wholeNumber(least: number, message: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < least) throw new InvalidArgumentError(message);
    return Number(value);
  };
}

const positiveInteger = (name: string) => wholeNumber(1, `${name} must be a whole number, at least 1.`);

const repeatCount = (value: string): number | "auto" =>
  value === "auto" ? "auto" : wholeNumber(1, "--repeat must be a whole number, at least 1, or auto.")(value);

/** An option's parser for a percentage that `allowed` accepts; `message` says what is allowed. */
function percentage(allowed: (value: number) => boolean, message: string) {
  return (value: string): number => {
    const number = Number(value);
    if (value.trim() === "" || !Number.isFinite(number) || !allowed(number)) throw new InvalidArgumentError(message);
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

/** The version in package.json, beside Pulumi.yaml. */
/** The layerbench Pulumi project: this package's own directory. */
const PROJECT_DIR = projectDir(dirname(fileURLToPath(import.meta.url)));

/** The nearest directory upwards with a Pulumi.yaml: the same from the sources (bench/cli) and the build (dist/bench/cli). */
function projectDir(from: string): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, "Pulumi.yaml"))) return dir;
  }
  throw new Error(`no Pulumi.yaml above ${from}: is layerbench installed whole?`);
}

function repeatable(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function packageVersion(): string {
  return (JSON.parse(readFileSync(join(PROJECT_DIR, "package.json"), "utf8")) as { version: string }).version;
}

export function buildProgram(setExitCode: (code: number) => void): Command {
  const program = new Command("layerbench")
    .version(packageVersion(), "-V, --version", "print layerbench's version")
    .description(
      "What does each storage layer cost you? Runs the same fio workloads everywhere and reports them side by side.",
    )
    // Commander's own usage errors come out like ours: one line, "layerbench: ...".
    .configureOutput({ outputError: (text, write) => write(`layerbench: ${text.replace(/^error: /, "")}`) });
  program
    .command("run")
    .description("benchmark local directories with fio and write results.json and a report")
    .addOption(
      new Option(
        "-t, --target <NAME=DIR>",
        "a directory to benchmark, or NAME=vm:bus=virtio-blk,cache=none[,iothread=on,aio=native,dir=DIR] for a disk of a local QEMU guest (repeatable; the first is the baseline)",
      )
        .argParser(repeatable)
        .default([], "a scratch directory here"),
    )
    .option(
      "-p, --profile <name|file>",
      `workload profile: ${PROFILE_IDS.join(", ")}, or a fio job file of yours (each section a workload)`,
      DEFAULT_PROFILE_ID,
    )
    .option(
      "--runtime <seconds>",
      "seconds per workload run (default: the profile's, 60 for ars)",
      positiveInteger("--runtime"),
    )
    .option("--size <size>", "file size per fio job, e.g. 32m or 4g (default: the profile's)", sizeArgument)
    .option(
      "--ramp <seconds>",
      "seconds fio runs before it measures (fio's ramp_time; default: the profile's, 5 for kbench, 0 for ars)",
      wholeNumber(0, "--ramp must be a whole number of seconds, 0 or more."),
    )
    .option(
      "--repeat <n|auto>",
      `runs per workload, for mean ± stdev; auto: ${AUTO_MIN_RUNS} to ${AUTO_MAX_RUNS}, until the IOPS spread is within --max-rsd`,
      repeatCount,
      1,
    )
    .option(
      "--max-rsd <percent>",
      "with --repeat auto: the relative standard deviation of IOPS to reach",
      percentage((value) => value > 0, "--max-rsd must be a percentage above 0 (e.g. 3)."),
      DEFAULT_MAX_RSD_PCT,
    )
    .addOption(new Option("--ioengine <engine>", "fio ioengine (default: the profile's)").choices(IO_ENGINES))
    .option(
      "--precondition",
      "fill each VM target's disk once, sequentially, before its first measurement (time reported, not measured)",
    )
    .option(
      "--axes <axes>",
      "local VM targets from axes, e.g. 'bus=virtio-blk,virtio-scsi-single;cache=none,writeback;iothread=on,off': every valid combination, or --design's choice; images beside the first target's files",
    )
    .addOption(
      new Option("--design <kind>", "which variants of --axes to measure (default: full, every valid one)").choices(
        DESIGN_KINDS,
      ),
    )
    .option("--interactions <pairs>", "with --design main-effects+interactions: axis pairs, e.g. cache:iothread")
    .option(
      "--confirm <ids>",
      "variants of --axes measured beside the design to check the model (comma-separated; `layerbench plan --confirm` proposes them)",
    )
    .option("--direct", "use O_DIRECT (bypass the page cache)")
    .option("--no-direct", "go through the page cache")
    .option("-o, --out <dir>", "where results.json and the report go (default: results/<timestamp>)")
    .action(async (flags: RunFlags) => setExitCode(await (await import("./commands/run.js")).runCommand(flags)));
  program
    .command("import")
    .description(
      "fio JSON outputs you already have, as results.json and a report: a directory VARIANT/WORKLOAD.json, or a JSON file mapping variant -> workload -> output",
    )
    .argument(
      "<inputs...>",
      "directories (VARIANT/WORKLOAD.json or .json+) and map files; the same variant and workload twice are repeats",
    )
    .option("-o, --out <dir>", "where results.json and the report go (default: results/import-<timestamp>)")
    .option("--baseline <variant>", "the variant the others are compared with (default: the first found)")
    .addOption(
      new Option("--layer <variant=layer>", `a variant's layer: ${LAYERS.join(", ")} (repeatable; default local)`)
        .argParser(repeatable)
        .default([]),
    )
    .action(async (inputs: string[], flags: ImportFlags) =>
      setExitCode(await (await import("./commands/import.js")).importCommand(inputs, flags)),
    );
  program
    .command("report")
    .description("write report.html, report.md and the SVG charts from results files and stacks")
    .argument(
      "[results...]",
      "results.json files, or `pulumi stack output [results] --json` saved to a file; the first baseline is the baseline",
    )
    .addOption(
      new Option("-s, --stack <name>", "also read the results output of this Pulumi stack (repeatable)")
        .argParser(repeatable)
        .default([], "none"),
    )
    .option("--project <dir>", "the layerbench Pulumi project", PROJECT_DIR)
    .option(
      "-o, --out <dir>",
      "output directory (default: the results file's directory when there is one file, else results/report-<timestamp>)",
    )
    .option("--force", "replace a report already in the output directory")
    .addOption(
      new Option("--latency-scale <scale>", "y scale of latency.svg: log shows ns and ms bars side by side")
        .choices(LATENCY_SCALES)
        .default("linear"),
    )
    .action(async (files: string[], flags: ReportFlags) =>
      setExitCode(await (await import("./commands/report.js")).reportCommand(files, flags)),
    );
  program
    .command("compare")
    .description(
      "before/after table per variant and workload; exit code 1 when a change is a regression beyond the noise, 2 when the two were measured with different settings",
    )
    .argument("<before>", "results file of the earlier run")
    .argument("<after>", "results file of the later run")
    .option(
      "--threshold <percent>",
      "smallest change worth flagging",
      percentage((value) => value >= 0, "--threshold must be a percentage, 0 or more (e.g. 5)."),
      DEFAULT_THRESHOLD_PCT,
    )
    .option("--force", "compare even when the two were measured with different settings (exit code 2 without it)")
    .action(async (before: string, after: string, flags: CompareFlags) =>
      setExitCode(await (await import("./commands/compare.js")).compareCommand(before, after, flags)),
    );
  program
    .command("plan")
    .description(
      "what `pulumi up` of a stack makes, the space, memory and time it needs; --check asks the node whether it can go ahead",
    )
    .addOption(
      new Option("-s, --stack <name>", "a stack of stacks/Pulumi.<name>.yaml (repeatable)")
        .argParser(repeatable)
        .default([], "all"),
    )
    .option(
      "--check",
      "ask the node over SSH (system ssh client, BatchMode) and the Proxmox API (PROXMOX_VE_API_TOKEN); exit code 1 when something fails",
    )
    .option("--project <dir>", "the layerbench Pulumi project", PROJECT_DIR)
    .option(
      "--confirm <results.json>",
      "from the results of a designed experiment: the predicted best and worst variants not measured yet, and how to measure them next",
    )
    .action(async (flags: PlanFlags) => setExitCode(await (await import("./commands/plan.js")).planCommand(flags)));
  const matrix = program
    .command("matrix")
    .description("bring the stacks in stacks/ up, destroy them, or keep their results, with the Pulumi CLI");
  const matrixOptions = (command: Command) =>
    command
      .addOption(
        new Option("-s, --stack <name>", "a stack of stacks/Pulumi.<name>.yaml (repeatable)")
          .argParser(repeatable)
          .default([], "all"),
      )
      .option("--project <dir>", "the layerbench Pulumi project", PROJECT_DIR)
      .option("-o, --out <dir>", "where each stack's results are kept, one file per run", join("results", "matrix"));
  matrixOptions(matrix.command("up").description("`pulumi up` each stack, keep the results of every run"))
    .option(
      "--runs <n>",
      "benchmark each stack n times, each under a new run id (the VMs are made once)",
      positiveInteger("--runs"),
      1,
    )
    .option("--fail-fast", "stop at the first stack that fails (default: go on with the others)")
    .option(
      "--parallel",
      "run stacks on different Proxmox nodes at the same time; stacks sharing a node still run one after the other",
    )
    .option("--ephemeral", "destroy each stack after its runs, even when they failed")
    .option("--no-check", "skip `layerbench plan --check` of each stack's node before its pulumi up")
    .action(async (flags: MatrixFlags) =>
      setExitCode(await (await import("./commands/matrix.js")).matrixCommand("up", flags)),
    );
  matrixOptions(matrix.command("destroy").description("`pulumi destroy` each stack"))
    .option("--fail-fast", "stop at the first stack that fails")
    .action(async (flags: MatrixFlags) =>
      setExitCode(await (await import("./commands/matrix.js")).matrixCommand("destroy", flags)),
    );
  matrixOptions(
    matrix
      .command("outputs")
      .description("keep each stack's current results output (as `pulumi stack output results --json`)"),
  ).action(async (flags: MatrixFlags) =>
    setExitCode(await (await import("./commands/matrix.js")).matrixCommand("outputs", flags)),
  );
  program
    .command("parse")
    .description("print the normalised result of one `fio --output-format=json` output")
    .argument("<fio-json>", "a file holding fio's JSON output")
    .action(async (file: string) => setExitCode(await (await import("./commands/parse.js")).parseCommand(file)));
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
