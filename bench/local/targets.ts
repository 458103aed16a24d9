import { basename, resolve } from "node:path";
import { UserError } from "../errors.js";

export interface LocalTarget {
  name: string;
  /** Absolute directory the fio files go into. */
  path: string;
}

export class TargetSpecError extends UserError {}

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Parses "NAME=DIR" (or a bare DIR, named after its last component). */
export function parseTargetSpec(spec: string): LocalTarget {
  const separator = spec.indexOf("=");
  const name = separator > 0 ? spec.slice(0, separator) : basename(resolve(spec));
  const dir = separator > 0 ? spec.slice(separator + 1) : spec;
  if (dir === "") throw new TargetSpecError(`bad --target "${spec}": give NAME=DIR, e.g. --target nvme=/mnt/nvme`);
  if (!NAME_PATTERN.test(name)) {
    throw new TargetSpecError(`bad target name "${name}" in --target "${spec}": use letters, digits, '.', '_' and '-', starting with a letter or digit`);
  }
  return { name, path: resolve(dir) };
}

export function checkDistinctNames(targets: LocalTarget[]): void {
  const seen = new Set<string>();
  for (const target of targets) {
    if (seen.has(target.name)) throw new TargetSpecError(`target name "${target.name}" is given twice: each --target needs its own NAME`);
    seen.add(target.name);
  }
}
