import { fileURLToPath } from "node:url";
import type { EngineEvent } from "@pulumi/pulumi/automation/index.js";
import test from "ava";
import { pulumiWorkspace } from "../bench/matrix/pulumi-workspace.js";
import { PulumiCliMissingError, pulumiErrorSummary } from "../bench/matrix/workspace.js";
import { fakePulumi } from "./helpers/fake-pulumi.js";
import { fioEvents } from "./helpers/fake-workspace.js";

// The real Automation API against a stand-in `pulumi` on PATH: what our workspace asks of the CLI, and
// what it makes of the answers (events over the API's gRPC server, outputs, errors).

const PROJECT = fileURLToPath(new URL("..", import.meta.url));
const ORIGINAL_ENV = { ...process.env };

/** The stand-in CLI on this process's PATH, for the Automation API to find. */
async function installFakeCli(
  t: { teardown: (fn: () => Promise<void> | void) => void },
  outputs: unknown,
  settings: Record<string, string> = {},
) {
  const cli = await fakePulumi(outputs, settings);
  Object.assign(process.env, cli.env);
  t.teardown(async () => {
    for (const name of Object.keys(cli.env)) delete process.env[name];
    Object.assign(process.env, ORIGINAL_ENV);
    await cli.cleanup();
  });
  return cli;
}

const OUTPUTS = { results: { schema: "layerbench/results@1", variants: [] }, vmAddresses: ["192.168.1.77"] };

test.serial(
  "up: selects the stack, sets its run id through the CLI, streams the engine events and returns plain outputs",
  async (t) => {
    const cli = await installFakeCli(t, OUTPUTS);
    const events: EngineEvent[] = [];
    const outputs = await pulumiWorkspace(PROJECT).up("quick", {
      runId: "20261126-r1",
      onEvent: (event) => events.push(event),
    });

    t.deepEqual(outputs, OUTPUTS);
    t.deepEqual(
      events.map((event) => event.diagnosticEvent?.message ?? Object.keys(event).find((key) => key.endsWith("Event"))),
      fioEvents("quick").map(
        (event) => event.diagnosticEvent?.message ?? Object.keys(event).find((key) => key.endsWith("Event")),
      ),
      "every event the CLI sent reached onEvent, in order",
    );
    const calls = await cli.calls();
    t.deepEqual(
      calls.find((call) => call[0] === "stack" && call[1] === "select"),
      ["stack", "select", "--stack", "quick", "--non-interactive"],
    );
    t.deepEqual(
      calls.find((call) => call[0] === "config"),
      [
        "config",
        "set",
        "layerbench:runId",
        "--stack",
        "quick",
        "--plaintext",
        "--non-interactive",
        "--",
        "20261126-r1",
      ],
    );
    const up = calls.find((call) => call[0] === "up")!;
    t.true(up.includes("--yes") && up.includes("--skip-preview"));
    t.is(up[up.indexOf("--stack") + 1], "quick");
    t.is(up[up.indexOf("--color") + 1], "never");
    t.regex(up[up.indexOf("--event-log") + 1], /^tcp:\/\/127\.0\.0\.1:\d+$/);
    t.true(
      calls.findIndex((call) => call[0] === "config") < calls.findIndex((call) => call[0] === "up"),
      "the run id is set before the update",
    );
  },
);

test.serial(
  "a failing update rejects with the CLI's error, which the summary reduces to Pulumi's error lines",
  async (t) => {
    await installFakeCli(t, OUTPUTS, {
      FAKE_PULUMI_UP_ERROR: "error: update failed\n  error: 1 error occurred: 500 storage 'local-zfs' does not exist",
    });
    const error = await t.throwsAsync(pulumiWorkspace(PROJECT).up("quick", { runId: "r1", onEvent: () => undefined }));
    t.is(
      pulumiErrorSummary(error),
      "error: update failed | error: 1 error occurred: 500 storage 'local-zfs' does not exist",
    );
  },
);

test.serial("destroy and outputs address the stack by name; outputs come back as plain values", async (t) => {
  const cli = await installFakeCli(t, OUTPUTS);
  const workspace = pulumiWorkspace(PROJECT);
  await workspace.destroy("homelab", { onEvent: () => undefined });
  t.deepEqual(await workspace.outputs("homelab"), OUTPUTS);
  const calls = await cli.calls();
  const destroy = calls.find((call) => call[0] === "destroy")!;
  t.true(destroy.includes("--yes"));
  t.is(destroy[destroy.indexOf("--stack") + 1], "homelab");
  t.false(
    calls.some((call) => call[0] === "config"),
    "destroy and outputs change no config",
  );
});

test.serial("no pulumi on PATH: PulumiCliMissingError, for up, destroy and outputs alike", async (t) => {
  process.env.PATH = "/nonexistent";
  t.teardown(() => {
    process.env.PATH = ORIGINAL_ENV.PATH;
  });
  const workspace = pulumiWorkspace(PROJECT);
  await t.throwsAsync(workspace.up("quick", { runId: "r1", onEvent: () => undefined }), {
    instanceOf: PulumiCliMissingError,
  });
  await t.throwsAsync(workspace.destroy("quick", { onEvent: () => undefined }), { instanceOf: PulumiCliMissingError });
  await t.throwsAsync(workspace.outputs("quick"), { instanceOf: PulumiCliMissingError });
});
