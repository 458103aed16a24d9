import test from "ava";
import { onStopSignals } from "../bench/cli/commands/interrupts.js";

// A closed terminal both fails the next write (EIO) and sends SIGHUP, in either order: one hang-up, one stop. Seen
// in a clean-clone CI run under load: EIO first, then SIGHUP taken for a second stop, and the run quit at once
// without writing results.json (test/cli-faults.test.ts's closed terminal).

test.serial("a closed terminal's EIO then its SIGHUP are one stop; a Ctrl-C after them is the second", (t) => {
  const exits: number[] = [];
  const exit = process.exit;
  process.exit = ((code?: number) => {
    exits.push(code ?? 0);
  }) as typeof process.exit;
  const exitHooks = process.listeners("exit");
  let quitAtOnce = 0;
  const controller = new AbortController();
  const policy = onStopSignals(controller, "", () => {
    quitAtOnce += 1;
  });
  try {
    process.stderr.emit("error", Object.assign(new Error("write EIO"), { code: "EIO" }));
    t.true(controller.signal.aborted, "the EIO stops the command");
    process.emit("SIGHUP", "SIGHUP");
    t.deepEqual([exits, quitAtOnce], [[], 0], "its SIGHUP is the same hang-up");
    t.is(policy.exitCode(), 129);
    process.emit("SIGINT", "SIGINT");
    t.deepEqual([exits, quitAtOnce], [[130], 1], "a Ctrl-C after it quits at once");
  } finally {
    policy.release();
    process.exit = exit;
    // release() has a hung-up process end by SIGHUP as it exits: not this test's worker.
    for (const hook of process.listeners("exit")) if (!exitHooks.includes(hook)) process.off("exit", hook);
  }
});
