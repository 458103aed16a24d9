import { type ChildProcess, spawn } from "node:child_process";
import { constants } from "node:os";
import { fileURLToPath } from "node:url";

export const BIN = fileURLToPath(new URL("../../bench/bin.js", import.meta.url));

export interface CliResult {
  /** The exit code, or as a shell reports a process a signal ended: 128 + its number. */
  code: number | null;
  stdout: string;
  stderr: string;
}

interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  whileRunning?: (child: ChildProcess, stderr: () => string) => void;
}

/** Runs the layerbench CLI as a user would; `whileRunning` can act on the live process (send Ctrl-C). */
export function runCli(args: string[], options: RunOptions = {}): Promise<CliResult> {
  return runCommand(process.execPath, [BIN, ...args], options);
}

/** Runs a command as a user would (a script of the README's), its output kept. */
export function runCommand(command: string, args: string[], options: RunOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    options.whileRunning?.(child, () => stderr);
    child.on("error", reject);
    child.on("close", (code, signal) =>
      resolve({ code: code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : null), stdout, stderr }),
    );
  });
}
