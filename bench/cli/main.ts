// The CLI: the commands as options.ts declares them, each wired to its handler, loaded when the command runs;
// errors as one line.

import { Command, CommanderError } from "@commander-js/extra-typings";
import { UserError } from "../util/errors.js";
import {
  declareCompare,
  declareImport,
  declareMatrixDestroy,
  declareMatrixOutputs,
  declareMatrixUp,
  declarePlan,
  declareReport,
  declareRun,
  packageVersion,
} from "./options.js";

export function buildProgram(setExitCode: (code: number) => void): Command {
  const program = new Command("layerbench")
    .version(packageVersion(), "-V, --version", "print layerbench's version")
    .description(
      "What does each storage layer cost you? Runs the same fio workloads everywhere and reports them side by side.",
    )
    // Commander's own usage errors come out like ours: one line, "layerbench: ...".
    .configureOutput({ outputError: (text, write) => write(`layerbench: ${text.replace(/^error: /, "")}`) });
  // Each handler is loaded when its command runs.
  declareRun(program).action(async (flags) => setExitCode(await (await import("./commands/run.js")).runCommand(flags)));
  declareImport(program).action(async (inputs, flags) =>
    setExitCode(await (await import("./commands/import.js")).importCommand(inputs, flags)),
  );
  declareReport(program).action(async (files, flags) =>
    setExitCode(await (await import("./commands/report.js")).reportCommand(files, flags)),
  );
  declareCompare(program).action(async (before, after, flags) =>
    setExitCode(await (await import("./commands/compare.js")).compareCommand(before, after, flags)),
  );
  declarePlan(program).action(async (flags) =>
    setExitCode(await (await import("./commands/plan.js")).planCommand(flags)),
  );
  const matrix = program
    .command("matrix")
    .description("bring the stacks in stacks/ up, destroy them, or keep their results, with the Pulumi CLI");
  const matrixCommand = async () => (await import("./commands/matrix.js")).matrixCommand;
  declareMatrixUp(matrix).action(async (flags) => setExitCode(await (await matrixCommand())({ action: "up", flags })));
  declareMatrixDestroy(matrix).action(async (flags) =>
    setExitCode(await (await matrixCommand())({ action: "destroy", flags })),
  );
  declareMatrixOutputs(matrix).action(async (flags) =>
    setExitCode(await (await matrixCommand())({ action: "outputs", flags })),
  );
  program
    .command("parse")
    .description("print the normalised result of one `fio --output-format=json` output")
    .argument("<fio-json>", "a file holding fio's JSON output")
    .action(async (file) => setExitCode(await (await import("./commands/parse.js")).parseCommand(file)));
  return program;
}

/** A message's control characters (a bad file's NUL bytes) as \xNN escapes: shown, not sent to the terminal. */
const escapeControls = (text: string) =>
  [...text]
    .map((character) => {
      const code = character.charCodeAt(0);
      return (code < 0x20 && character !== "\t") || code === 0x7f
        ? `\\x${code.toString(16).padStart(2, "0")}`
        : character;
    })
    .join("");

export async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  try {
    await buildProgram((code) => (exitCode = code)).parseAsync(argv);
  } catch (error) {
    // Printed by commander already; the code is the command's (compare's exitOverride).
    if (error instanceof CommanderError) return error.exitCode;
    // One line per error, whatever the message carries (JSON.parse quotes the input, newlines included); the
    // control characters of a bad file (NUL bytes) shown as escapes, not written to the terminal.
    const message = escapeControls((error as Error).message.replace(/\s*\n\s*/g, " "));
    if (error instanceof UserError) {
      console.error(`layerbench: ${message}`);
      return error.exitCode;
    }
    console.error(`layerbench: unexpected error: ${message}`);
    if (process.env.LAYERBENCH_DEBUG) console.error((error as Error).stack);
    else console.error("(set LAYERBENCH_DEBUG=1 to see where it happened)");
    return 1;
  }
  return exitCode;
}
