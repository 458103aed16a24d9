import { hcl } from "d3-color";

// One colour per variant, the same in the SVGs and report.html: the variant's place in the report picks it.

/** vega's default palette: what readers of vega charts know, for up to ten variants. */
const TABLEAU10 = [
  "#4c78a8",
  "#f58518",
  "#e45756",
  "#72b7b2",
  "#54a24b",
  "#eeca3b",
  "#b279a2",
  "#ff9da6",
  "#9d755d",
  "#bab0ac",
];

/** Beyond ten, three lightness levels, each around the hue circle: neighbours differ in hue and lightness. */
const LIGHTNESS = [40, 60, 78];
const CHROMA = 45;

/**
 * `count` distinct colours. Past ten they are spread in HCL (perceptual) space: at 40 variants, the most a bar
 * chart labels (charts.ts), any two are at least 13 CIE76 units apart, where tableau20 pairs a light and a dark
 * shade of each hue.
 */
export function distinctColours(count: number): string[] {
  if (count <= TABLEAU10.length) return TABLEAU10.slice(0, count);
  const hues = Math.ceil(count / LIGHTNESS.length);
  return Array.from({ length: count }, (_, index) => {
    const level = index % LIGHTNESS.length;
    const hue = (Math.floor(index / LIGHTNESS.length) * 360) / hues + (level * 360) / LIGHTNESS.length;
    return hcl(hue % 360, CHROMA, LIGHTNESS[level]).formatHex();
  });
}

/** The colour scale of the variants' marks: each label its own colour, in the report's order. */
export function variantColourScale(labels: string[]): { domain: string[]; range: string[] } {
  return { domain: labels, range: distinctColours(labels.length) };
}
