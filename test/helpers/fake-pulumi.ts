import { promises as fs } from "node:fs";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { fioEvents } from "./fake-workspace.js";
import { scratchDir } from "./fio.js";

const FAKE_CLI = fileURLToPath(new URL("./fake-pulumi-cli.cjs", import.meta.url));

export interface FakePulumi {
  /** PATH with the stand-in `pulumi` first, and its settings. */
  env: Record<string, string>;
  /** The argument lists it was called with, in order. */
  calls: () => Promise<string[][]>;
  cleanup: () => Promise<void>;
}

/** A stand-in `pulumi` (fake-pulumi-cli.cjs) answering with these outputs and sending fio's engine events. */
export async function fakePulumi(outputs: unknown, settings: Record<string, string> = {}): Promise<FakePulumi> {
  const scratch = await scratchDir("layerbench-fake-pulumi-");
  const bin = join(scratch.path, "bin");
  await fs.mkdir(bin);
  await fs.writeFile(join(bin, "pulumi"), `#!/bin/sh\nexec "${process.execPath}" "${FAKE_CLI}" "$@"\n`, {
    mode: 0o755,
  });
  await fs.writeFile(join(scratch.path, "outputs.json"), JSON.stringify(outputs));
  await fs.writeFile(join(scratch.path, "events.json"), JSON.stringify(fioEvents("quick")));
  const log = join(scratch.path, "calls.jsonl");
  return {
    env: {
      PATH: `${bin}${delimiter}${process.env.PATH ?? ""}`,
      FAKE_PULUMI_LOG: log,
      FAKE_PULUMI_OUTPUTS: join(scratch.path, "outputs.json"),
      FAKE_PULUMI_EVENTS: join(scratch.path, "events.json"),
      ...settings,
    },
    calls: async () =>
      (await fs.readFile(log, "utf8"))
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as string[]),
    cleanup: scratch.cleanup,
  };
}
