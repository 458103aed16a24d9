import { existsSync, promises as fs, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Command, InvalidArgumentError, Option } from "commander";
// Only what declaring the options needs is imported here: each command loads its own modules when it runs, so
// that `--help` and a bad option answer at once (vega, zod and Pulumi's SDK take most of a second to load).
import { DESIGN_KINDS } from "../core/design-kinds.js";
import { LAYERS } from "../core/layers.js";
import { DEFAULT_THRESHOLD_PCT } from "../core/metrics.js";
import { DEFAULT_PROFILE_ID, IO_ENGINES, PROFILE_IDS } from "../core/profiles.js";
import { AUTO_MAX_RUNS, AUTO_MIN_RUNS, DEFAULT_MAX_RSD_PCT } from "../core/repeat.js";
import type { ResultsDocument } from "../core/results.js";
import type { LocalTarget } from "../local/targets.js";
import type { StackOutcome } from "../matrix/runner.js";
import { declaredStacks, selectStacks } from "../matrix/stacks.js";
import type { MatrixWorkspace } from "../matrix/workspace.js";
import type { Finding } from "../plan/node-check.js";
import { LATENCY_SCALES, type LatencyScale } from "../report/chart-definitions.js";
import { UserError } from "../util/errors.js";
import { parseSize } from "../util/size.js";

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

/** The layerbench Pulumi project: this package's own directory. */
const PROJECT_DIR = projectDir(dirname(fileURLToPath(import.meta.url)));

/** The nearest directory upwards with a Pulumi.yaml: the same from the sources (bench/cli) and the build (dist/bench/cli). */
function projectDir(from: string): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, "Pulumi.yaml"))) return dir;
  }
  throw new Error(`no Pulumi.yaml above ${from}: is layerbench installed whole?`);
}

/** Loaded on use: the Automation API pulls in all of @pulumi/pulumi, which `run` and `report FILE` never need. */
async function pulumiWorkspaceFor(projectDir: string): Promise<MatrixWorkspace> {
  const { pulumiWorkspace } = await import("../matrix/pulumi-workspace.js");
  return pulumiWorkspace(projectDir);
}

