import { Writable } from "node:stream";
import { stripVTControlCharacters } from "node:util";
import test from "ava";

// How a run shows its progress: plain lines in logs and pipes, a bar on a terminal.

/** A terminal as cli-progress drives it: readline's cursor calls on a writable that says it is a TTY. */
function fakeTerminal(): { terminal: NodeJS.WriteStream; written: () => string } {
  let text = "";
  const terminal = Object.assign(
    new Writable({
      write(chunk, _encoding, done) {
        text += String(chunk);
        done();
      },
    }),
    { isTTY: true, columns: 120 },
  ) as unknown as NodeJS.WriteStream;
  return { terminal, written: () => text };
}

test("on a terminal: the last result line is printed at stop, and the time left is never NaN or NF", async (t) => {
  const { consoleProgress } = await import("../bench/local/progress.js");
  const { terminal, written } = fakeTerminal();
  const progress = consoleProgress(terminal);
  progress.start(10);
  progress.stepStarted("[1/2] a w", 5);
  progress.stepFinished("[1/2] a w: write 1000 IOPS");
  progress.stepStarted("[2/2] a w", 5);
  progress.stepFinished("[2/2] a w: write 2000 IOPS");
  progress.stop();
  const text = stripVTControlCharacters(written());
  t.true(text.includes("[1/2] a w: write 1000 IOPS"));
  t.true(text.includes("[2/2] a w: write 2000 IOPS"), "the last result line, written before stop");
  t.regex(text, /about 0s left \| \[2\/2\] a w/, "at the end: nothing left");
  t.notRegex(text, /NaN|NF|NULL|Infinity/);
});

test("on a terminal: the time left learns from the runs that ended (an end_fsync flush takes longer than the runtime)", async (t) => {
  const { consoleProgress } = await import("../bench/local/progress.js");
  const { terminal, written } = fakeTerminal();
  let clock = 0;
  const progress = consoleProgress(terminal, () => clock);
  progress.start(100);
  progress.stepStarted("[1/10] a w", 10);
  // The first run took five times its expected 10 s: the 90 s still expected will take about 450.
  clock = 50_000;
  progress.stepFinished("[1/10] a w: write 1000 IOPS");
  progress.stepStarted("[2/10] a w", 10);
  progress.stop();
  t.regex(stripVTControlCharacters(written()).split("[1/10] a w: write 1000 IOPS").at(-1) ?? "", /about 7m30s left/);
});
