import test from "ava";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { startFakeMonitor } from "./helpers/fake-monitor.js";
import { stackConfig } from "./helpers/pulumi-mocks.js";

// What `pulumi up` does with this project: the language host runs the SDK's Node runner on the program, which
// loads index.ts through ts-node's ESM hooks ("automatic ESM mode": type=module, TypeScript >= 4.7, ts-node/esm).
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const RUNNER = fileURLToPath(new URL("../node_modules/@pulumi/pulumi/cmd/run/index.js", import.meta.url));

function runProgram(monitor: string, config: Record<string, string>): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [RUNNER, `--monitor=${monitor}`, "--project=layerbench", "--stack=quick", "."],
      {
        cwd: ROOT,
        env: { ...process.env, PULUMI_NODEJS_TYPESCRIPT: "true", PULUMI_CONFIG: JSON.stringify(config), PULUMI_CONFIG_SECRET_KEYS: '["layerbench:sshPrivateKey"]' },
        timeout: 170_000,
      },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` }),
    );
  });
}

test.serial("Pulumi's runner loads the TypeScript program and it gets past config to registering resources", async (t) => {
  t.timeout(180_000);
  const monitor = await startFakeMonitor();
  t.teardown(monitor.close);
  const config = { ...(await stackConfig(fileURLToPath(new URL("../stacks/Pulumi.quick.yaml", import.meta.url)))), "layerbench:sshPrivateKey": "not-a-key" };
  const { output } = await runProgram(monitor.address, config);
  t.deepEqual(monitor.registered.slice(0, 1), ["pulumi:pulumi:Stack::layerbench-quick"], output);
  t.notRegex(output, /layerbench:\w+ (is required|.* is not allowed)/, "the quick stack's config is valid");
});

test.serial("under Pulumi's runner a bad config value is one clear message, not a stack trace", async (t) => {
  t.timeout(180_000);
  const monitor = await startFakeMonitor();
  t.teardown(monitor.close);
  const config: Record<string, string> = { ...(await stackConfig(fileURLToPath(new URL("../stacks/Pulumi.quick.yaml", import.meta.url)))), "layerbench:sshPrivateKey": "k" };
  config["layerbench:vmVariants"] = JSON.stringify({ list: [{ id: "bad", aio: "native", cache: "writeback" }] });
  const { code, output } = await runProgram(monitor.address, config);
  t.not(code, 0);
  t.regex(output, /error: \[runtime\] layerbench:vmVariants: variant "bad": aio=native needs cache none or directsync \(O_DIRECT\), not writeback/);
  t.notRegex(output, /components\/config\.ts/, "no stack trace into the program");
});