function repeatable(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function timestamp(date: Date): string {
  return date.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
}

interface RunFlags {
  target: string[];
  axes?: string;
  design?: string;
  interactions?: string;
  confirm?: string;
  precondition?: boolean;
  profile: string;
  runtime?: number;
  ramp?: number;
  maxRsd: number;
  size?: string;
  repeat: number | "auto";
  ioengine?: string;
  direct?: boolean;
  out?: string;
}

async function runCommand(flags: RunFlags): Promise<number> {
  const [
    { checkDistinctNames, parseTargetSpec },
    { runLocal },
    { consoleProgress },
    { writeReport },
    { runEmergencyCleanup, scratchOnEmergencyExit },
  ] = await Promise.all([
    import("../local/targets.js"),
    import("../local/run.js"),
    import("../local/progress.js"),
    import("../report/index.js"),
    import("../util/emergency-cleanup.js"),
  ]);
  const auto = flags.repeat === "auto";
  const { selectProfile } = await import("../core/job-file-profile.js");
  const profile = await selectProfile(flags.profile, {
    runtimeSec: flags.runtime,
    rampSec: flags.ramp,
    ...(auto && { stopWhenStable: { minRuns: AUTO_MIN_RUNS, maxRsdPct: flags.maxRsd } }),
    ...(flags.precondition && { precondition: true }),
    size: flags.size,
    ioengine: flags.ioengine,
    direct: flags.direct,
  });
  const targets: LocalTarget[] = flags.target.map(parseTargetSpec);
  const given = [
    flags.design && "--design",
    flags.interactions && "--interactions",
    flags.confirm && "--confirm",
  ].filter(Boolean);
  if (given.length > 0 && !flags.axes)
    throw new UserError(
      `${given.join(", ")} ${given.length > 1 ? "need" : "needs"} --axes: a design chooses among its variants`,
    );
  // Checked before the scratch directory exists: bad axes leave nothing behind.
  const axes = flags.axes
    ? (await import("../local/axis-targets.js")).axisTargets({
        axes: flags.axes,
        ...(flags.design && { design: flags.design }),
        ...(flags.interactions && { interactions: flags.interactions }),
        ...(flags.confirm && { confirm: flags.confirm }),
      })
    : undefined;
  const outDir = resolve(flags.out ?? join("results", timestamp(new Date())));
  // Default target: a scratch directory on the disk of the current directory (not /tmp, often a RAM disk).
  const scratch = targets.length === 0 ? await fs.mkdtemp(join(process.cwd(), ".layerbench-tmp-")) : undefined;
  if (scratch) targets.push({ name: "local", path: scratch });
  // The axes' guest images sit beside the baseline's files: guest and baseline on one file system.
  if (axes) targets.push(...axes.targets.map((target) => ({ ...target, path: targets[0].path })));
  checkDistinctNames(targets);

  const forgetScratch = scratch ? scratchOnEmergencyExit(scratch) : () => undefined;
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) {
      // A second Ctrl-C exits at once, but not before fio is stopped and the scratch files are gone.
      const left = runEmergencyCleanup();
      console.error(
        left.length > 0
          ? `layerbench: stopped at once; remove what is left by hand: ${left.join(", ")}`
          : "layerbench: stopped at once; scratch files removed. results.json holds every run finished before",
      );
      process.exit(130);
    }
    console.error("layerbench: stopping after Ctrl-C (again to quit at once)");
    controller.abort(new UserError("interrupted by Ctrl-C"));
  };
  process.on("SIGINT", onSigint);
  try {
    const outcome = await runLocal({
      targets,
      ...(axes && { designs: [axes.design] }),
      profile,
      repeat: auto ? AUTO_MAX_RUNS : (flags.repeat as number),
      outDir,
      progress: consoleProgress(),
      signal: controller.signal,
    });
    const measured = outcome.document.variants.length > 0;
    if (measured) {
      await writeReport([outcome.document], outDir);
      console.log(
        `results: ${outcome.resultsPath}\nreport:  ${join(outDir, "report.html")} (open it in a browser; report.md and the SVG charts beside it)`,
      );
    }
    if (outcome.stoppedBy) {
      const kept = measured ? "; everything measured before it is kept in results.json" : "";
      console.error(`layerbench: run stopped: ${outcome.stoppedBy.message}${kept}`);
      return controller.signal.aborted ? 130 : 1;
    }
    const failed = outcome.document.failures?.length ?? 0;
    if (failed > 0) {
      console.error(
        `layerbench: ${failed} run(s) failed; the others were measured (the failures are listed in report.md and results.json)`,
      );
      return 1;
    }
    return 0;
  } finally {
    process.off("SIGINT", onSigint);
    if (scratch) await fs.rm(scratch, { recursive: true, force: true });
    forgetScratch();
  }
}

interface ImportFlags {
  out?: string;
  baseline?: string;
  layer: string[];
}

async function importCommand(inputs: string[], flags: ImportFlags): Promise<number> {
  const [
    { findOutputs },
    { importDocument, parseLayerOption },
    { checkOutputDirectory },
    { writeResultsFile },
    { writeReport },
    { REPORT_FILES },
  ] = await Promise.all([
    import("../import/inputs.js"),
    import("../import/document.js"),
    import("../local/preflight.js"),
    import("../core/results-io.js"),
    import("../report/index.js"),
    import("../report/chart-definitions.js"),
  ]);
  const layers = Object.fromEntries(flags.layer.map(parseLayerOption));
  const outDir = resolve(flags.out ?? join("results", `import-${timestamp(new Date())}`));
  // Everything is read and parsed before anything is written: bad input leaves no half-made directory.
  const document = importDocument(await findOutputs(inputs), {
    ...(flags.baseline !== undefined && { baseline: flags.baseline }),
    layers,
    from: inputs.join(", "),
  });
  await checkOutputDirectory(outDir, REPORT_FILES);
  await fs.mkdir(outDir, { recursive: true });
  const resultsPath = join(outDir, "results.json");
  await writeResultsFile(resultsPath, document);
  await writeReport([document], outDir);
  const runs = document.variants.reduce(
    (sum, variant) => sum + variant.workloads.reduce((count, workload) => count + workload.runs.length, 0),
    0,
  );
  console.log(
    `imported ${runs} run(s) of ${document.variants.length} variant(s)\nresults: ${resultsPath}\nreport:  ${join(outDir, "report.html")} (report.md and the SVG charts beside it)`,
  );
  return 0;
}

