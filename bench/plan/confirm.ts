import type { DesignRecord, ResultsDocument } from "../core/results.js";
import { type Prediction, panelEffects } from "../report/effects.js";
import { collectReportData, panelName } from "../report/rows.js";
import { UserError } from "../util/errors.js";
import { k8sStackId } from "../variants/k8s-variants.js";

// `layerbench plan --confirm RESULTS`: the next run of a designed experiment. The model fitted to the design's
// variants predicts the best and the worst of every valid variant; those not measured yet are proposed, to be
// measured beside the design so that the report sets prediction beside measurement. Where the variants scatter
// about the model more than their runs (interaction-suspected), the unmeasured variants it knows least of too.

export interface LayerProposal {
  design: DesignRecord;
  /** Per workload: what the model predicts as best and worst. */
  predictions: Array<{ panel: string; best: Prediction; worst: Prediction }>;
  /** Variant ids (as the stack or `run --axes` names them) to measure next: earlier confirmations, then new ones. */
  confirm: string[];
  /** Whether `confirm` adds anything to what was measured. */
  changed: boolean;
}

const stackId = (design: DesignRecord, id: string) => (design.layer === "k8s" ? k8sStackId(id) : id);

export function proposeConfirmation(document: ResultsDocument, origin: string): LayerProposal[] {
  const designs = document.designs ?? [];
  if (designs.every((design) => design.kind === "full")) {
    throw new UserError(
      `${origin} records no designed experiment: plan --confirm needs results of a stack or \`run --axes\` with design main-effects or main-effects+interactions`,
    );
  }
  const data = collectReportData([document]);
  const effects = panelEffects(data);
  return designs
    .filter((design) => design.kind !== "full")
    .map((design): LayerProposal => {
      const predictions = effects.flatMap((entry) =>
        entry.design?.layer === design.layer && entry.best && entry.worst
          ? [
              {
                panel: `${panelName(entry.panel, data.panels)} (${entry.panel.direction})`,
                best: entry.best,
                worst: entry.worst,
              },
            ]
          : [],
      );
      // Where the variants scatter about the model (interaction-suspected), the variants it knows least of too.
      const suspected = effects.flatMap((entry) =>
        entry.design?.layer === design.layer ? (entry.lackOfFit?.confirm ?? []) : [],
      );
      const unmeasured = [
        ...predictions
          .flatMap(({ best, worst }) => [best, worst])
          .filter((prediction) => prediction.measured === undefined)
          .map((prediction) => prediction.id),
        ...suspected,
      ];
      const fresh = [...new Set(unmeasured)].filter((id) => !design.confirm.includes(id));
      return {
        design,
        predictions,
        confirm: [...design.confirm, ...fresh].map((id) => stackId(design, id)),
        changed: fresh.length > 0,
      };
    });
}

const ratio = (prediction: Prediction) =>
  `${prediction.id} ${prediction.ratio.toPrecision(3)}×${prediction.low !== undefined && prediction.high !== undefined ? ` (95 %: ${prediction.low.toPrecision(3)}–${prediction.high.toPrecision(3)})` : ""}, ${prediction.measured === undefined ? "not measured" : `measured ${prediction.measured.toPrecision(3)}×`}`;

/** What `run --axes` was given, rebuilt from the record: the axes, the design, its pairs. */
function runOptions(design: DesignRecord, confirm: string[]): string {
  const axes = design.factors.map((factor) => `${factor.name}=${factor.levels.join(",")}`).join(";");
  const pairs = design.interactions.map((pair) => pair.join(":")).join(",");
  return `--axes '${axes}' --design ${design.kind}${pairs ? ` --interactions ${pairs}` : ""} --confirm ${confirm.join(",")}`;
}

/** How to measure the proposals: the stack keys to set, or the `run` options. */
function nextRun(document: ResultsDocument, proposals: LayerProposal[]): string[] {
  const { source } = document;
  // Imported outputs record their design only if someone wrote one in: `run --axes` is how to measure more.
  if (source.kind !== "pulumi")
    return proposals.map(
      (proposal) => `  layerbench run [your other options] ${runOptions(proposal.design, proposal.confirm)}`,
    );
  const key = (design: DesignRecord) => (design.layer === "vm" ? "vmVariants" : "k8s.variants");
  const where = (design: DesignRecord) =>
    design.layer === "vm" ? "layerbench:vmVariants" : "layerbench:k8s, in variants";
  return [
    ...proposals.map(
      (proposal) =>
        `  In stacks/Pulumi.${source.stack}.yaml, under ${where(proposal.design)}: confirm: [${proposal.confirm.join(", ")}]`,
    ),
    "  or, with the Pulumi CLI:",
    ...proposals.flatMap((proposal) =>
      proposal.confirm.map(
        (id, index) =>
          `    pulumi config set --stack ${source.stack} --path 'layerbench:${key(proposal.design)}.confirm[${index}]' ${id}`,
      ),
    ),
    `  then a new run id (pulumi config set --stack ${source.stack} layerbench:runId <next>) and pulumi up, or layerbench matrix up --stack ${source.stack}.`,
  ];
}

export function renderConfirmation(document: ResultsDocument, origin: string, proposals: LayerProposal[]): string {
  const lines = [`layerbench plan --confirm ${origin}`];
  for (const { design, predictions } of proposals) {
    lines.push(
      "",
      `${design.layer}: design ${design.kind}, ${design.chosen.length} of ${design.candidates.length} valid variants measured${design.confirm.length > 0 ? `, ${design.confirm.length} to confirm` : ""}`,
      ...predictions.flatMap(({ panel, best, worst }) => [
        `  ${panel}:`,
        `    predicted best  ${ratio(best)}`,
        `    predicted worst ${ratio(worst)}`,
      ]),
    );
  }
  const changed = proposals.filter((proposal) => proposal.changed);
  if (changed.length === 0) {
    lines.push("", "Every predicted best and worst variant was measured: nothing left to confirm.");
    return `${lines.join("\n")}\n`;
  }
  lines.push(
    "",
    `Next run: measure ${changed.map((proposal) => proposal.confirm.join(", ")).join("; ")} beside the design; the report then sets each prediction beside its measurement.`,
    ...nextRun(document, changed),
  );
  return `${lines.join("\n")}\n`;
}
