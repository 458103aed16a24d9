import { rmSync } from "node:fs";
import { recordLeftover } from "./leftovers.js";

// What a second Ctrl-C must still do before the process exits at once: stop the processes it started and remove
// the scratch files it made (gigabytes with default sizes). Everything here is synchronous, as an exit handler is.

interface CleanupAction {
  /** Said to the user when the action fails: what is left behind. */
  leftBehind: string;
  run: () => void;
}

const actions = new Set<CleanupAction>();

/** Registers an action; call the returned function once the normal path has done it. */
export function onEmergencyExit(leftBehind: string, run: () => void): () => void {
  const action = { leftBehind, run };
  actions.add(action);
  return () => actions.delete(action);
}

/**
 * A scratch directory: removed on an emergency exit, and recorded until the run removes it, so that the next run
 * removes it if this one is killed outright (util/leftovers.ts).
 */
export function scratchOnEmergencyExit(path: string): () => void {
  const crossOut = recordLeftover({ kind: "path", path });
  const forget = onEmergencyExit(path, () => {
    rmSync(path, { recursive: true, force: true });
    crossOut();
  });
  return () => {
    forget();
    crossOut();
  };
}

/** Runs every registered action, last registered first (a process before the directory it writes in); returns what is left behind. */
export function runEmergencyCleanup(): string[] {
  const left: string[] = [];
  for (const action of [...actions].reverse()) {
    try {
      action.run();
    } catch {
      left.push(action.leftBehind);
    }
    actions.delete(action);
  }
  return left;
}
