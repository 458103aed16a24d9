#!/usr/bin/env node
// The CLI runs compiled (dist/, built by `npm ci` through the prepare script): it starts in a fraction of the
// time a TypeScript loader takes. Where a TypeScript source is newer than the build (a checkout being edited,
// or never built), it runs the sources through tsx instead, so that an edit takes effect at once.
import { existsSync, readdirSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";

const stamp = fileURLToPath(new URL("../dist/.built", import.meta.url));

function newerThan(dir, time) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory() ? newerThan(path, time) : entry.name.endsWith(".ts") && statSync(path).mtimeMs > time)
      return true;
  }
  return false;
}

const built = existsSync(stamp) && !newerThan(fileURLToPath(new URL(".", import.meta.url)), statSync(stamp).mtimeMs);
let main;
if (built) {
  ({ main } = await import("../dist/main.js"));
} else {
  const { register } = await import("tsx/esm/api");
  register();
  ({ main } = await import("./cli/main.ts"));
}
process.exitCode = await main(process.argv);
