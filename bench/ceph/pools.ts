// The pools of a Ceph cluster as its CLI's JSON gives them: `ceph osd pool ls detail --format json` (pool_name, size,
// min_size), `ceph df --format json` (pools[].stats.max_avail) and `ceph osd pool get-quota POOL --format json`.
// Read on this machine for an RBD target and on a Proxmox node by `plan --check`, from the same answers.

export interface PoolFacts {
  size: number;
  minSize: number;
  /** Bytes the pool can still store, replication accounted (pve-storage RBDPlugin.pm status reads the same); absent when `ceph df` did not say. */
  maxAvail?: number;
}

/** A Ceph CLI's JSON answer; undefined where the command printed nothing or failed halfway. */
export function parseCephJson<T>(text: string | undefined): T | undefined {
  try {
    return text ? (JSON.parse(text) as T) : undefined;
  } catch {
    return undefined;
  }
}

/** The pools by name, or undefined when `osd pool ls detail` gave no JSON. */
export function parsePools(lsDetail: string | undefined, df: string | undefined): Map<string, PoolFacts> | undefined {
  const pools = parseCephJson<Array<{ pool_name: string; size: number; min_size: number }>>(lsDetail);
  if (!Array.isArray(pools)) return undefined;
  const free = new Map(
    (parseCephJson<{ pools: Array<{ name: string; stats: { max_avail: number } }> }>(df)?.pools ?? []).map((pool) => [
      pool.name,
      pool.stats.max_avail,
    ]),
  );
  return new Map(
    pools.map((pool) => [
      pool.pool_name,
      {
        size: pool.size,
        minSize: pool.min_size,
        ...(free.has(pool.pool_name) && { maxAvail: free.get(pool.pool_name) }),
      },
    ]),
  );
}

/** The pools' names, for a message that says which exist. */
export const poolNames = (pools: Map<string, PoolFacts>) => [...pools.keys()].join(", ") || "none";

/**
 * The bytes a pool's quota still lets clients write, or undefined without a byte quota. `max_avail` ignores quotas,
 * and a pool at its quota blocks every write (the OSDs mark it full) instead of failing it: a run would hang.
 */
export function quotaRoom(getQuota: string | undefined): number | undefined {
  const quota = parseCephJson<{ quota_max_bytes?: number; current_num_bytes?: number }>(getQuota);
  if (!quota?.quota_max_bytes) return undefined;
  return Math.max(0, quota.quota_max_bytes - (quota.current_num_bytes ?? 0));
}
