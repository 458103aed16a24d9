// `layerbench parse`: the normalised numbers of one fio output.
import { promises as fs } from "node:fs";
import { fsReason, UserError } from "../../util/errors.js";

export async function parseCommand(file: string): Promise<number> {
  const { parseFioOutput } = await import("../../core/fio-parser.js");
  const text = await fs.readFile(file, "utf8").catch((error: NodeJS.ErrnoException) => {
    throw new UserError(`cannot read ${file}: ${fsReason(error)}`);
  });
  console.log(JSON.stringify(parseFioOutput(text, file), null, 2));
  return 0;
}
