// Display formatting shared by progress lines and reports; results files keep raw units.

export function formatIops(iops: number): string {
  return iops >= 10_000 ? `${(iops / 1000).toFixed(1)}k` : iops >= 100 ? iops.toFixed(0) : iops.toFixed(1);
}

export function formatRate(bytesPerSecond: number): string {
  const mib = bytesPerSecond / 1024 ** 2;
  return mib >= 1024 ? `${(mib / 1024).toFixed(2)} GiB/s` : `${mib.toFixed(mib >= 100 ? 0 : 1)} MiB/s`;
}

export function formatLatency(ns: number): string {
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(1)} µs`;
  return `${ns.toFixed(0)} ns`;
}

/** "42s", "3m05s", "1h02m": for elapsed times in progress lines. */
export function formatDuration(seconds: number): string {
  const total = Math.round(seconds);
  if (total < 60) return `${total}s`;
  const minutes = Math.floor(total / 60);
  if (minutes < 60) return `${minutes}m${String(total % 60).padStart(2, "0")}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, "0")}m`;
}
