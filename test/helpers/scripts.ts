import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { resolveProfile } from "../../bench/core/profiles.js";
import { renderFioScript, TARGET_BLOCK } from "../../bench/remote/fio-script.js";
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

/** What the fio script prints for the ars workloads, run for real in a scratch directory: 1 s runs on 4 MiB files. */
export async function shortArsOutput(): Promise<string> {
  const scratch = await scratchDir();
  try {
    const profile = resolveProfile("ars", { runtimeSec: 1, size: "4m" });
    return (await runScript(renderFioScript({ profile, repeat: 1, target: { kind: "directory", path: scratch.path } })))
      .stdout;
  } finally {
    await scratch.cleanup();
  }
}
