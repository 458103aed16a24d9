import { promises as fs } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import ts from "typescript";

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

test("tiers by file name: *.unit.test.ts the unit tier, every other test file the integration tier, no list to keep", async (t) => {
  const manifest = JSON.parse(await fs.readFile(join(ROOT, "package.json"), "utf8")) as {
    scripts: Record<string, string>;
  };
  const { "test:unit": unit, "test:integration": integration } = manifest.scripts;
  t.regex(unit, / 'test\/\*\.unit\.test\.ts'$/);
  t.regex(integration, / 'test\/\*\.test\.ts' '!test\/\*\.unit\.test\.ts'$/);
  // No hand-kept list: a new test file is in a tier by its name.
  t.notRegex(`${unit} ${integration}`, /test\/[\w-]+(\.unit)?\.test\.ts/);
  const files = (await fs.readdir(join(ROOT, "test"))).filter((name) => name.endsWith(".test.ts"));
  t.true(files.filter((name) => name.endsWith(".unit.test.ts")).length >= 25, "the unit tier holds the fast tests");
  // A file's tier is its name's: the unit tier runs with a stand-in fio, so its files name no real tool's use.
  for (const name of files.filter((file) => file.endsWith(".unit.test.ts") && file !== "layout.unit.test.ts")) {
    const text = await fs.readFile(join(ROOT, "test", name), "utf8");
    t.notRegex(text, /startSshd|qemu-system|prepareGuest\(/, `${name} needs a real tool: name it *.test.ts`);
  }
});

/** The .ts files under a folder of the tree, recursively. */
async function sources(dir: string): Promise<string[]> {
  const entries = await fs.readdir(join(ROOT, dir), { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith(".ts"))
    .map((entry) => join(entry.parentPath, entry.name));
}

/** Each file's relative imports, static, type-only and dynamic alike: a circle of any of them is one. */
async function importGraph(files: string[]): Promise<Map<string, string[]>> {
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = await fs.readFile(file, "utf8");
    const targets = [...text.matchAll(/(?:(?:import|export)[^;]*?from\s+|import\()"(\.[^"]+)\.js"/g)].map((match) =>
      join(file, "..", `${match[1]}.ts`),
    );
    graph.set(file, [...new Set(targets.filter((target) => known.has(target)))]);
  }
  return graph;
}

/** The circles of a graph: Tarjan's strongly connected components of more than one file, or a file importing itself. */
function circles(graph: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (file: string): void => {
    index.set(file, counter);
    low.set(file, counter);
    counter += 1;
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(file, Math.min(low.get(file) ?? 0, low.get(next) ?? 0));
      } else if (stack.includes(next)) low.set(file, Math.min(low.get(file) ?? 0, index.get(next) ?? 0));
    }
    if (low.get(file) !== index.get(file)) return;
    const component: string[] = [];
    let member: string | undefined;
    do {
      member = stack.pop();
      if (member) component.push(member);
    } while (member && member !== file);
    if (component.length > 1 || graph.get(file)?.includes(file)) found.push(component);
  };
  for (const file of graph.keys()) if (!index.has(file)) visit(file);
  return found;
}

test("no import circles in bench/ or components/: every module can be read after the ones it imports", async (t) => {
  const graph = await importGraph([...(await sources("bench")), ...(await sources("components"))]);
  t.true(graph.size > 150, "the tree is read");
  const found = circles(graph).map((component) => component.map((file) => file.slice(ROOT.length)).sort());
  t.deepEqual(found, [], `circles: ${found.map((component) => component.join(" -> ")).join("; ")}`);
  // The check itself finds a circle where there is one.
  t.deepEqual(
    circles(
      new Map([
        ["a", ["b"]],
        ["b", ["c"]],
        ["c", ["a"]],
        ["d", ["a"]],
      ]),
    ).map((c) => c.sort()),
    [["a", "b", "c"]],
  );
});

/** What a file loads when it is loaded: its static imports that are not type-only, relative ones and packages. */
async function loadedAtStart(entry: string): Promise<{ files: Set<string>; packages: Set<string> }> {
  const [files, packages] = [new Set<string>(), new Set<string>()];
  const visit = async (file: string): Promise<void> => {
    if (files.has(file)) return;
    files.add(file);
    const text = await fs.readFile(file, "utf8");
    for (const [, what, from] of text.matchAll(
      /^(?:import|export)(\s+type\b)?[^;]*?from\s+"([^"]+)"|^import\s+"([^"]+)"/gm,
    )) {
      if (what || !from) continue;
      if (from.startsWith(".")) await visit(join(file, "..", from.replace(/\.js$/, ".ts")));
      else packages.add(from.startsWith("@") ? from.split("/").slice(0, 2).join("/") : from.split("/")[0]);
    }
  };
  await visit(entry);
  return { files, packages };
}

test("`layerbench --help` loads commander and the option declarations, not the results schema or the report", async (t) => {
  // Measured: 0.24 s with zod and the report's charts reached through one constant, 0.15 s without (node -e 0: 0.11 s).
  const { files, packages } = await loadedAtStart(join(ROOT, "bench/cli/main.ts"));
  t.true(files.has(join(ROOT, "bench/cli/options.ts")), "the walk follows main's imports");
  t.deepEqual(
    [...packages].filter((name) => !name.startsWith("node:")).sort(),
    ["@commander-js/extra-typings"],
    [...files].map((file) => file.slice(ROOT.length)).join(", "),
  );
});

test("no file over 400 lines in bench/ or components/: a longer one is split where its parts have names", async (t) => {
  const files = [...(await sources("bench")), ...(await sources("components"))];
  const lengths = await Promise.all(
    files.map(async (file) => ({ file, lines: (await fs.readFile(file, "utf8")).split("\n").length - 1 })),
  );
  t.true(lengths.length > 150, "the tree is read");
  const long = lengths
    .filter(({ lines }) => lines > 400)
    .map(({ file, lines }) => `${file.slice(ROOT.length)}: ${lines}`);
  t.deepEqual(long, []);
});

/** Functions, methods, constructors and arrow functions longer than `limit` lines, each named with its place. */
function longFunctions(file: string, text: string, limit: number): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && "body" in node && node.body) {
      const [start, end] = [node.getStart(), node.getEnd()].map((at) => source.getLineAndCharacterOfPosition(at).line);
      if (end - start + 1 > limit) found.push(`${file.slice(ROOT.length)}:${start + 1} (${end - start + 1} lines)`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

test("no function over 80 lines in bench/ or components/: each split where its parts have names", async (t) => {
  const files = [...(await sources("bench")), ...(await sources("components"))];
  const found = (
    await Promise.all(files.map(async (file) => longFunctions(file, await fs.readFile(file, "utf8"), 80)))
  ).flat();
  t.deepEqual(found, []);
  // The check finds one where there is one.
  const long = `function long() {\n${"  step();\n".repeat(80)}}\n`;
  t.deepEqual(longFunctions(join(ROOT, "x.ts"), long, 80), ["x.ts:1 (82 lines)"]);
});