interface ReportFlags {
  out?: string;
  stack: string[];
  project: string;
  force?: boolean;
  latencyScale: LatencyScale;
}

async function reportCommand(files: string[], flags: ReportFlags): Promise<number> {
  const [{ readResultsFile }, { writeReport }, { resultsOutput }] = await Promise.all([
    import("../core/results-io.js"),
    import("../report/index.js"),
    import("../matrix/runner.js"),
  ]);
  if (files.length === 0 && flags.stack.length === 0)
    throw new UserError("report needs results files or --stack NAME (or both)");
  const stacks = flags.stack.length > 0 ? selectStacks(await declaredStacks(flags.project), flags.stack) : [];
  const documents: ResultsDocument[] = [];
  for (const file of files) documents.push(await readResultsFile(file));
  if (stacks.length > 0) {
    const workspace = await pulumiWorkspaceFor(flags.project);
    for (const stack of stacks) {
      const outputs = await workspace.outputs(stack).catch((error: unknown) => {
        throw error instanceof UserError ? new UserError(`stack ${stack}: ${error.message}`) : error;
      });
      documents.push(resultsOutput(stack, outputs));
    }
  }
  // One results file: its report goes beside it. Several: a new directory, not the first file's own report.
  const outDir = resolve(
    flags.out ??
      (files.length === 1 && stacks.length === 0
        ? dirname(files[0])
        : join("results", `report-${timestamp(new Date())}`)),
  );
  const written = await writeReport(documents, outDir, {
    replace: flags.force ?? false,
    latencyScale: flags.latencyScale,
  });
  for (const warning of written.warnings) console.error(`layerbench: warning: settings differ: ${warning}`);
  console.log(written.files.join("\n"));
  return 0;
}

interface CompareFlags {
  threshold: number;
  force?: boolean;
}

async function compareCommand(before: string, after: string, flags: CompareFlags): Promise<number> {
  const [
    { readResultsFile },
    { compareDocuments, renderComparison },
    { comparisonDifferences, environmentDifferences },
  ] = await Promise.all([
    import("../core/results-io.js"),
    import("../report/compare.js"),
    import("../core/settings.js"),
  ]);
  const [beforeDocument, afterDocument] = [await readResultsFile(before), await readResultsFile(after)];
  const differences = comparisonDifferences(beforeDocument, afterDocument);
  if (differences.length > 0) {
    for (const line of differences) console.error(`layerbench: settings differ: ${line}`);
    if (!flags.force) {
      console.error(
        `layerbench: compare refuses runs measured with different settings (${differences.length} above); --force compares them anyway`,
      );
      return 2;
    }
  }
  const comparison = compareDocuments(beforeDocument, afterDocument, flags.threshold);
  if (comparison.rows.length === 0)
    throw new UserError(`${before} and ${after} have no variant and workload in common to compare`);
  process.stdout.write(
    renderComparison(
      comparison,
      { before, after },
      flags.threshold,
      differences,
      environmentDifferences(beforeDocument, afterDocument),
    ),
  );
  const regressions = comparison.rows.filter((row) => row.verdict === "regression").length;
  if (regressions > 0)
    console.error(`layerbench: ${regressions} regression(s) beyond the threshold and the spread of the repeats`);
  return regressions > 0 ? 1 : 0;
}

interface PlanFlags {
  stack: string[];
  project: string;
  check?: boolean;
  confirm?: string;
}

