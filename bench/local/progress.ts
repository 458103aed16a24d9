import { MultiBar, Presets } from "cli-progress";

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
  const bars = new MultiBar(
    {
      stream,
      format: " {bar} {percentage}% | ETA {eta_formatted} | {label}",
      hideCursor: true,
      clearOnComplete: false,
    },
    Presets.shades_classic,
  );
  const bar = bars.create(1, 0, { label: "" });
  let done = 0;
  let stepStart = 0;
  let stepExpected = 0;
  let timer: NodeJS.Timeout | undefined;
  return {
    start(totalSeconds) {
      bar.setTotal(totalSeconds);
      timer = setInterval(() => {
        bar.update(done + Math.min((Date.now() - stepStart) / 1000, stepExpected));
      }, 500);
    },
    stepStarted(label, expectedSeconds) {
      stepStart = Date.now();
      stepExpected = expectedSeconds;
      bar.update(done, { label });
    },
    stepFinished(line) {
      done += stepExpected;
      stepExpected = 0;
      bar.update(done);
      bars.log(`${line}\n`);
    },
    note(line) {
      bars.log(`${line}\n`);
    },
    stop() {
      clearInterval(timer);
      bars.stop();
    },
  };
}
