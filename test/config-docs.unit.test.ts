import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import test from "ava";
import { parse } from "yaml";
import { configKeysForPulumiYaml, configKeysMarkdown, vmStoragesMarkdown } from "../bench/config/config-docs.js";
import { StackConfigSchema } from "../bench/config/stack-config.js";
import { VM_STORAGES } from "../bench/storage/vm-storages.js";

// One schema of the config: Pulumi.yaml's `config:` section and the README's table of keys are derived from it,
// and kept in step by these tests (change the schema, then copy what they print).

const ROOT = new URL("..", import.meta.url);

test("Pulumi.yaml declares exactly the scalar keys of the schema, with their descriptions and defaults", (t) => {
  const declared = (parse(readFileSync(fileURLToPath(new URL("Pulumi.yaml", ROOT)), "utf8")) as { config: unknown })
    .config;
  t.deepEqual(
    declared,
    configKeysForPulumiYaml(),
    `Pulumi.yaml's config: should be:\n${JSON.stringify(configKeysForPulumiYaml(), null, 2)}`,
  );
  t.deepEqual(Object.keys(configKeysForPulumiYaml()), [
    "node",
    "nodeAddress",
    "sshUser",
    "sshPrivateKey",
    "dataset",
    "profile",
    "jobFile",
    "runtime",
    "size",
    "ramp",
    "repeat",
    "repeatAuto",
    "maxRsd",
    "precondition",
    "steady",
    "order",
    "orderSeed",
    "runId",
    "cephUserKey",
  ]);
});

test("the README's table of keys is the schema's, row for row", (t) => {
  const readme = readFileSync(fileURLToPath(new URL("README.md", ROOT)), "utf8").split("\n");
  const start = readme.findIndex((line) => line.startsWith("| key (`layerbench:`)"));
  const rows = readme
    .slice(start + 2)
    .filter((_, index, lines) => lines.slice(0, index + 1).every((line) => line.startsWith("|")));
  const normal = (row: string) => row.replace(/ *\| */g, "|").trim();
  t.deepEqual(
    rows.map(normal),
    configKeysMarkdown().map(normal),
    `README rows should be:\n${configKeysMarkdown().join("\n")}`,
  );
  t.is(rows.length, Object.keys(StackConfigSchema.shape).length);
});

test("the README's table of VM disk storages is the registry's, row for row", (t) => {
  const readme = readFileSync(fileURLToPath(new URL("README.md", ROOT)), "utf8").split("\n");
  const start = readme.findIndex((line) => line.startsWith("| `storage` | Proxmox storage type"));
  t.true(start >= 0, "the table is in the README");
  const rows = readme
    .slice(start)
    .filter((_, index, lines) => lines.slice(0, index + 1).every((line) => line.startsWith("|")));
  const normal = (row: string) =>
    row
      .replace(/ *\| */g, "|")
      .replace(/-{3,}/g, "---")
      .trim();
  t.deepEqual(
    rows.map(normal),
    vmStoragesMarkdown().map(normal),
    `README rows should be:\n${vmStoragesMarkdown().join("\n")}`,
  );
  t.is(rows.length, VM_STORAGES.length + 2);
});