/** Plans (and with `check`, asks each node); every finding printed, the plans too unless `quiet`. */
async function planAndCheck(
  project: string,
  stacks: string[],
  declared: string[],
  options: { check: boolean; quiet: boolean },
): Promise<boolean> {
  const [{ renderFindings }, { renderPlan }, { checkStack, planStacks }, { designAlternatives }] = await Promise.all([
    import("../plan/node-check.js"),
    import("../plan/render.js"),
    import("../plan/stack-plans.js"),
    import("../plan/design-comparison.js"),
  ]);
  let ok = true;
  for (const entry of await planStacks(project, stacks, declared)) {
    const findings: Finding[] = [...entry.findings];
    if (options.check) {
      console.error(
        `layerbench: checking node ${entry.plan.node} (${entry.plan.nodeAddress}) for stack ${entry.plan.stack}`,
      );
      findings.push(...(await checkStack(entry)));
    }
    if (!options.quiet)
      process.stdout.write(
        renderPlan(
          entry.plan,
          { id: entry.config.profile.id, runtimeSec: entry.config.profile.runtimeSec, repeat: entry.config.repeat },
          {
            // Planned again under both designs only for the plans shown (matrix up's check shows none).
            alternatives: designAlternatives(entry.file.raw, entry.plan.stack),
            records: [entry.config.design, entry.config.k8s?.design].flatMap((record) => record ?? []),
          },
        ),
      );
    if (findings.length > 0)
      process.stdout.write(`${options.quiet ? `stack ${entry.plan.stack}:\n` : "\n"}${renderFindings(findings)}`);
    if (findings.some((finding) => finding.level === "fail")) ok = false;
  }
  return ok;
}

async function planCommand(flags: PlanFlags): Promise<number> {
  if (flags.confirm !== undefined) {
    if (flags.check || flags.stack.length > 0)
      throw new UserError("plan --confirm reads a results file: give it without --stack or --check");
    const [{ readResultsFile }, { proposeConfirmation, renderConfirmation }] = await Promise.all([
      import("../core/results-io.js"),
      import("../plan/confirm.js"),
    ]);
    const document = await readResultsFile(flags.confirm);
    process.stdout.write(renderConfirmation(document, flags.confirm, proposeConfirmation(document, flags.confirm)));
    return 0;
  }
  const declared = await declaredStacks(flags.project);
  const ok = await planAndCheck(flags.project, selectStacks(declared, flags.stack), declared, {
    check: flags.check ?? false,
    quiet: false,
  });
  if (!ok) console.error("layerbench: pulumi up cannot go ahead: see the FAIL lines above");
  return ok ? 0 : 1;
}

interface MatrixFlags {
  stack: string[];
  parallel?: boolean;
  project: string;
  out: string;
  failFast?: boolean;
  runs: number;
  ephemeral?: boolean;
  /** `--no-check` sets it false. */
  check: boolean;
}

