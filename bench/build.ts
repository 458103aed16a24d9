// Builds the CLI into dist/ (run by `npm ci` through the prepare script, and by `npm run build`): bundled by
// esbuild from the TypeScript sources. One bundle loads faster than the compiled modules one by one (a big report:
// 1.83 s against 1.95 s, median of 10), chiefly because vega comes from its ES modules, where the parts a report
// never uses (its Node file loader and fetch, geo, force layouts) are left out. Each command's modules stay a
// chunk of their own, loaded when it runs. Not minified, so that a stack trace names the functions it went through.
// Usage: tsx bench/build.ts [--outdir DIR]
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
const { values } = parseArgs({ options: { outdir: { type: "string", default: join(root, "dist") } } });
const outdir = values.outdir as string;

await fs.rm(outdir, { recursive: true, force: true });
await build({
  entryPoints: [join(root, "bench/cli/main.ts")],
  outdir,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  // ES modules first: tree-shaken, where vega's "main" (its Node build) loads every vega package.
  mainFields: ["module", "main"],
  // The Automation API and the provider SDK load their own plugins and protos from their package directories.
  external: ["@pulumi/*", "@muhlba91/*"],
  // CommonJS dependencies (commander, jstat) bundled into ES modules call require.
  banner: {
    js: "import { createRequire as bannerCreateRequire } from 'node:module'; const require = bannerCreateRequire(import.meta.url);",
  },
  logLevel: "warning",
});
// bin.js runs the build unless a source is newer than this stamp.
await fs.writeFile(join(outdir, ".built"), "");
