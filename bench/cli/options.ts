// What each command takes: its arguments and options, declared once with commander; the flag types the commands'
// handlers get are derived from these declarations. main.ts wires them to the handlers.

import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
// extra-typings: each command's flag types are derived from its declarations below, never mirrored by hand.
import { type Command, CommanderError, InvalidArgumentError, Option } from "@commander-js/extra-typings";
// Only what declaring the options needs is imported here: each command loads its own modules when it runs, so
// that `--help` and a bad option answer at once (vega, zod and Pulumi's SDK take most of a second to load).
import { DESIGN_KINDS } from "../core/design-kinds.js";
import { LAYERS } from "../core/layers.js";
import { DEFAULT_THRESHOLD_PCT } from "../core/metrics.js";
import { DEFAULT_PROFILE_ID, IO_ENGINES, PROFILE_IDS } from "../core/profiles.js";
import { AUTO_MAX_RUNS, AUTO_MIN_RUNS, DEFAULT_MAX_RSD_PCT } from "../core/repeat.js";
import { LATENCY_SCALES } from "../report/chart-options.js";
import { parseSize } from "../util/size.js";

/** An option's parser for a whole number from `least` to `most`; `message` says what is allowed. */
function wholeNumber(least: number, most: number, message: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < least || Number(value) > most) throw new InvalidArgumentError(message);
    return Number(value);
  };
}

// Bounds that no benchmark reaches: a number past them is a typo, which fio would fail on (or run for ever).
const MAX_RUN_SECONDS = 7 * 24 * 3600;
const MAX_REPEATS = 1000;
/** Seeds as results.json records them: 31 bits, a whole number every JSON reader keeps exactly. */
const MAX_SEED = 2 ** 31 - 1;
const ORDERS = ["random", "given"] as const;

const positiveInteger = (name: string, most: number, unit = "") =>
  wholeNumber(1, most, `${name} must be a whole number${unit} from 1 to ${most}.`);

const repeatCount = (value: string): number | "auto" =>
  value === "auto"
    ? "auto"
    : wholeNumber(1, MAX_REPEATS, `--repeat must be a whole number from 1 to ${MAX_REPEATS}, or auto.`)(value);

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

/** The version in package.json, beside Pulumi.yaml. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(PROJECT_DIR, "package.json"), "utf8")) as { version: string }).version;
}

/** `--stack`, the same for every command that takes stacks; `all` says what no --stack means. */
const stackOption = (description: string, whenNone: string) =>
  new Option("-s, --stack <name>", description).argParser(repeatable).default([] as string[], whenNone);

const projectOption = () => new Option("--project <dir>", "the layerbench Pulumi project").default(PROJECT_DIR);

const stacksOfStacksDir = () => stackOption("a stack of stacks/Pulumi.<name>.yaml (repeatable)", "all");

/** run's --order: random by default, so that drift over a run cannot pass for a setting's effect. */
function orderOption() {
  return new Option(
    "--order <order>",
    "the order the targets after the first are measured in: random (seeded, recorded in results.json, so that drift over the run cannot pass for a setting's effect) or given; either way the baseline is measured again at the end (and in the middle, from 4 other targets) to show drift",
  )
    .choices(ORDERS)
    .default("random" as const);
}