async function matrixCommand(action: "up" | "destroy" | "outputs", flags: MatrixFlags): Promise<number> {
  const [{ consoleMatrixProgress }, { RunStore }, { matrixDestroy, matrixOutputs, matrixSummary, matrixUp }] =
    await Promise.all([
      import("../matrix/progress.js"),
      import("../matrix/run-store.js"),
      import("../matrix/runner.js"),
    ]);
  // Names are checked before Pulumi is touched.
  const declared = await declaredStacks(flags.project);
  const stacks = selectStacks(declared, flags.stack);
  if (
    action === "up" &&
    flags.check &&
    !(await planAndCheck(flags.project, stacks, declared, { check: true, quiet: true }))
  ) {
    console.error(
      "layerbench: matrix up: the node checks failed (FAIL lines above); nothing was created. --no-check skips them",
    );
    return 1;
  }
  const workspace = await pulumiWorkspaceFor(flags.project);
  const store = new RunStore(resolve(flags.out));
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    console.error("layerbench: stopping after Ctrl-C (again to quit at once, which may leave resources behind)");
    controller.abort();
  };
  process.on("SIGINT", onSigint);
  const context = {
    workspace,
    progress: consoleMatrixProgress((line) => console.log(line)),
    signal: controller.signal,
  };
  let outcomes: StackOutcome[];
  try {
    if (action === "up") {
      const startedAt = timestamp(new Date());
      const machines = flags.parallel
        ? await (await import("../matrix/machines.js")).stackMachines(flags.project, stacks)
        : undefined;
      outcomes = await matrixUp(
        {
          stacks,
          runs: flags.runs,
          failFast: flags.failFast ?? false,
          ephemeral: flags.ephemeral ?? false,
          store,
          newRunId: (_stack, run) => `${startedAt}-r${run}`,
          ...(machines && { machinesOf: (stack: string) => machines.get(stack) ?? [stack] }),
        },
        context,
      );
    } else if (action === "destroy") {
      outcomes = await matrixDestroy({ stacks, failFast: flags.failFast ?? false }, context);
    } else {
      outcomes = await matrixOutputs({ stacks, store }, context);
    }
  } finally {
    process.off("SIGINT", onSigint);
  }
  const summary = matrixSummary(outcomes);
  console.log(["", ...summary.lines].join("\n"));
  const verdicts = [
    ...(summary.failed.length > 0 ? [`${summary.failed.join(", ")} failed`] : []),
    ...(summary.skipped.length > 0 ? [`${summary.skipped.join(", ")} not started`] : []),
  ];
  if (verdicts.length > 0) console.error(`layerbench: matrix ${action}: ${verdicts.join("; ")} (see above)`);
  const reportable = outcomes.flatMap((outcome) => (outcome.gathered ? [outcome.gathered.path] : []));
  if (reportable.length > 0) {
    // Each stack's report of all its kept runs, beside all-runs.json: made again with every run, as all-runs.json is.
    const [{ readResultsFile }, { writeReport }] = await Promise.all([
      import("../core/results-io.js"),
      import("../report/index.js"),
    ]);
    for (const path of reportable) {
      await writeReport([await readResultsFile(path)], dirname(path), { replace: true });
      console.log(`report: ${join(dirname(path), "report.html")} (all runs kept for the stack; report.md beside it)`);
    }
    if (reportable.length > 1) console.log(`all stacks side by side: layerbench report ${reportable.join(" ")}`);
  }
  return controller.signal.aborted ? 130 : summary.exitCode;
}

async function parseCommand(file: string): Promise<number> {
  const { parseFioOutput } = await import("../core/fio-parser.js");
  const text = await fs.readFile(file, "utf8").catch((error: NodeJS.ErrnoException) => {
    throw new UserError(`cannot read ${file}: ${error.code ?? error.message}`);
  });
  console.log(JSON.stringify(parseFioOutput(text, file), null, 2));
  return 0;
}

/** The version in package.json, beside Pulumi.yaml. */
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
    .action(async (flags: RunFlags) => setExitCode(await runCommand(flags)));
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
    .action(async (inputs: string[], flags: ImportFlags) => setExitCode(await importCommand(inputs, flags)));
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
    .action(async (files: string[], flags: ReportFlags) => setExitCode(await reportCommand(files, flags)));
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
      setExitCode(await compareCommand(before, after, flags)),
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
    .action(async (flags: PlanFlags) => setExitCode(await planCommand(flags)));
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
    .action(async (flags: MatrixFlags) => setExitCode(await matrixCommand("up", flags)));
  matrixOptions(matrix.command("destroy").description("`pulumi destroy` each stack"))
    .option("--fail-fast", "stop at the first stack that fails")
    .action(async (flags: MatrixFlags) => setExitCode(await matrixCommand("destroy", flags)));
  matrixOptions(
    matrix
      .command("outputs")
      .description("keep each stack's current results output (as `pulumi stack output results --json`)"),
  ).action(async (flags: MatrixFlags) => setExitCode(await matrixCommand("outputs", flags)));
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
