import { type ChildProcess, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

// A process layerbench starts dies with layerbench, however layerbench ends: `kill -9`, a crash and a closed
// terminal leave no fio writing a disk and no guest running. setpriv (util-linux) gives the child a parent-death
// signal (PR_SET_PDEATHSIG) and execs it; for a process that forks workers of its own, unshare's --kill-child makes
// it the init of a PID namespace, whose end the kernel makes the end of every process in it. fio needs that: each
// of its jobs is a process that calls setsid() (fio backend.c thread_main), so no process group or session holds
// them, and none dies with fio's main process.

export interface TetheredCommand {
  command: string;
  args: string[];
  /** Whether the command runs as the init of a PID namespace of its own, under unshare. */
  inNamespace: boolean;
}

const works = (command: string, args: string[]) => spawnSync(command, args, { stdio: "ignore" }).status === 0;

let pdeathsig: boolean | undefined;
let namespace: string[] | null | undefined;

/** Whether setpriv can give a child a parent-death signal here. */
function hasPdeathsig(): boolean {
  pdeathsig ??= works("setpriv", ["--pdeathsig", "KILL", "true"]);
  return pdeathsig;
}

/**
 * unshare's arguments for a PID namespace this user may make (root, or anyone through a user namespace), or null
 * where none may be made (a container that forbids it, a kernel without unprivileged user namespaces).
 */
function namespaceArgs(): string[] | null {
  if (namespace !== undefined) return namespace;
  const pid = ["--pid", "--fork", "--kill-child=KILL"];
  const candidates = process.getuid?.() === 0 ? [pid, ["--user", ...pid]] : [["--user", ...pid]];
  namespace = candidates.find((args) => works("unshare", [...args, "true"])) ?? null;
  return namespace;
}

/**
 * `command args`, spawned so that it dies with layerbench; with `workers`, so do the processes it forks. Where the
 * system allows neither, the command as it is: stopping it is then the caller's signal alone.
 */
export function tethered(command: string, args: string[], options: { workers?: boolean } = {}): TetheredCommand {
  if (!hasPdeathsig()) return { command, args, inNamespace: false };
  const tree = options.workers ? namespaceArgs() : null;
  return {
    command: "setpriv",
    args: ["--pdeathsig", "KILL", ...(tree ? ["unshare", ...tree] : []), command, ...args],
    inNamespace: tree !== null,
  };
}

/** How long a stopped command has to end cleanly (fio closing an RBD image: a killed client's watch holds it ~30 s). */
const STOP_GRACE_MS = 5_000;

/**
 * Stops a tethered command as SIGINT stops fio (its jobs stopped, its files and images closed), then, past a grace
 * period, kills it with everything it started. unshare ignores SIGINT while it waits, so the signal goes to the
 * command itself, its only child. Returns a function that cancels the kill, for when the command has ended.
 */
export function stopTethered(child: ChildProcess, tether: TetheredCommand): () => void {
  const pid = child.pid;
  if (!tether.inNamespace || pid === undefined) {
    child.kill("SIGINT");
    return () => undefined;
  }
  const children = (() => {
    try {
      return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean);
    } catch {
      return [];
    }
  })();
  for (const command of children) {
    try {
      process.kill(Number(command), "SIGINT");
    } catch {
      // Already gone.
    }
  }
  const timer = setTimeout(() => child.kill("SIGKILL"), children.length > 0 ? STOP_GRACE_MS : 0);
  return () => clearTimeout(timer);
}
