import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import test from "ava";

// The CLI as `npm ci` builds it (dist/, compiled JS): it must find the project's files from there as it does from
// the sources. Built here into a scratch directory of the checkout, so that a stale dist/ proves nothing.

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("..", import.meta.url));

test("the compiled CLI finds the project's stacks and answers like the sources", async (t) => {
  t.timeout(120_000);
  const out = await fs.mkdtemp(join(ROOT, ".layerbench-build-"));
  t.teardown(() => fs.rm(out, { recursive: true, force: true }));
  await run(process.execPath, [
    join(ROOT, "node_modules/typescript/bin/tsc"),
    "-p",
    join(ROOT, "tsconfig.build.json"),
    "--outDir",
    out,
  ]);
  const main = join(out, "bench/cli/main.js");
  const script = `const { main } = await import(${JSON.stringify(main)}); process.exitCode = await main(process.argv);`;
  const plan = await run(
    process.execPath,
    ["--input-type=module", "-e", script, "layerbench", "plan", "--stack", "quick"],
    { cwd: "/" },
  );
  t.regex(plan.stdout, /^layerbench plan: stack quick on node pve \(pve\.example\.lan\)/m);
  const help = await run(process.execPath, ["--input-type=module", "-e", script, "layerbench", "--help"], { cwd: "/" });
  t.regex(help.stdout, /^ {2}plan \[options\]/m);
});
