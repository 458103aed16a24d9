import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// Test files run side by side, each measuring scratch directories on the same disk: each worker gets its own
// device lock directory (bench/local/locks.ts), so that they do not refuse each other. The CLIs a test starts
// inherit it; tests of the locks themselves start two processes from one worker.
const lockDir = join(tmpdir(), `layerbench-locks-test-${process.pid}`);
process.env.LAYERBENCH_LOCK_DIR = lockDir;
// Gone with the worker: a test run leaves nothing in /tmp.
process.on("exit", () => rmSync(lockDir, { recursive: true, force: true }));
