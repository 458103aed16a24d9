import { UserError } from "./errors.js";

// Sizes are binary everywhere (1k = 1024 bytes), as fio reads them with its default kb_base=1024.
const UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
};

const SIZE_PATTERN = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i;

export class SizeError extends UserError {}

/** Parses "32m", "4G", "256MiB", "1.5g" or a plain byte count into bytes. */
export function parseSize(text: string): number {
  const match = SIZE_PATTERN.exec(text.trim());
  const bytes = match ? Math.round(Number(match[1]) * UNITS[match[2].toLowerCase()]) : NaN;
  if (!Number.isFinite(bytes) || bytes <= 0) {
    throw new SizeError(
      `bad size "${text}": use a positive number with an optional unit k, m, g or t (binary, 1k = 1024 bytes), e.g. 32m or 4g`,
    );
  }
  return bytes;
}

/** parseSize, or undefined for text that is not a size: where a value read elsewhere may be anything. */
export function sizeOrUndefined(text: string): number | undefined {
  try {
    return parseSize(text);
  } catch {
    return undefined;
  }
}

/** Renders bytes the way fio and people read them: the largest exact binary unit ("256m", "4g"). */
export function formatFioSize(bytes: number): string {
  for (const unit of ["t", "g", "m", "k"]) {
    if (bytes % UNITS[unit] === 0) return `${bytes / UNITS[unit]}${unit}`;
  }
  return String(bytes);
}

/**
 * A workload's size per job as reports say it: 0 is a job fio sized from its file or device, which an imported
 * output does not say ("1×0t" otherwise).
 */
export function formatJobSize(bytes: number): string {
  return bytes > 0 ? formatFioSize(bytes) : "its file's or device's size";
}

/** Human-readable binary size for messages and reports: "1.5 GiB". */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let index = 0;
  while (Math.abs(value) >= 1024 && index < units.length - 1) {
    value /= 1024;
    index += 1;
  }
  return `${Number(value.toFixed(index === 0 ? 0 : 1))} ${units[index]}`;
}
