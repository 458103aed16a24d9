import { MultiBar, Presets } from "cli-progress";
import { formatDuration } from "../util/format.js";

/** What the runner tells the person watching. Steps are fio runs; sizes are in expected seconds. */
export interface ProgressReporter {
  start(totalSeconds: number): void;
  stepStarted(label: string, expectedSeconds: number): void;
  stepFinished(line: string): void;
  note(line: string): void;
  stop(): void;
}

/** A bar with ETA on a terminal; plain lines otherwise (CI logs, pipes). */
export function consoleProgress(stream: NodeJS.WriteStream = process.stderr): ProgressReporter {
  if (!stream.isTTY) {
    return {
      start: (totalSeconds) => stream.write(`layerbench: about ${Math.ceil(totalSeconds)} s of fio runs\n`),
      stepStarted: (label) => stream.write(`  running ${label}\n`),
      stepFinished: (line) => stream.write(`  ${line}\n`),
      note: (line) => stream.write(`${line}\n`),
      stop: () => undefined,
    };
  }
  // The time left is the runs' expected seconds still to come, not cli-progress's rate-based ETA, which reads
  // "NFs" before the first tick.
  const bars = new MultiBar(
    {
      stream,
      format: " {bar} {percentage}% | about {left} left | {label}",
      hideCursor: true,
      clearOnComplete: false,
    },
    Presets.shades_classic,
  );
  let total = 1;
  const left = (value: number) => formatDuration(Math.max(0, Math.ceil(total - value)));
  const bar = bars.create(total, 0, { label: "", left: "?" });
  let done = 0;
  let stepStart = 0;
  let stepExpected = 0;
  let timer: NodeJS.Timeout | undefined;
  const show = (value: number, payload: { label?: string } = {}) =>
    bar.update(value, { ...payload, left: left(value) });
  return {
    start(totalSeconds) {
      total = totalSeconds;
      bar.setTotal(totalSeconds);
      show(0);
      timer = setInterval(() => show(done + Math.min((Date.now() - stepStart) / 1000, stepExpected)), 500);
    },
    stepStarted(label, expectedSeconds) {
      stepStart = Date.now();
      stepExpected = expectedSeconds;
      show(done, { label });
    },
    stepFinished(line) {
      done += stepExpected;
      stepExpected = 0;
      show(done);
      bars.log(`${line}\n`);
    },
    note(line) {
      bars.log(`${line}\n`);
    },
    stop() {
      clearInterval(timer);
      // MultiBar prints what log() buffered at its next redraw, and stop() does not redraw: the last result line
      // was lost. One redraw first.
      bars.update();
      bars.stop();
    },
  };
}
