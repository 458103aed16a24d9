import { type ChildProcess, execFile, spawn } from "node:child_process";
import { promises as fs } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { scratchDir } from "./fio.js";

const run = promisify(execFile);

export interface LoopbackSshd {
  port: number;
  /** An ssh client config for 127.0.0.1 with the test key: LAYERBENCH_SSH="ssh -F <this>". */
  clientConfig: string;
  /** Put first on the PATH of every session: stand-ins for pveversion, zfs, qm, pvesm. */
  binDir: string;
  stop(): Promise<void>;
}

/** A TCP port on 127.0.0.1 that nothing listens on now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, log: () => string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    if (child.exitCode !== null) throw new Error(`sshd exited: ${log()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = createServer().listen(port, "127.0.0.1");
      socket.on("listening", () => socket.close(() => resolve(false)));
      socket.on("error", () => resolve(true));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`sshd did not listen on ${port}: ${log()}`);
}

/** An OpenSSH server on 127.0.0.1 for the current user, with its own host and client keys: a stand-in node. */
export async function startSshd(env: Record<string, string> = {}): Promise<LoopbackSshd> {
  const dir = await scratchDir("layerbench-sshd-");
  const path = (name: string) => join(dir.path, name);
  const binDir = path("bin");
  await fs.mkdir(binDir);
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path("host_key")]);
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path("client_key")]);
  await fs.copyFile(path("client_key.pub"), path("authorized_keys"));
  // sshd refuses to start without its privilege separation directory.
  await fs.mkdir("/run/sshd", { recursive: true });
  const port = await freePort();
  const setEnv = Object.entries({ PATH: `${binDir}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin`, ...env }).map(
    ([key, value]) => `${key}=${value}`,
  );
  await fs.writeFile(
    path("sshd_config"),
    [
      "ListenAddress 127.0.0.1",
      `Port ${port}`,
      `HostKey ${path("host_key")}`,
      `AuthorizedKeysFile ${path("authorized_keys")}`,
      `PidFile ${path("sshd.pid")}`,
      "StrictModes no",
      "UsePAM no",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PermitRootLogin yes",
      `SetEnv ${setEnv.join(" ")}`,
      "LogLevel ERROR",
      "",
    ].join("\n"),
  );
  await fs.writeFile(
    path("client_config"),
    [
      "Host 127.0.0.1",
      `  Port ${port}`,
      `  IdentityFile ${path("client_key")}`,
      "  IdentitiesOnly yes",
      "  UserKnownHostsFile /dev/null",
      "  StrictHostKeyChecking no",
      "  LogLevel ERROR",
      "",
    ].join("\n"),
  );
  const child = spawn("/usr/sbin/sshd", ["-D", "-e", "-f", path("sshd_config")], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (log += chunk));
  await waitForPort(port, child, () => log);
  return {
    port,
    clientConfig: path("client_config"),
    binDir,
    async stop() {
      child.kill();
      await dir.cleanup();
    },
  };
}
