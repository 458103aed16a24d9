import { constants } from "node:os";
import { UserError } from "../../util/errors.js";

// One interrupt policy for the long commands (run, matrix). A `kill` (TERM), a closed terminal or SSH session
// (HUP, and EIO on every later write to it) and a closed pipe on stdout or stderr (`| head`: Node gets EPIPE where
// C gets SIGPIPE) stop a command as Ctrl-C does: otherwise they would end layerbench at once, leaving fio or a
// guest running, the locks and scratch files behind and the runs never made unrecorded.

/** The signals that stop a long command. */
export const STOP_SIGNALS: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

export interface StopPolicy {
  /** 128 + the signal's number, as a shell reports a process a signal ended; undefined while none came. */
  exitCode(): number | undefined;
  /** Removes the handlers: the command is done. */
  release(): void;
}

const OUTPUTS = [process.stdout, process.stderr];

/** Write errors of an output nobody reads any more, as the signal a C program would get. */
const CLOSED_OUTPUT: Record<string, NodeJS.Signals> = { EPIPE: "SIGPIPE", EIO: "SIGHUP" };

const exitCodeOf = (signal: NodeJS.Signals) => 128 + (constants.signals[signal] ?? 0);
const nameOf = (signal: NodeJS.Signals) =>
  signal === "SIGINT" ? "Ctrl-C" : signal === "SIGPIPE" ? "a closed pipe" : signal;

/**
 * The first stop signal aborts `controller`: the command stops its work, records what never ran and writes what it
 * measured. A second quits at once, after `atOnce` (what must not be left running or behind).
 */
export function onStopSignals(
  controller: AbortController,
  consequence: string,
  atOnce: () => void = () => undefined,
): StopPolicy {
  let received: NodeJS.Signals | undefined;
  // The signal a closed output stood for: when the signal itself comes after (a hung-up terminal sends SIGHUP, and
  // its first write may fail with EIO before), it is the same hang-up, not a second stop that quits at once.
  let echo: NodeJS.Signals | undefined;
  const handler = (signal: NodeJS.Signals) => {
    if (signal === echo) {
      echo = undefined;
      return;
    }
    if (received) {
      atOnce();
      process.exit(exitCodeOf(signal));
    }
    received = signal;
    console.error(`layerbench: stopping after ${nameOf(signal)} (again to quit at once${consequence})`);
    controller.abort(new UserError(`interrupted by ${nameOf(signal)}`));
  };
  // What a closed pipe's reader or a closed terminal no longer reads is dropped; the first such error stops the
  // command as the signal would (a terminal's HUP may come after its first EIO).
  let outputClosed = false;
  const closedPipe = (error: NodeJS.ErrnoException) => {
    const signal = CLOSED_OUTPUT[error.code ?? ""];
    if (!signal) throw error;
    outputClosed = true;
    if (received) return;
    handler(signal);
    echo = signal;
  };
  for (const signal of STOP_SIGNALS) process.on(signal, handler);
  for (const stream of OUTPUTS) stream.on("error", closedPipe);
  return {
    exitCode: () => received && exitCodeOf(received),
    release: () => {
      for (const signal of STOP_SIGNALS) process.off(signal, handler);
      // A hung-up terminal (HUP, EIO) makes Node abort as it exits: resetting the terminal's modes fails
      // (node.cc ResetStdio asserts). Once the command is done, the process ends by the hang-up itself instead.
      if (received === "SIGHUP") process.once("exit", () => process.kill(process.pid, "SIGHUP"));
      // Later writes to a closed pipe are dropped, never an uncaught error after the command is done.
      for (const stream of OUTPUTS) {
        stream.off("error", closedPipe);
        if (outputClosed) stream.on("error", () => undefined);
      }
    },
  };
}
