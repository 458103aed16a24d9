// Display formatting shared by progress lines and reports; results files keep raw units.

/** How a value is written: divided by `divisor`, with `decimals` digits, then `suffix`. */
export interface DisplayUnit {
  divisor: number;
  decimals: number;
  suffix: string;
}

/** Picks the unit a value reads best in. */
export type UnitPicker = (value: number) => DisplayUnit;

export const iopsUnit: UnitPicker = (iops) =>
  iops >= 10_000
    ? { divisor: 1000, decimals: 1, suffix: "k" }
    : { divisor: 1, decimals: iops >= 100 ? 0 : 1, suffix: "" };

export const rateUnit: UnitPicker = (bytesPerSecond) => {
  const mib = bytesPerSecond / 1024 ** 2;
  return mib >= 1024
    ? { divisor: 1024 ** 3, decimals: 2, suffix: " GiB/s" }
    : { divisor: 1024 ** 2, decimals: mib >= 100 ? 0 : 1, suffix: " MiB/s" };
};

export const latencyUnit: UnitPicker = (ns) => {
  if (ns >= 1e6) return { divisor: 1e6, decimals: 2, suffix: " ms" };
  if (ns >= 1e3) return { divisor: 1e3, decimals: 1, suffix: " µs" };
  return { divisor: 1, decimals: 0, suffix: " ns" };
};

export const bytesUnit: UnitPicker = (bytes) => {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let index = 0;
  while (Math.abs(bytes) >= 1024 ** (index + 1) && index < units.length - 1) index += 1;
  return { divisor: 1024 ** index, decimals: index === 0 ? 0 : 1, suffix: ` ${units[index]}` };
};

/** Percent of one CPU: 1600 % is sixteen busy jobs. */
export const cpuUnit: UnitPicker = (percent) => ({ divisor: 1, decimals: percent >= 100 ? 0 : 1, suffix: " %" });

export function formatIn(unit: DisplayUnit, value: number): string {
  return `${(value / unit.divisor).toFixed(unit.decimals)}${unit.suffix}`;
}

/** "86.0k ± 3.3k": the spread in the mean's unit, so that both read alike. */
export function formatWithSpread(pick: UnitPicker, mean: number, stdev: number): string {
  const unit = pick(mean);
  return `${formatIn(unit, mean)} ± ${formatIn(unit, stdev)}`;
}

export const formatIops = (iops: number): string => formatIn(iopsUnit(iops), iops);
export const formatRate = (bytesPerSecond: number): string => formatIn(rateUnit(bytesPerSecond), bytesPerSecond);
export const formatLatency = (ns: number): string => formatIn(latencyUnit(ns), ns);

/** "42s", "3m05s", "1h02m": for elapsed times in progress lines. */
export function formatDuration(seconds: number): string {
  const total = Math.round(seconds);
  if (total < 60) return `${total}s`;
  const minutes = Math.floor(total / 60);
  if (minutes < 60) return `${minutes}m${String(total % 60).padStart(2, "0")}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, "0")}m`;
}

/** A ratio to the baseline as every table prints it: "1.30×"; two significant digits below 0.1 ("0.071×"), not "0.07×". */
export const times = (value: number) => `${value >= 0.1 || value === 0 ? value.toFixed(2) : value.toPrecision(2)}×`;

/** Bytes in GiB: whole from 10 GiB, one decimal below. */
export function formatGiB(bytes: number): string {
  const gib = bytes / 1024 ** 3;
  return `${gib >= 10 ? gib.toFixed(0) : gib.toFixed(1)} GiB`;
}
