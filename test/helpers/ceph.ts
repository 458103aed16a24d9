import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const SCRIPT = fileURLToPath(new URL("local-ceph.sh", import.meta.url));

/** A running single-node Ceph (local-ceph.sh): its ceph.conf, a cephx user with the rbd profile, and its pool. */
export interface LocalCeph {
  conf: string;
  user: string;
  pool: string;
  /** Runs a Ceph CLI (ceph, rbd) against the cluster as client.admin; resolves with its stdout. */
  cli(command: "ceph" | "rbd", ...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

/** Starts the cluster from Debian's packages (about 15 s here); `stop` removes every daemon and file of it. */
export async function startLocalCeph(): Promise<LocalCeph> {
  const dir = await fs.mkdtemp(join(tmpdir(), "layerbench-ceph-"));
  await fs.rmdir(dir);
  await promisify(execFile)("sh", [SCRIPT, "start", dir], { timeout: 120_000 });
  const conf = join(dir, "ceph.conf");
  return {
    conf,
    user: "bench",
    pool: "rbd",
    cli: async (command, ...args) => (await promisify(execFile)(command, ["--conf", conf, ...args])).stdout,
    stop: async () => {
      await promisify(execFile)("sh", [SCRIPT, "stop", dir], { timeout: 60_000 });
    },
  };
}
