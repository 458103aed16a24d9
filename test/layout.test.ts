import { promises as fs } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";

// The README's Layout table is the map a newcomer reads first: it names every folder of the tree, and every
// file it names exists.

const ROOT = fileURLToPath(new URL("..", import.meta.url));

async function folders(dir: string): Promise<string[]> {
  const entries = await fs.readdir(join(ROOT, dir), { withFileTypes: true });
  return entries
    .filter((entry) => entry.isDirectory() && entry.name !== "examples")
    .map((entry) => `${dir}/${entry.name}/`);
}

test("the README's layout names every folder of bench/, and every component file it names exists", async (t) => {
  const readme = await fs.readFile(join(ROOT, "README.md"), "utf8");
  const layout = readme.slice(readme.indexOf("## Layout"), readme.indexOf("## Development"));
  const named = [...layout.matchAll(/^\| `([^`]+)` +\|/gm)].map((match) => match[1]);
  t.deepEqual(named.filter((name) => name.startsWith("bench/")).sort(), (await folders("bench")).sort());
  for (const name of ["components/", "stacks/", "test/"]) t.true(named.includes(name), name);
  const files = [...layout.matchAll(/`([a-z0-9-]+\.ts)`/g)].map((match) => match[1]);
  t.true(files.length > 10);
  // Every file below components/ and bench/, subfolders (components/backends/, bench/cli/commands/) included.
  const tree = [
    ...(await fs.readdir(join(ROOT, "components"), { recursive: true })),
    ...(await fs.readdir(join(ROOT, "bench"), { recursive: true })),
  ].map((path) => path.slice(path.lastIndexOf("/") + 1));
  for (const file of files) t.true(tree.includes(file), `${file} is in the tree`);
});

test("every test file is in exactly one tier of package.json: the unit tier and the integration tier make npm test", async (t) => {
  const manifest = JSON.parse(await fs.readFile(join(ROOT, "package.json"), "utf8")) as {
    scripts: Record<string, string>;
  };
  const tierFiles = (script: string) =>
    [...manifest.scripts[script].matchAll(/test\/[\w-]+\.test\.ts/g)].map((m) => m[0]);
  const unit = tierFiles("test:unit");
  const integration = tierFiles("test:integration");
  const all = (await fs.readdir(join(ROOT, "test")))
    .filter((name) => name.endsWith(".test.ts"))
    .map((name) => `test/${name}`);
  t.deepEqual([...unit, ...integration].sort(), all.sort());
  t.deepEqual(
    unit.filter((file) => integration.includes(file)),
    [],
  );
});
