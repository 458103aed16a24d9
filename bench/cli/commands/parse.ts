// `layerbench parse`: the normalised numbers of one fio output.
import { readTextFile } from "../../util/files.js";

export async function parseCommand(file: string): Promise<number> {
  const { parseFioOutput } = await import("../../core/fio-parser.js");
  const text = await readTextFile(file);
  console.log(JSON.stringify(parseFioOutput(text, file), null, 2));
  return 0;
}
