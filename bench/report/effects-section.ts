import { t95 } from "../core/linear-model.js";
import { times } from "../util/format.js";
import { dEfficiency } from "../variants/design.js";
import { ANALYSIS_CHARTS, chartImage } from "./chart-definitions.js";
import { type PanelEffects, type Prediction, panelEffects } from "./effects.js";
import { mdText } from "./markdown-text.js";
import { panelName, type ReportData } from "./rows.js";
import type { ReportPart } from "./table.js";

// report.md's Effects section: per workload and layer, which axis moves IOPS and by how much (effects.ts fits it,
// effect-fit.ts holds its statistics), with the model's lines and the confirmations.

/** An interval of ratios, "0.95×–1.10×"; "–" when the fit left none. */
const interval = (low: number | undefined, high: number | undefined) =>
  low === undefined || high === undefined ? "–" : `${times(low)}–${times(high)}`;

/** Which design ran, how much of the full product it measured, and what the model it fits says is best and worst. */
function modelLines(effects: PanelEffects): string[] {
  const { design, best, worst } = effects;
  const lines: string[] = [];
  if (design) {
    const what =
      design.kind === "full"
        ? "Design full"
        : `Design ${design.kind}${design.interactions.length > 0 ? ` (${design.interactions.map((pair) => pair.join(" × ")).join(", ")})` : ""}`;
    lines.push(
      `${what}: ${design.chosen.length} of the ${design.candidates.length} valid variants of the axes measured${design.confirm.length > 0 ? `, and ${design.confirm.length} to confirm the model` : ""}${design.kind === "full" ? "" : ` (D-efficiency ${dEfficiency(design).toFixed(3)} against measuring all ${design.candidates.length})`}.`,
    );
  }
  if (effects.fit === "one-way") {
    lines.push(
      "The axes vary together in these variants, so each is estimated alone and may carry another's effect: no prediction.",
    );
    return lines;
  }
  lines.push(
    `Model: ${effects.parameters} parameters fitted to the means of ${effects.variants} variants (${effects.runs} runs): ${effects.errorDf} degrees of freedom for the error${effects.errorDf === 0 ? ", so no interval" : ""}.${baselineLine(effects)}`,
  );
  lines.push(...driftLines(effects));
  if (effects.spreadsDiffer)
    lines.push(
      `Spreads: the variants' runs spread unlike one another (Bartlett's test, p = ${effects.spreadsDiffer.p.toPrecision(2)}), so each interval sums its variants' own spreads (Welch-Satterthwaite), and a lack of fit is not read as an interaction.`,
    );
  lines.push(...lackOfFitLines(effects));
  const said = (label: string, entry: Prediction | undefined) =>
    entry
      ? `${label} ${mdText(entry.id)} ${times(entry.ratio)} (95 %: ${interval(entry.low, entry.high)}), ${entry.measured === undefined ? "not measured" : `measured ${times(entry.measured)}`}`
      : undefined;
  const predicted = [said("Predicted best", best), said("predicted worst", worst)].filter(Boolean);
  if (predicted.length > 0) lines.push(`${predicted.join("; ")}.`);
  if ([best, worst].some((entry) => entry && entry.measured === undefined))
    lines.push("`layerbench plan --confirm results.json` proposes a run that measures them.");
  return lines;
}

/**
 * The drift over the run the model took out (report/effect-fit.ts): measured in random order, the machine's change
 * over the run is told from the axes, and the ratios are the baseline's time's.
 */
function driftLines(effects: PanelEffects): string[] {
  const drift = effects.drift;
  if (!drift) return [];
  const change = (value: number) => `${value >= 0 ? "+" : ""}${((Math.exp(value) - 1) * 100).toFixed(1)} %`;
  const half = drift.se === undefined ? undefined : t95(effects.errorDf) * drift.se;
  const range = half === undefined ? "" : ` (95 %: ${change(drift.value - half)} to ${change(drift.value + half)})`;
  // A drift within its error of none is taken out all the same: the term costs a degree of freedom, not a bias.
  const none = half !== undefined && Math.abs(drift.value) <= half ? ", within its error of none" : "";
  return [
    `Drift: the variants were measured in an order that tells the machine's change over the run from the axes; the model took out ${change(drift.value)} from the first run to the last${range}${none}, and the ratios are at the baseline's time.`,
  ];
}

