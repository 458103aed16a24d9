/** Polls `check` every 100 ms until `holds` says its value is the one awaited, or `ms` pass; the last value. */
export async function within<T>(ms: number, check: () => Promise<T>, holds: (value: T) => boolean): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (holds(value) || Date.now() > until) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