export function declareRun(program: Command) {
  return program
    .command("run")
    .description(
      "benchmark local directories, and disks of a local QEMU guest (vm: targets), with fio; write results.json and a report",
    )
    .addOption(
      new Option(
        "-t, --target <NAME=DIR>",
        "a directory to benchmark, NAME=rbd:POOL/IMAGE[:id=USER][:conf=PATH] for an RBD image of a Ceph cluster (fio's rbd engine; made, filled, measured and removed), or NAME=vm:bus=virtio-blk,cache=none[,iothread=on,aio=native,discard=on,ssd=on,format=qcow2,pve=9,dir=DIR][,rbd=POOL/IMAGE,id=USER,conf=PATH] for a disk of a local QEMU guest (bus virtio-blk or virtio-scsi-single; ssd on SCSI only; format raw or qcow2; pve 9 or 8) (repeatable; the first is the baseline)",
      )
        .argParser(repeatable)
        .default([] as string[], "a scratch directory here"),
    )
    .option(
      "-p, --profile <name|file>",
      `workload profile: ${PROFILE_IDS.join(", ")}, or a fio job file of yours (each section a workload)`,
      DEFAULT_PROFILE_ID,
    )
    .option(
      "--runtime <seconds>",
      "seconds per workload run (default: the profile's, 60 for ars)",
      positiveInteger("--runtime", MAX_RUN_SECONDS, " of seconds"),
    )
    .option("--size <size>", "file size per fio job, e.g. 32m or 4g (default: the profile's)", sizeArgument)
    .option(
      "--ramp <seconds>",
      "seconds fio runs before it measures (fio's ramp_time; default: the profile's, 5 for kbench, 0 for ars)",
      wholeNumber(0, MAX_RUN_SECONDS, `--ramp must be a whole number of seconds from 0 to ${MAX_RUN_SECONDS}.`),
    )
    .option(
      "--repeat <n|auto>",
      `runs per workload, for mean ± stdev; auto: ${AUTO_MIN_RUNS} to ${AUTO_MAX_RUNS}, until the IOPS spread is below --max-rsd (the Phoronix Test Suite's rule)`,
      repeatCount,
      1,
    )
    .option(
      "--max-rsd <percent>",
      "with --repeat auto: the relative standard deviation of IOPS to get below",
      percentage((value) => value > 0, "--max-rsd must be a percentage above 0 (e.g. 2.5)."),
      DEFAULT_MAX_RSD_PCT,
    )
    .addOption(new Option("--ioengine <engine>", "fio ioengine (default: the profile's)").choices(IO_ENGINES))
    .option(
      "--steady",
      "end each run once fio's steadystate criterion holds (the IOPS trend over a quarter of --runtime within 10 %), at most --runtime",
    )
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
    .addOption(orderOption())
    .option(
      "--seed <n>",
      `with --order random: the seed of the order, to measure in a run's order again (default: a new one, recorded; 0 to ${MAX_SEED})`,
      wholeNumber(0, MAX_SEED, `--seed must be a whole number from 0 to ${MAX_SEED}.`),
    )
    .option("--direct", "use O_DIRECT (bypass the page cache)")
    .option("--no-direct", "go through the page cache")
    .option("-o, --out <dir>", "where results.json and the report go (default: results/<timestamp>)");
}

export function declareImport(program: Command) {
  return program
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
      new Option("--layer <variant=layer>", `a variant's layer: ${LAYERS.join(", ")} (repeatable)`)
        .argParser(repeatable)
        .default([] as string[], "local for every variant"),
    );
}

export function declareReport(program: Command) {
  return program
    .command("report")
    .description("write report.html, report.md and the SVG charts from results files and stacks")
    .argument(
      "[results...]",
      "results.json files, or `pulumi stack output [results] --json` saved to a file; the first baseline is the baseline",
    )
    .addOption(stackOption("also read the results output of this Pulumi stack (repeatable)", "none"))
    .addOption(projectOption())
    .option(
      "-o, --out <dir>",
      "output directory (default: the results file's directory when there is one file, else results/report-<timestamp>)",
    )
    .option("--force", "replace a report already in the output directory")
    .addOption(
      new Option("--latency-scale <scale>", "y scale of latency.svg: log shows ns and ms bars side by side")
        .choices(LATENCY_SCALES)
        .default("linear" as const),
    );
}

/** compare's exit code when it could not compare (a bad file or option): neither 1 (a regression) nor 2. */
export const COMPARE_ERROR_EXIT = 3;

