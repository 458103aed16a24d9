import { promises as fs } from "node:fs";

// The "newc" cpio format the kernel unpacks as an initramfs. Written here, so that building a guest needs no
// cpio binary; several archives concatenated are one initramfs, later files winning.

export type CpioEntry =
  | { kind: "dir"; path: string }
  | { kind: "file"; path: string; executable?: boolean; data: Buffer }
  | { kind: "symlink"; path: string; target: string };

const MODES = { dir: 0o040755, file: 0o100644, executable: 0o100755, symlink: 0o120777 } as const;

function hex(value: number): string {
  return value.toString(16).padStart(8, "0");
}

function padding(length: number): Buffer {
  return Buffer.alloc((4 - (length % 4)) % 4);
}

function record(inode: number, mode: number, name: string, data: Buffer): Buffer[] {
  const nameBytes = Buffer.from(`${name}\0`);
  // magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor, namesize, check
  const fields = [inode, mode, 0, 0, mode === MODES.dir ? 2 : 1, 0, data.length, 0, 0, 0, 0, nameBytes.length, 0];
  const header = Buffer.from(`070701${fields.map(hex).join("")}`);
  return [header, nameBytes, padding(header.length + nameBytes.length), data, padding(data.length)];
}

/** One archive with these entries (paths relative, without a leading slash), parents before children. */
export function cpioArchive(entries: CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  entries.forEach((entry, index) => {
    const path = entry.path.replace(/^\/+/, "");
    if (entry.kind === "dir") parts.push(...record(index + 1, MODES.dir, path, Buffer.alloc(0)));
    else if (entry.kind === "symlink") parts.push(...record(index + 1, MODES.symlink, path, Buffer.from(entry.target)));
    else parts.push(...record(index + 1, entry.executable ? MODES.executable : MODES.file, path, entry.data));
  });
  parts.push(...record(0, 0, "TRAILER!!!", Buffer.alloc(0)));
  return Buffer.concat(parts);
}

/** Every parent directory of the given paths, shallowest first, for an archive that creates them. */
export function parentDirectories(paths: string[]): CpioEntry[] {
  const dirs = new Set<string>();
  for (const path of paths) {
    const parts = path.replace(/^\/+/, "").split("/").slice(0, -1);
    for (let depth = 1; depth <= parts.length; depth += 1) dirs.add(parts.slice(0, depth).join("/"));
  }
  return [...dirs]
    .sort((a, b) => a.split("/").length - b.split("/").length || a.localeCompare(b))
    .map((path) => ({ kind: "dir", path }));
}

/** A file of the host, read into an entry at the same path in the archive. */
export async function hostFile(path: string, executable = false): Promise<CpioEntry> {
  return { kind: "file", path: path.replace(/^\/+/, ""), executable, data: await fs.readFile(path) };
}
