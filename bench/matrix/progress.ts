import type { EngineEvent } from "@pulumi/pulumi/automation/index.js";
import { runningWorkloads } from "../remote/markers.js";
import { formatDuration } from "../util/format.js";

/** What a matrix run tells the person watching it, per stack. */
export interface MatrixProgress {
  operationStarted(stack: string, label: string): void;
  event(stack: string, event: EngineEvent): void;
  operationFinished(stack: string, label: string, outcome: { ok: boolean; message?: string }): void;
  note(stack: string, message: string): void;
}

const STATUS_EVERY_MS = 15_000;

interface StackState {
  startedAt: number;
  lastStatusAt: number;
  inFlight: Set<string>;
  done: number;
  failed: number;
  reported: string;
}

function resourceName(urn: string): string {
  return urn.slice(urn.lastIndexOf("::") + 2);
}

function firstLine(text: string, limit = 300): string {
  const line = text.trim().split("\n")[0] ?? "";
  return line.length > limit ? `${line.slice(0, limit)}…` : line;
}

/**
 * Lines, not a bar: an update has no known length, and several stacks' lines stay readable in CI logs.
 * Resource events are summed up (at most one status line every 15 s); each fio workload gets its own line.
 */
export function consoleMatrixProgress(write: (line: string) => void, now: () => number = Date.now): MatrixProgress {
  const states = new Map<string, StackState>();
  const say = (stack: string, text: string) => write(`[${stack}] ${text}`);

  function status(stack: string, state: StackState): void {
    const text = `${state.done} resource${state.done === 1 ? "" : "s"} done, ${state.inFlight.size} in progress${state.failed > 0 ? `, ${state.failed} failed` : ""}`;
    if (text === state.reported || now() - state.lastStatusAt < STATUS_EVERY_MS) return;
    state.reported = text;
    state.lastStatusAt = now();
    say(stack, text);
  }

  return {
    operationStarted(stack, label) {
      states.set(stack, {
        startedAt: now(),
        lastStatusAt: now(),
        inFlight: new Set(),
        done: 0,
        failed: 0,
        reported: "",
      });
      say(stack, `${label}…`);
    },
    event(stack, event) {
      const state = states.get(stack);
      if (!state) return;
      const pre = event.resourcePreEvent;
      const outputs = event.resOutputsEvent;
      const failed = event.resOpFailedEvent;
      const diagnostic = event.diagnosticEvent;
      if (pre && !pre.planning && pre.metadata.op !== "same") state.inFlight.add(pre.metadata.urn);
      if (outputs && !outputs.planning && outputs.metadata.op !== "same") {
        state.inFlight.delete(outputs.metadata.urn);
        state.done += 1;
      }
      if (failed) {
        state.inFlight.delete(failed.metadata.urn);
        state.failed += 1;
        say(stack, `${failed.metadata.op} failed: ${resourceName(failed.metadata.urn)} (${failed.metadata.type})`);
      }
      if (diagnostic) {
        // The fio script's progress lines, which the Command logs to the engine from its stderr.
        for (const { workload, attempt } of runningWorkloads(diagnostic.message)) {
          say(stack, `fio ${workload} #${attempt}${diagnostic.urn ? ` on ${resourceName(diagnostic.urn)}` : ""}`);
        }
        if (diagnostic.severity === "error") say(stack, `error: ${firstLine(diagnostic.message)}`);
      }
      if (event.summaryEvent) {
        const changes = Object.entries(event.summaryEvent.resourceChanges ?? {}).map(([op, count]) => `${op} ${count}`);
        if (changes.length > 0) say(stack, `changes: ${changes.join(", ")}`);
      }
      status(stack, state);
    },
    operationFinished(stack, label, { ok, message }) {
      const state = states.get(stack);
      const took = state ? ` in ${formatDuration((now() - state.startedAt) / 1000)}` : "";
      say(stack, ok ? `${label} done${took}` : `${label} failed${took}: ${message ?? "unknown error"}`);
    },
    note(stack, message) {
      say(stack, message);
    },
  };
}
