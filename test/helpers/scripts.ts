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

/** The names of the stand-ins' variables, for the sudo shim. */
const STAND_IN_ENV = "LAYERBENCH_TEST_STAND_IN_ENV";

/**
 * A `sudo` for scripts written for a guest's non-root login: it runs the command as this user, with the
 * environment sudo gives it on Debian (sudoers env_reset): PATH and HOME, the variables --preserve-env names, and
 * the VAR=value words before the command (as the k3s install passes them). Nothing else of the caller's reaches it,
 * as in the real guest (test/guest/), where a variable the script forgot to keep is gone. The stand-ins' own
 * bookkeeping (runScript's standInEnv) passes: it is the test's, not the script's.
 */
async function sudoShimDir(): Promise<string> {
  const dir = await scratchDir("layerbench-sudo-");
  const shim = join(dir.path, "sudo");
  // biome-ignore-start lint/suspicious/noTemplateCurlyInString: shell parameter expansions, not templates.
  const text = [
    "#!/bin/sh",
    `keep=PATH,HOME,${STAND_IN_ENV},$${STAND_IN_ENV}`,
    'while [ "${1#-}" != "$1" ]; do',
    '  case "$1" in --preserve-env=*) keep="$keep,${1#--preserve-env=}" ;; esac',
    "  shift",
    "done",
    "for name in $(env | sed -n 's/^\\([A-Za-z_][A-Za-z0-9_]*\\)=.*/\\1/p'); do",
    '  case ",$keep," in *",$name,"*) ;; *) unset "$name" 2>/dev/null ;; esac',
    "done",
    'exec env "$@"',
    "",
  ].join("\n");
  // biome-ignore-end lint/suspicious/noTemplateCurlyInString: as above.
  await fs.writeFile(shim, text, { mode: 0o755 });
  return dir.path;
}

export interface ScriptResult {
  stdout: string;
  stderr: string;
  code: number;
}

/**
 * Runs a shell script for real, as `sh -c` on the remote side would; `binDir` puts stand-in commands first on PATH,
 * `standInEnv` is what they read (their log, their state), which even `sudo` passes on to them.
 */
export async function runScript(
  script: string,
  options: { env?: Record<string, string>; binDir?: string; standInEnv?: Record<string, string> } = {},
): Promise<ScriptResult> {
  const shim = await sudoShimDir();
  const path = [shim, ...(options.binDir ? [options.binDir] : []), options.env?.PATH ?? process.env.PATH].join(":");
  const standInEnv = { ...options.standInEnv, [STAND_IN_ENV]: Object.keys(options.standInEnv ?? {}).join(",") };
  try {
    return await new Promise((resolve) => {
      execFile(
        "sh",
        ["-c", script],
        { env: { ...process.env, ...options.env, ...standInEnv, PATH: path }, maxBuffer: 64 * 1024 * 1024 },
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
