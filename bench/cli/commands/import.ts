// `layerbench import`: fio outputs you already have, as results.json and a report.
import { join, resolve } from "node:path";
import type { ImportFlags } from "../options.js";
import { timestamp } from "./shared.js";

export async function importCommand(inputs: string[], flags: ImportFlags): Promise<number> {
  const [
    { findOutputs },
    { importDocument, parseLayerOption },
    { checkOutputDirectory },
    { writeResultsFile },
    { writeReport },
    { REPORT_FILES },
    { makeDirectory },
  ] = await Promise.all([
    import("../../import/inputs.js"),
    import("../../import/document.js"),
    import("../../local/preflight.js"),
    import("../../core/results-io.js"),
    import("../../report/index.js"),
    import("../../report/chart-definitions.js"),
    import("../../util/files.js"),
  ]);
  const layers = Object.fromEntries(flags.layer.map(parseLayerOption));
  const outDir = resolve(flags.out ?? join("results", `import-${timestamp(new Date())}`));
  // Everything is read and parsed before anything is written: bad input leaves no half-made directory.
  const document = importDocument(await findOutputs(inputs), {
    ...(flags.baseline !== undefined && { baseline: flags.baseline }),
    layers,
    from: inputs.join(", "),
  });
  await checkOutputDirectory(outDir, REPORT_FILES);
  await makeDirectory(outDir);
  const resultsPath = join(outDir, "results.json");
  await writeResultsFile(resultsPath, document);
  await writeReport([document], outDir);
  const runs = document.variants.reduce(
    (sum, variant) => sum + variant.workloads.reduce((count, workload) => count + workload.runs.length, 0),
    0,
  );
  console.log(
    `imported ${runs} run(s) of ${document.variants.length} variant(s)\nresults: ${resultsPath}\nreport:  ${join(outDir, "report.html")} (report.md and the SVG charts beside it)`,
  );
  return 0;
}