/** Where the baseline's share of the intervals comes from. */
function baselineLine(effects: PanelEffects): string {
  switch (effects.baseline?.source) {
    case "runs":
      return " The baseline's spread over its runs is in every interval.";
    case "layer":
      return " The baseline ran once: its spread in the intervals is the run-to-run spread of this layer's variants.";
    case "fit":
      return " Nothing was repeated: the baseline's spread in the intervals is the variants' spread about the model (repeat the runs for intervals of their own).";
    default:
      return " Nothing was repeated: the baseline's own spread is unknown and not in the intervals.";
  }
}

/** The lack-of-fit test, and what to measure when it fails. */
function lackOfFitLines(effects: PanelEffects): string[] {
  const test = effects.lackOfFit;
  if (!test) return [];
  const stated = `F = ${test.f.toFixed(2)} on ${test.df1} and ${test.df2} degrees of freedom, p ${test.p < 0.001 ? "< 0.001" : `= ${test.p.toFixed(3)}`}`;
  if (!test.suspected) return [`Lack of fit: the variants agree with the model within their runs' spread (${stated}).`];
  const confirm =
    test.confirm.length > 0
      ? `\`layerbench plan --confirm results.json\` proposes runs that tell; the model knows least of ${test.confirm.join(", ")}.`
      : "Every valid variant was measured: name the suspected pair of axes in `interactions` (design main-effects+interactions).";
  return [
    `**interaction-suspected**: the variants scatter about the model more than their runs do (${stated}): an interaction the model leaves out, or a variant's own offset. The effects above average over it. ${confirm}`,
  ];
}

/** Which axis moves each workload's IOPS, and by how much: ratios to the baseline, fitted by least squares. */
export function effectsSection(data: ReportData): ReportPart[] {
  const effects = panelEffects(data);
  if (effects.length === 0) return [];
  const parts: ReportPart[] = [
    "## Effects",
    "",
    "Per workload and layer, each axis value's IOPS against the baseline's geometric mean, fitted by weighted least squares to each variant's mean log ratio (main effects, and the interactions a design asks for). The variant is the unit: its runs share its placement, so a variant's own offset is error, the weights are the inverse variance of each mean (its offset's, estimated by the method of moments, and its runs' over their count), and the degrees of freedom are the variants' less the parameters. A value's ratio is averaged over the combinations of the other axes valid with every value of its axis, never over one that cannot run (population marginal means over the cells that exist: Searle, Speed and Milliken, 1980). Its 95 % interval holds the model's error and the baseline mean's own spread (Cochran and Cox's critical value where the model has at least twice the baseline's degrees of freedom, Welch-Satterthwaite's elsewhere); n is the variants measured with the value. On a full cross product with every combination valid and even repeats, the ratio is the geometric mean of the ratios of the variants with that value. Axes are ranked by how much they move the number: their best value's ratio over their worst's. Where variants are left beside the model, their scatter is tested against their runs' (lack of fit, F test): on p < 0.05 the layer is flagged interaction-suspected.",
    "",
    chartImage(ANALYSIS_CHARTS.effects),
    ...(effects.some((entry) => entry.axes.length >= 2) ? [chartImage(ANALYSIS_CHARTS.heatmap)] : []),
    "",
  ];
  for (const entry of effects) {
    const { panel, layer, axes } = entry;
    parts.push(`### ${panelName(panel, data.panels)} · ${panel.direction} · ${layer}`, "");
    parts.push(...modelLines(entry), "");
    parts.push({
      headings: ["Axis", "Moves", "Value", "vs base", "95 % interval", "n"],
      alignRight: [false, true, false, true, true, true],
      rows: axes.flatMap((axis) =>
        axis.values.map((value, index) => [
          index === 0 ? `**${mdText(axis.axis)}**` : "",
          index === 0 ? times(axis.moves) : "",
          mdText(value.value),
          times(value.ratio),
          interval(value.low, value.high),
          String(value.n),
        ]),
      ),
    });
    parts.push("");
    if (entry.confirmations.length > 0) {
      parts.push(
        "Confirmation: variants measured to check the model, which was fitted without them.",
        "",
        {
          headings: ["Variant", "Predicted", "95 % prediction interval", "Measured", "Inside"],
          alignRight: [false, true, true, true, false],
          rows: entry.confirmations.map((confirmation) => {
            const inside =
              confirmation.low === undefined || confirmation.high === undefined || confirmation.measured === undefined
                ? "–"
                : confirmation.measured >= confirmation.low && confirmation.measured <= confirmation.high
                  ? "yes"
                  : "**no**";
            return [
              mdText(confirmation.id),
              times(confirmation.ratio),
              interval(confirmation.low, confirmation.high),
              confirmation.measured === undefined ? "–" : times(confirmation.measured),
              inside,
            ];
          }),
        },
        "",
      );
    }
  }
  return parts;
}
