import { promises as fs } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { resolveProfile } from "../bench/core/profiles.js";
import { checkOutputPath, directIoRefusal } from "../bench/local/preflight.js";
import { runCli } from "./helpers/cli.js";
import { scratchDir } from "./helpers/fio.js";

// Checks made before any I/O: asked of the system rather than assumed, and each refusal one clear line.

test("O_DIRECT is asked of the kernel: tmpfs takes it on this machine's kernel, a missing directory does not", async (t) => {
  const release = (await fs.readFile("/proc/sys/kernel/osrelease", "utf8")).trim();
  const [major, minor] = release.split(".").map(Number);
  // tmpfs accepts O_DIRECT since Linux 6.6; the old check refused any tmpfs by its magic number.
  if (major > 6 || (major === 6 && minor >= 6)) t.is(await directIoRefusal("/dev/shm"), undefined);
  else t.is(await directIoRefusal("/dev/shm"), "invalid argument");
  t.is(await directIoRefusal("/nonexistent-layerbench"), "no such file or directory");
  t.deepEqual(
    (await fs.readdir("/dev/shm")).filter((name) => name.startsWith(".layerbench-direct-")),
    [],
    "the probe file is removed",
  );
});

test("--out: a file in its way is refused, a directory to be made is not", async (t) => {
  const dir = await scratchDir();
  t.teardown(dir.cleanup);
  const file = join(dir.path, "file");
  await fs.writeFile(file, "");
  await t.throwsAsync(checkOutputPath(file), {
    message: `--out ${file} is a file, not a directory: give a directory for results.json and the report`,
  });
  await t.throwsAsync(checkOutputPath(join(file, "a", "b")), {
    message: `--out ${join(file, "a", "b")} cannot be made: ${file} is a file, not a directory`,
  });
  await t.notThrowsAsync(checkOutputPath(join(dir.path, "new", "deeper")));
});

test("--size: smaller than a workload's block is refused before fio says 'size too small'", (t) => {
  t.throws(() => resolveProfile("ars", { size: "4k" }), {
    message:
      "size 4k per job is smaller than the 64k blocks of workload randwrite-64k-16x16: fio needs at least one block per job; use 1m or more for profile ars",
  });
  t.is(resolveProfile("ars", { size: "1m" }).workloads[2].size, 1024 ** 2);
});

test("--version prints package.json's version; run --help names VM targets", async (t) => {
  const manifest = JSON.parse(await fs.readFile(new URL("../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  const version = await runCli(["--version"]);
  t.is(version.stdout.trim(), manifest.version);
  const help = await runCli(["run", "--help"]);
  t.regex(help.stdout.replace(/\s+/g, " "), /NAME=vm:bus=virtio-blk,cache=none/);
  // Every option a VM target takes is named in the help.
  const { VM_TARGET_OPTIONS } = await import("../bench/local/targets.js");
  for (const option of [...VM_TARGET_OPTIONS, "dir", "pve", "rbd", "id", "conf"])
    t.regex(help.stdout.replace(/\s+/g, ""), new RegExp(`[,:\\[]${option}=`), option);
});

test("help: every default says what it means, and --ioengine's engines are the README's", async (t) => {
  const { buildProgram } = await import("../bench/cli/main.js");
  const { IO_ENGINES } = await import("../bench/core/profiles.js");
  const program = buildProgram(() => undefined);
  const commands = program.commands.flatMap((command) => [command, ...command.commands]);
  t.true(commands.length >= 10);
  for (const command of commands) {
    const help = command.helpInformation();
    t.notRegex(help, /\(default: \[\]\)|\(default: \{\}\)/, `${command.name()}: a default shown as raw JSON`);
  }
  const readme = await fs.readFile(new URL("../README.md", import.meta.url), "utf8");
  const row = readme.split("\n").find((line) => line.startsWith("| `--ioengine ENGINE`")) ?? "";
  t.deepEqual([...row.matchAll(/`([a-z_0-9]+)`/g)].map((match) => match[1]).slice(0, IO_ENGINES.length), [
    ...IO_ENGINES,
  ]);
});
