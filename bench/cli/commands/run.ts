// `layerbench run`: fio on local directories and disks of a local guest; the scratch directory, double Ctrl-C and exit codes.
import { existsSync, promises as fs } from "node:fs";
import { join, resolve } from "node:path";
import { freshSeed } from "../../core/measurement-order.js";
import { AUTO_MAX_RUNS, AUTO_MIN_RUNS } from "../../core/repeat.js";
import type { LocalRunOutcome } from "../../local/run.js";
import type { LocalTarget } from "../../local/targets.js";
import { UserError } from "../../util/errors.js";
import type { RunFlags } from "../options.js";
import { onStopSignals } from "./interrupts.js";
import { timestamp } from "./shared.js";

/** The profile the flags choose, with their runtime, size, engine and repeat rule. */
async function runProfile(flags: RunFlags) {
  const { selectProfile } = await import("../../core/job-file-profile.js");
  return selectProfile(flags.profile, {
    runtimeSec: flags.runtime,
    rampSec: flags.ramp,
    ...(flags.repeat === "auto" && { stopWhenStable: { minRuns: AUTO_MIN_RUNS, maxRsdPct: flags.maxRsd } }),
    ...(flags.precondition && { precondition: true }),
    ...(flags.steady && { steady: true }),
    size: flags.size,
    ioengine: flags.ioengine,
    direct: flags.direct,
  });
}

/** The local guests --axes asks for, checked before the scratch directory exists: bad axes leave nothing behind. */
async function designAxes(flags: RunFlags) {
  const given = [
    flags.design && "--design",
    flags.interactions && "--interactions",
    flags.confirm && "--confirm",
  ].filter(Boolean);
  if (given.length > 0 && !flags.axes)
    throw new UserError(
      `${given.join(", ")} ${given.length > 1 ? "need" : "needs"} --axes: a design chooses among its variants`,
    );
  return flags.axes
    ? (await import("../../local/axis-targets.js")).axisTargets({
        axes: flags.axes,
        ...(flags.design && { design: flags.design }),
        ...(flags.interactions && { interactions: flags.interactions }),
        ...(flags.confirm && { confirm: flags.confirm }),
      })
    : undefined;
}

/**
 * What the run measured, said on the terminal, and its exit code: 0, 1 when a run failed or the run stopped,
 * a stop signal's code whenever it came.
 */
function reportOutcome(
  outcome: LocalRunOutcome,
  {
    outDir,
    reported,
    measured,
    signalled,
  }: { outDir: string; reported: boolean; measured: boolean; signalled?: number },
) {
  if (reported)
    console.log(
      `results: ${outcome.resultsPath}\nreport:  ${join(outDir, "report.html")} (open it in a browser; report.md and the SVG charts beside it)`,
    );
  if (outcome.stoppedBy) {
    // Before the first result there is no report, but results.json lists the runs that were never made.
    const unsaved = outcome.stoppedBy.message.startsWith(`cannot write ${outcome.resultsPath}`);
    const kept = unsaved
      ? `; ${outcome.resultsPath} keeps the runs saved before it, the run it could not save is printed above`
      : measured
        ? "; everything measured before it is kept in results.json"
        : `; nothing was measured; ${outcome.resultsPath} lists the runs not made`;
    console.error(`layerbench: run stopped: ${outcome.stoppedBy.message}${kept}`);
    return signalled ?? 1;
  }
  // One rule for every target: a stop signal ends the command with its code whenever it came, here after the
  // last run (during the report, which is written whole before the command ends).
  if (signalled !== undefined) {
    console.error("layerbench: stopped after the last run had ended; everything it measured is kept");
    return signalled;
  }
  const failed = outcome.document.failures?.length ?? 0;
  if (failed > 0) {
    console.error(
      `layerbench: ${failed} run(s) failed; the others were measured (the failures are listed in report.md and results.json)`,
    );
    return 1;
  }
  return 0;
}

/** The seed of a random order (a new one unless given); none for the order given. */
function orderSeed(flags: RunFlags): number | undefined {
  if (flags.order === "random") return flags.seed ?? freshSeed();
  if (flags.seed !== undefined)
    throw new UserError(
      `--seed ${flags.seed} shuffles the order of the targets, and --order given keeps it as given: drop one of them`,
    );
  return undefined;
}

export async function runCommand(flags: RunFlags): Promise<number> {
  const [
    { checkDistinctNames, parseTargetSpec },
    { runLocal },
    { consoleProgress },
    { writeReport },
    { runEmergencyCleanup, scratchOnEmergencyExit },
  ] = await Promise.all([
    import("../../local/targets.js"),
    import("../../local/run.js"),
    import("../../local/progress.js"),
    import("../../report/index.js"),
    import("../../util/emergency-cleanup.js"),
  ]);
  const seed = orderSeed(flags);
  const profile = await runProfile(flags);
  const targets: LocalTarget[] = flags.target.map(parseTargetSpec);
  const axes = await designAxes(flags);
  const outDir = resolve(flags.out ?? join("results", timestamp(new Date())));
  // Default target: a scratch directory on the disk of the current directory (not /tmp, often a RAM disk).
  const scratch = targets.length === 0 ? await fs.mkdtemp(join(process.cwd(), ".layerbench-tmp-")) : undefined;
  if (scratch) targets.push({ name: "local", path: scratch, scratchIn: process.cwd() });
  // The axes' guest images sit beside the baseline's files: guest and baseline on one file system.
  if (axes && targets[0].rbd)
    throw new UserError(
      `--axes puts its guests' images beside the baseline's files, and the baseline "${targets[0].name}" is an RBD image: give a directory as the first --target`,
    );
  if (axes) targets.push(...axes.targets.map((target) => ({ ...target, path: targets[0].path })));
  checkDistinctNames(targets);

  const forgetScratch = scratch ? scratchOnEmergencyExit(scratch) : () => undefined;
  const controller = new AbortController();
  const stop = onStopSignals(controller, "", () => {
    // A second signal exits at once, but not before fio is stopped and the scratch files are gone.
    const left = runEmergencyCleanup();
    console.error(
      left.length > 0
        ? `layerbench: stopped at once; remove what is left by hand: ${left.join(", ")}`
        : `layerbench: stopped at once; scratch files removed. ${
            existsSync(join(outDir, "results.json"))
              ? `${join(outDir, "results.json")} holds every run finished before`
              : "Nothing was saved: no run had finished"
          }`,
    );
  });
  try {
    const outcome = await runLocal({
      targets,
      ...(seed !== undefined && { seed }),
      ...(axes && { designs: [axes.design] }),
      profile,
      repeat: flags.repeat === "auto" ? AUTO_MAX_RUNS : flags.repeat,
      outDir,
      progress: consoleProgress(),
      signal: controller.signal,
    });
    const measured = outcome.document.variants.length > 0;
    // A report that cannot be written (a full --out) is said in one line; what stopped the run still is.
    const reported =
      measured &&
      (await writeReport([outcome.document], outDir).then(
        () => true,
        (error: Error) => {
          console.error(`layerbench: no report: ${error.message}`);
          return false;
        },
      ));
    return reportOutcome(outcome, { outDir, reported, measured, signalled: stop.exitCode() });
  } finally {
    stop.release();
    if (scratch) await fs.rm(scratch, { recursive: true, force: true });
    forgetScratch();
  }
}
