import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { resolveProfile } from "../../bench/core/profiles.js";
import { renderFioScript, TARGET_BLOCK } from "../../bench/remote/fio-script.js";
import { writeFileAtomic } from "../../bench/util/files.js";
import { scratchDir } from "./fio.js";

/** The same script with only its target block replaced: fio goes to a local directory or file instead. */
export function withLocalTarget(script: string, path: string): string {
  const begin = script.indexOf(TARGET_BLOCK.begin);
  const end = script.indexOf(TARGET_BLOCK.end);
  if (begin < 0 || end < begin) throw new Error("script has no target block");
  return `${script.slice(0, begin)}LAYERBENCH_TARGET='${path}'\n${script.slice(end + TARGET_BLOCK.end.length + 1)}`;
}

/** A `sudo` that drops its options and runs the command, for scripts written for a guest's non-root login. */
async function sudoShimDir(): Promise<string> {
  const dir = await scratchDir("layerbench-sudo-");
  const shim = join(dir.path, "sudo");
  // env: sudo takes VAR=value words before the command, as the k3s install does.
  // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a template.
  await fs.writeFile(shim, '#!/bin/sh\nwhile [ "${1#-}" != "$1" ]; do shift; done\nexec env "$@"\n', { mode: 0o755 });
  return dir.path;
}

export interface ScriptResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Runs a shell script for real, as `sh -c` on the remote side would; `binDir` puts stand-in commands first on PATH. */
export async function runScript(
  script: string,
  options: { env?: Record<string, string>; binDir?: string } = {},
): Promise<ScriptResult> {
  const shim = await sudoShimDir();
  const path = [shim, ...(options.binDir ? [options.binDir] : []), options.env?.PATH ?? process.env.PATH].join(":");
  try {
    return await new Promise((resolve) => {
      execFile(
        "sh",
        ["-c", script],
        { env: { ...process.env, ...options.env, PATH: path }, maxBuffer: 64 * 1024 * 1024 },
        (error, stdout, stderr) =>
          resolve({ stdout, stderr, code: error ? Number((error as NodeJS.ErrnoException).code ?? 1) : 0 }),
      );
    });
  } finally {
    await fs.rm(shim, { recursive: true, force: true });
  }
}

/** shellcheck's findings for a POSIX sh script (empty when clean). */
export function shellcheck(script: string): Promise<string> {
  return new Promise((resolve) => {
    const child = execFile("shellcheck", ["--shell=sh", "-"], (_error, stdout) => resolve(stdout));
    child.stdin?.end(script);
  });
}

/** Where test runs keep what they may share, beside ava's own cache. */
const CACHE_DIR = fileURLToPath(new URL("../../node_modules/.cache/layerbench-test/", import.meta.url));

/**
 * What the fio script prints for the ars workloads, run for real in a scratch directory: 1 s runs on 4 MiB files.
 * Kept in CACHE_DIR under the script's text and the fio on PATH (its path and version: the unit tier's is the
 * stand-in): the program tests share one run, where each ran its own (3.5 s each).
 */
export async function shortArsOutput(): Promise<string> {
  const profile = resolveProfile("ars", { runtimeSec: 1, size: "4m" });
  const render = (path: string) => renderFioScript({ profile, repeat: 1, target: { kind: "directory", path } });
  const fio = await runScript("command -v fio && fio --version");
  const key = createHash("sha256").update(render("@DIR@")).update(fio.stdout).digest("hex").slice(0, 16);
  const cached = join(CACHE_DIR, `ars-output-${key}.txt`);
  const kept = await fs.readFile(cached, "utf8").catch(() => undefined);
  if (kept !== undefined) return kept;
  const scratch = await scratchDir();
  try {
    const { stdout, stderr, code } = await runScript(render(scratch.path));
    if (code !== 0) throw new Error(`the ars script failed: ${stderr}`);
    await fs.mkdir(CACHE_DIR, { recursive: true });
    // Whole or not at all: another test file may read it at any moment.
    await writeFileAtomic(cached, stdout);
    return stdout;
  } finally {
    await scratch.cleanup();
  }
}
