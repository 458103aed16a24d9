import { declaredStacks, selectStacks } from "../../matrix/stacks.js";
import type { Finding } from "../../plan/finding.js";
import { UserError } from "../../util/errors.js";
import type { PlanFlags } from "../options.js";

/** Plans (and with `check`, asks each node); every finding printed, the plans too unless `quiet`. */
export async function planAndCheck(
  project: string,
  stacks: string[],
  declared: string[],
  options: { check: boolean; quiet: boolean },
): Promise<boolean> {
  const [{ renderFindings }, { renderPlan }, { checkStack, planStacks }, { designAlternatives }] = await Promise.all([
    import("../../plan/node-check.js"),
    import("../../plan/render.js"),
    import("../../plan/stack-plans.js"),
    import("../../plan/design-comparison.js"),
  ]);
  let ok = true;
  for (const entry of await planStacks(project, stacks, declared)) {
    const findings: Finding[] = [...entry.findings];
    if (options.check) {
      console.error(
        `layerbench: checking node ${entry.plan.node} (${entry.plan.nodeAddress}) for stack ${entry.plan.stack}`,
      );
      findings.push(...(await checkStack(entry)));
    }
    if (!options.quiet)
      process.stdout.write(
        renderPlan(
          entry.plan,
          { id: entry.config.profile.id, runtimeSec: entry.config.profile.runtimeSec, repeat: entry.config.repeat },
          {
            // Planned again under both designs only for the plans shown (matrix up's check shows none).
            alternatives: designAlternatives(entry.file.raw, entry.plan.stack),
            records: [entry.config.design, entry.config.k8s?.design].flatMap((record) => record ?? []),
          },
        ),
      );
    if (findings.length > 0)
      process.stdout.write(`${options.quiet ? `stack ${entry.plan.stack}:\n` : "\n"}${renderFindings(findings)}`);
    if (findings.some((finding) => finding.level === "fail")) ok = false;
  }
  return ok;
}

export async function planCommand(flags: PlanFlags): Promise<number> {
  if (flags.confirm !== undefined) {
    if (flags.check || flags.stack.length > 0)
      throw new UserError("plan --confirm reads a results file: give it without --stack or --check");
    const [{ readResultsFile }, { proposeConfirmation, renderConfirmation }] = await Promise.all([
      import("../../core/results-io.js"),
      import("../../plan/confirm.js"),
    ]);
    const document = await readResultsFile(flags.confirm);
    process.stdout.write(renderConfirmation(document, flags.confirm, proposeConfirmation(document, flags.confirm)));
    return 0;
  }
  const declared = await declaredStacks(flags.project);
  const ok = await planAndCheck(flags.project, selectStacks(declared, flags.stack), declared, {
    check: flags.check ?? false,
    quiet: false,
  });
  if (!ok) console.error("layerbench: pulumi up cannot go ahead: see the FAIL lines above");
  return ok ? 0 : 1;
}
