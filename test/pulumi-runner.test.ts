import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import { parse } from "yaml";
import { startFakeMonitor } from "./helpers/fake-monitor.js";
import { stackConfig } from "./helpers/pulumi-mocks.js";

// What `pulumi up` does with this project: the language host runs the SDK's Node runner on the program, with
// the runtime options of Pulumi.yaml: `typescript: false` (the runner registers no ts-node) and `nodeargs`
// (tsx's loader, which then loads index.ts).
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const RUNNER = fileURLToPath(new URL("../node_modules/@pulumi/pulumi/cmd/run/index.js", import.meta.url));
const { runtime } = parse(readFileSync(join(ROOT, "Pulumi.yaml"), "utf8")) as {
  runtime: { name: string; options: { typescript: boolean; nodeargs: string } };
};

/** The shell's `times` after the runner: its children's user and system CPU seconds, on its last line. */
const WITH_CPU_TIMES = 'node "$@"; status=$?; times >&2; exit $status';

function runProgram(
  monitor: string,
  config: Record<string, string>,
  /** Stops the runner once this holds (checked every 100 ms): the rest of the program is not what is tested. */
  enough?: () => boolean,
): Promise<{ code: number; output: string; cpuSec?: number }> {
  const args = [
    ...runtime.options.nodeargs.split(" "),
    RUNNER,
    `--monitor=${monitor}`,
    "--project=layerbench",
    "--stack=quick",
    ".",
  ];
  return new Promise((resolve) => {
    // A runner left to end by itself runs under sh, which says the CPU time it took: unlike the wall clock, a busy
    // machine does not lengthen it. One stopped early is killed directly.
    const child = execFile(
      enough ? process.execPath : "sh",
      enough ? args : ["-c", WITH_CPU_TIMES, "sh", ...args],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          PULUMI_NODEJS_TYPESCRIPT: String(runtime.options.typescript),
          PULUMI_CONFIG: JSON.stringify(config),
          PULUMI_CONFIG_SECRET_KEYS: '["layerbench:sshPrivateKey"]',
        },
        timeout: 170_000,
      },
      (error, stdout, stderr) => {
        clearInterval(watch);
        const times = /(\d+)m([\d.]+)s (\d+)m([\d.]+)s\s*$/.exec(enough ? "" : stderr);
        resolve({
          code: error ? Number(error.code ?? 1) : 0,
          output: `${stdout}${stderr}`,
          ...(times && { cpuSec: Number(times[1]) * 60 + Number(times[2]) + Number(times[3]) * 60 + Number(times[4]) }),
        });
      },
    );
    const watch = setInterval(() => {
      if (enough?.()) child.kill();
    }, 100);
  });
}

test.serial(
  "Pulumi's runner loads the TypeScript program and it gets past config to registering resources",
  async (t) => {
    t.timeout(180_000);
    // Every registration accepted: the program goes on past its config to its components.
    const monitor = await startFakeMonitor(() => true);
    t.teardown(monitor.close);
    const config = {
      ...(await stackConfig(fileURLToPath(new URL("../stacks/Pulumi.quick.yaml", import.meta.url)))),
      "layerbench:sshPrivateKey": "not-a-key",
    };
    const { output } = await runProgram(monitor.address, config, () => monitor.registered.length >= 5);
    t.deepEqual(monitor.registered.slice(0, 1), ["pulumi:pulumi:Stack::layerbench-quick"], output);
    t.true(monitor.registered.length >= 5, "components registered after the stack");
    t.notRegex(output, /layerbench:\w+ (is required|.* is not allowed)/, "the quick stack's config is valid");
  },
);

test.serial("under Pulumi's runner a bad config value is one clear message, not a stack trace", async (t) => {
  t.timeout(180_000);
  // The stack accepted: a config error comes before any component, and it alone is printed.
  const monitor = await startFakeMonitor((type) => type === "pulumi:pulumi:Stack");
  t.teardown(monitor.close);
  const config: Record<string, string> = {
    ...(await stackConfig(fileURLToPath(new URL("../stacks/Pulumi.quick.yaml", import.meta.url)))),
    "layerbench:sshPrivateKey": "k",
  };
  config["layerbench:vmVariants"] = JSON.stringify({ list: [{ id: "bad", aio: "native", cache: "writeback" }] });
  const { code, output, cpuSec } = await runProgram(monitor.address, config);
  t.not(code, 0);
  // Node 20's util.inspect looped on the error's source-mapped SDK frames (nodejs/node#64011): 35 CPU seconds
  // here, against 4 for the runner to load the program and report. CPU time, which a busy machine does not add to.
  t.true(cpuSec !== undefined && cpuSec < 15, `the error reported in ${cpuSec?.toFixed(1)} CPU seconds`);
  t.regex(
    output,
    /error: \[runtime\] layerbench:vmVariants: variant "bad": aio=native needs cache none or directsync \(O_DIRECT\), not writeback/,
  );
  t.notRegex(output, /components\/config\.ts/, "no stack trace into the program");
});

test("Pulumi.yaml runs the program with tsx, not the runner's ts-node", (t) => {
  t.deepEqual(runtime, { name: "nodejs", options: { typescript: false, nodeargs: "--import=tsx" } });
});
