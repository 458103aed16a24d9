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
export function consoleProgress(
  stream: NodeJS.WriteStream = process.stderr,
  /** Milliseconds now: the tests' clock. */
  now: () => number = Date.now,
): ProgressReporter {
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
  // "NFs" before the first tick; once runs have ended, scaled by how long they took against their expected
  // seconds: a buffered run's end_fsync flush under an emulated guest took 5m21s for 60 s of runtime.
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
  // Seconds the finished runs took, against the seconds they were expected to take.
  let took = 0;
  let done = 0;
  const pace = () => (done > 0 && took > 0 ? took / done : 1);
  const left = (value: number) => formatDuration(Math.max(0, Math.ceil((total - value) * pace())));
  const bar = bars.create(total, 0, { label: "", left: "?" });
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
      timer = setInterval(() => show(done + Math.min((now() - stepStart) / 1000 / pace(), stepExpected)), 500);
    },
    stepStarted(label, expectedSeconds) {
      stepStart = now();
      stepExpected = expectedSeconds;
      show(done, { label });
    },
    stepFinished(line) {
      took += (now() - stepStart) / 1000;
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
