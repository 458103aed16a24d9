import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import test from "ava";
import { syntheticDocument, variant } from "./helpers/documents.js";

// The CLI as `npm ci` builds it (dist/, bundled by bench/build.ts): it must find the project's files from there as it
// does from the sources. Built here into a scratch directory of the checkout, so that a stale dist/ proves nothing.

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("..", import.meta.url));

test("the bundled CLI finds the project's stacks and answers like the sources", async (t) => {
  t.timeout(120_000);
  const out = await fs.mkdtemp(join(ROOT, ".layerbench-build-"));
  t.teardown(() => fs.rm(out, { recursive: true, force: true }));
  await run(process.execPath, [
    join(ROOT, "node_modules/tsx/dist/cli.mjs"),
    join(ROOT, "bench/build.ts"),
    "--outdir",
    out,
  ]);
  const main = join(out, "main.js");
  const script = `const { main } = await import(${JSON.stringify(main)}); process.exitCode = await main(process.argv);`;
  const plan = await run(
    process.execPath,
    ["--input-type=module", "-e", script, "layerbench", "plan", "--stack", "quick"],
    { cwd: "/" },
  );
  t.regex(plan.stdout, /^layerbench plan: stack quick on node pve \(pve\.example\.lan\)/m);
  const help = await run(process.execPath, ["--input-type=module", "-e", script, "layerbench", "--help"], { cwd: "/" });
  t.regex(help.stdout, /^ {2}plan \[options\]/m);
  // The report's chunk: vega bundled from its ES modules, and its browser build read for report.html.
  const results = join(out, "results.json");
  await fs.writeFile(
    results,
    JSON.stringify(
      syntheticDocument({ kind: "local", host: "box" }, [
        { spec: variant("nvme", true), iops: { "randwrite-4k": [1000, 1200] } },
        { spec: variant("sata"), iops: { "randwrite-4k": [500] } },
      ]),
    ),
  );
  await run(
    process.execPath,
    ["--input-type=module", "-e", script, "layerbench", "report", results, "--out", join(out, "report")],
    { cwd: "/" },
  );
  const iops = await fs.readFile(join(out, "report/iops.svg"), "utf8");
  t.regex(iops, /class="mark-rect role-mark[^>]*><path/, "iops.svg has its bars");
  t.regex(await fs.readFile(join(out, "report/report.html"), "utf8"), /vegaEmbed\("#charts"/);
});
