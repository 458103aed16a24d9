import { promises as fs } from "node:fs";
import { join } from "node:path";
import { fsReason, UserError } from "../util/errors.js";

const STACK_FILE = /^Pulumi\.([^.]+)\.yaml$/;

/** The stacks a project declares: one stacks/Pulumi.<name>.yaml each, sorted by name. */
export async function declaredStacks(projectDir: string): Promise<string[]> {
  const dir = join(projectDir, "stacks");
  const names = await fs.readdir(dir).catch((error: NodeJS.ErrnoException) => {
    throw new UserError(
      `cannot read the stack files in ${dir}: ${fsReason(error)} (is ${projectDir} the layerbench project? --project names it)`,
    );
  });
  const stacks = names.flatMap((name) => STACK_FILE.exec(name)?.[1] ?? []).sort();
  if (stacks.length === 0) throw new UserError(`no stack files (Pulumi.<stack>.yaml) in ${dir}`);
  return stacks;
}

/** The stacks asked for, in the order asked, or all of them; an unknown name is an error that lists the known ones. */
export function selectStacks(declared: string[], requested: string[]): string[] {
  if (requested.length === 0) return declared;
  const unknown = requested.filter((name) => !declared.includes(name));
  if (unknown.length > 0) {
    throw new UserError(
      `unknown stack ${unknown.map((name) => `"${name}"`).join(", ")}: the stacks are ${declared.join(", ")} (stacks/Pulumi.<stack>.yaml)`,
    );
  }
  return [...new Set(requested)];
}