export function declareCompare(program: Command) {
  return (
    program
      .command("compare")
      // A usage error (the message already printed) exits with COMPARE_ERROR_EXIT, not commander's 1; help with 0.
      .exitOverride((error) => {
        throw new CommanderError(error.exitCode === 0 ? 0 : COMPARE_ERROR_EXIT, error.code, error.message);
      })
      .description(
        "before/after table per variant and workload; exit code 1 when a change is a regression beyond the noise, 2 when the two were measured with different settings, 3 when they could not be compared (a missing or invalid file, a bad option)",
      )
      .argument(
        "<before>",
        "results file of the earlier run, or a directory of runs measured in turns (before/1, before/2: each a run's --out)",
      )
      .argument("<after>", "results file of the later run, or a directory of runs measured in turns")
      .option(
        "--threshold <percent>",
        "smallest change worth flagging",
        percentage((value) => value >= 0, "--threshold must be a percentage, 0 or more (e.g. 5)."),
        DEFAULT_THRESHOLD_PCT,
      )
      .option("--force", "compare even when the two were measured with different settings (exit code 2 without it)")
  );
}

export function declarePlan(program: Command) {
  return program
    .command("plan")
    .description(
      "what `pulumi up` of a stack makes, the space, memory and time it needs; --check asks the node whether it can go ahead",
    )
    .addOption(stacksOfStacksDir())
    .option(
      "--check",
      "ask the node over SSH (system ssh client, BatchMode) and the Proxmox API (PROXMOX_VE_API_TOKEN); exit code 1 when something fails",
    )
    .addOption(projectOption())
    .option(
      "--confirm <results.json>",
      "from the results of a designed experiment: the predicted best and worst variants not measured yet, and how to measure them next",
    );
}

/** A `matrix` subcommand with the options every one of them takes: which stacks, the project, where results go. */
function declareMatrixAction(matrix: Command, action: string, description: string) {
  return matrix
    .command(action)
    .description(description)
    .addOption(stacksOfStacksDir())
    .addOption(projectOption())
    .option("-o, --out <dir>", "where each stack's results are kept, one file per run", join("results", "matrix"));
}

export function declareMatrixUp(matrix: Command) {
  return declareMatrixAction(matrix, "up", "`pulumi up` each stack, keep the results of every run")
    .option(
      "--runs <n>",
      "benchmark each stack n times, each under a new run id (the VMs are made once)",
      positiveInteger("--runs", MAX_REPEATS),
      1,
    )
    .option("--fail-fast", "stop at the first stack that fails (default: go on with the others)")
    .option(
      "--parallel",
      "run stacks on different Proxmox nodes at the same time; stacks sharing a node still run one after the other",
    )
    .option("--ephemeral", "destroy each stack after its runs, even when they failed")
    .option("--no-check", "skip `layerbench plan --check` of each stack's node before its pulumi up");
}

export function declareMatrixDestroy(matrix: Command) {
  return declareMatrixAction(matrix, "destroy", "`pulumi destroy` each stack").option(
    "--fail-fast",
    "stop at the first stack that fails",
  );
}

export function declareMatrixOutputs(matrix: Command) {
  return declareMatrixAction(
    matrix,
    "outputs",
    "keep each stack's current results output (as `pulumi stack output results --json`)",
  );
}

/** The flags a command's handler gets, as commander parses them from its declaration. */
type FlagsOf<Declare extends (parent: Command) => { opts(): object }> = ReturnType<ReturnType<Declare>["opts"]>;
export type RunFlags = FlagsOf<typeof declareRun>;
export type ImportFlags = FlagsOf<typeof declareImport>;
export type ReportFlags = FlagsOf<typeof declareReport>;
export type CompareFlags = FlagsOf<typeof declareCompare>;
export type PlanFlags = FlagsOf<typeof declarePlan>;
export type MatrixUpFlags = FlagsOf<typeof declareMatrixUp>;
export type MatrixDestroyFlags = FlagsOf<typeof declareMatrixDestroy>;
export type MatrixOutputsFlags = FlagsOf<typeof declareMatrixOutputs>;
