import { promises as fs } from "node:fs";
import { release } from "node:os";

/**
 * What runs fio on this machine, as the fio script records it wherever it runs (remote/fio-script.ts): the kernel
 * and the OS's name from os-release(5) (/etc/os-release, else /usr/lib/os-release).
 */
export async function localEnvironment(): Promise<Record<string, string>> {
  const text = await fs
    .readFile("/etc/os-release", "utf8")
    .catch(() => fs.readFile("/usr/lib/os-release", "utf8"))
    .catch(() => "");
  const os = /^PRETTY_NAME=(["']?)(.*)\1$/m.exec(text)?.[2];
  return { kernel: release(), ...(os && { os }) };
}
