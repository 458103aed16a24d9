import { promises as fs } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { scratchDir } from "./fio.js";
import { runScript, type ScriptResult, withLocalTarget } from "./scripts.js";

/** The fio container of a Job as the program declares it: its command, environment, and the ConfigMap's script. */
export interface PodSpec {
  command: string[];
  env: Array<{ name: string; value: string }>;
  script: string;
}

/**
 * Runs the Job's container command for real on this machine (fio is here, so nothing is installed), with the
 * ConfigMap's script at a local path and its target block swapped for a local directory; then the log-reading
 * script, with a stand-in `k3s` whose `kubectl logs` prints what the pod printed.
 */
export async function runPodThenReadLog(
  pod: PodSpec,
  logScript: string,
  /** `fio: "stand-in"`: the pod's fio is test/stand-in's, which answers at once with a real output. */
  options: { jobCompletes?: boolean; fio?: "stand-in" } = {},
): Promise<{ pod: ScriptResult; log: ScriptResult; k3sCalls: string[] }> {
  const dir = await scratchDir("layerbench-pod-");
  try {
    const [data, bin] = [join(dir.path, "data"), join(dir.path, "bin")];
    await Promise.all([fs.mkdir(data), fs.mkdir(bin)]);
    const scriptPath = join(dir.path, "run.sh");
    await fs.writeFile(scriptPath, withLocalTarget(pod.script, data));
    const [shell, flag, entrypoint] = pod.command;
    if (shell !== "sh" || flag !== "-c") throw new Error(`unexpected container command ${pod.command.join(" ")}`);
    const env = Object.fromEntries(
      pod.env.map(({ name, value }) => [name, name === "LAYERBENCH_SCRIPT" ? scriptPath : value]),
    );
    const podResult = await runScript(entrypoint, {
      env,
      ...(options.fio === "stand-in" && { binDir: fileURLToPath(new URL("../stand-in", import.meta.url)) }),
    });
    const logFile = join(dir.path, "pod.log");
    await fs.writeFile(logFile, podResult.stdout + podResult.stderr);
    const calls = join(dir.path, "k3s-calls");
    await fs.writeFile(
      join(bin, "k3s"),
      [
        "#!/bin/sh",
        `echo "$*" >> '${calls}'`,
        `case "$2" in wait) exit ${options.jobCompletes === false ? 1 : 0};; logs) cat '${logFile}';; describe) echo "Pods Statuses: 0 Active / 0 Succeeded / 1 Failed";; esac`,
        "",
      ].join("\n"),
      { mode: 0o755 },
    );
    const log = await runScript(logScript, { binDir: bin });
    const k3sCalls = (await fs.readFile(calls, "utf8")).trim().split("\n");
    return { pod: podResult, log, k3sCalls };
  } finally {
    await dir.cleanup();
  }
}
