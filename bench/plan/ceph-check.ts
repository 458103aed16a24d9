// `plan --check` of a stack's Ceph: what the node says of the RBD storages (pve-storage's storage.cfg, as
// RBDPlugin.pm reads it), of the pool (the Ceph CLI's JSON: `ceph osd pool ls detail`, `ceph df`), of the cluster's
// fsid and of ceph-csi's cephx user, one finding each.
import { parseCephJson, parsePools, poolNames } from "../ceph/pools.js";
import type { CephSettings } from "../config/ceph-config.js";
import type { Finding } from "./node-check.js";
import { formatGiB } from "./render.js";

/** What the stack asks of Ceph: its settings, and the bytes it writes to the pool at most (before replication). */
export interface CephPlan {
  settings: CephSettings;
  bytes: number;
}

/** One section of /etc/pve/storage.cfg: its type and properties (pve-storage's SectionConfig: "type: id", then "\tkey value"). */
export interface StorageSection {
  type: string;
  properties: Map<string, string>;
}

/** The node's answers about Ceph, collected by the lines below. */
export interface CephFacts {
  sections: Map<string, StorageSection>;
  /** `ceph osd pool ls detail --format json`, `ceph df --format json`, `ceph fsid`, `ceph auth get` (JSON). */
  pools?: string;
  df?: string;
  fsid?: string;
  user?: string;
  /** "yes" or "no" when LAYERBENCH_CEPH_USER_KEY was given to compare with the user's key. */
  keyMatches?: string;
}

/** LAYERBENCH_STORAGE_CFG moves /etc/pve/storage.cfg, for the tests' stand-in node. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion.
const STORAGE_CFG = '"${LAYERBENCH_STORAGE_CFG:-/etc/pve/storage.cfg}"';

/** Shell for the probe: a line per storage section, the pool's facts as one-line JSON, the user's entry. */
export function cephProbeLines(ceph: CephSettings, userKey?: string): string[] {
  const oneLine = (key: string, command: string) => `echo "${key}=$(${command} 2>/dev/null | tr -d '\\n')"`;
  const user = ceph.csi?.userId;
  return [
    `awk '/^[a-z]+: / { if (line) print line; line = "storage_cfg=" $2 " type=" substr($1, 1, length($1) - 1); next } /^[ \\t]+[a-z]/ { line = line " " $1 "=" $2 } END { if (line) print line }' ${STORAGE_CFG} 2>/dev/null`,
    oneLine("ceph_pools", "ceph osd pool ls detail --format json"),
    oneLine("ceph_df", "ceph df --format json"),
    oneLine("ceph_fsid", "ceph fsid"),
    ...(user ? [oneLine("ceph_user", `ceph auth get client.${user} --format json`)] : []),
    // The key goes to the node on ssh's stdin, inside the script, never on a command line.
    ...(user && userKey !== undefined
      ? [
          `if [ "$(ceph auth print-key client.${user} 2>/dev/null)" = '${userKey.replace(/'/g, "")}' ]; then echo "ceph_key_matches=yes"; else echo "ceph_key_matches=no"; fi`,
        ]
      : []),
  ];
}

/** "storage_cfg=ID type=rbd pool=P krbd=1" lines into sections. */
export function parseStorageSection(value: string): [string, StorageSection] {
  const [id, ...pairs] = value.split(" ");
  const properties = new Map(
    pairs.map((pair) => [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)] as [string, string]),
  );
  return [id, { type: properties.get("type") ?? "", properties }];
}

/** One of the stack's RBD storages: in storage.cfg, of type rbd, on the pool, krbd as its role needs, on this node. */
function storageFindings(
  id: string,
  krbd: boolean,
  ceph: CephSettings,
  facts: CephFacts,
  node: string,
  key: string,
): Finding[] {
  const section = facts.sections.get(id);
  if (!section)
    return [
      { level: "fail", message: `storage ${id} (${key}): not in /etc/pve/storage.cfg: add the RBD storage first` },
    ];
  if (section.type !== "rbd")
    return [{ level: "fail", message: `storage ${id} (${key}): a ${section.type} storage, not rbd` }];
  // RBDPlugin.pm: pool defaults to "rbd", krbd to 0; nodes (all when unset) is a comma list.
  const pool = section.properties.get("pool") ?? "rbd";
  const hasKrbd = section.properties.get("krbd") === "1";
  const nodes = section.properties.get("nodes")?.split(",");
  const problems = [
    ...(pool !== ceph.pool ? [`its pool is ${pool}, layerbench:ceph.pool says ${ceph.pool}`] : []),
    ...(hasKrbd !== krbd
      ? [
          krbd
            ? "KRBD is off: krbdStorage needs a storage with KRBD on"
            : "KRBD is on: storage must map images with librbd (KRBD off); name the KRBD one krbdStorage",
        ]
      : []),
    ...(nodes && !nodes.includes(node) ? [`it is not available on ${node} (nodes ${nodes.join(",")})`] : []),
  ];
  return problems.length > 0
    ? [{ level: "fail", message: `storage ${id} (${key}): ${problems.join("; ")}` }]
    : [{ level: "ok", message: `storage ${id}: rbd on pool ${pool}, KRBD ${hasKrbd ? "on" : "off"}` }];
}

/** The pool's size and min_size as the stack names them, its room, the fsid and ceph-csi's user. */
export function cephFindings(plan: CephPlan, facts: CephFacts, node: string): Finding[] {
  const ceph = plan.settings;
  const findings = [
    ...storageFindings(ceph.storage, false, ceph, facts, node, "ceph.storage"),
    ...(ceph.krbdStorage ? storageFindings(ceph.krbdStorage, true, ceph, facts, node, "ceph.krbdStorage") : []),
  ];
  const pools = parsePools(facts.pools, facts.df);
  if (!pools)
    return [
      ...findings,
      { level: "fail", message: "ceph: `ceph osd pool ls detail` gave no answer on the node: is it a pveceph node?" },
    ];
  const pool = pools.get(ceph.pool);
  if (!pool)
    return [
      ...findings,
      { level: "fail", message: `ceph: no pool ${ceph.pool} (ceph.pool): the pools are ${poolNames(pools)}` },
    ];
  findings.push(
    pool.size === ceph.size && pool.minSize === ceph.minSize
      ? { level: "ok", message: `pool ${ceph.pool}: size ${pool.size}, min_size ${pool.minSize}` }
      : {
          level: "fail",
          message: `pool ${ceph.pool}: size ${pool.size}, min_size ${pool.minSize}; the stack says ${ceph.size} and ${ceph.minSize}: set layerbench:ceph.size and minSize to the pool's, which its variants are named by`,
        },
  );
  const free = pool.maxAvail;
  if (free !== undefined)
    findings.push(
      free >= plan.bytes
        ? {
            level: "ok",
            message: `pool ${ceph.pool}: ${formatGiB(free)} can be stored, the stack writes up to ${formatGiB(plan.bytes)}`,
          }
        : {
            level: "fail",
            message: `pool ${ceph.pool}: ${formatGiB(free)} can be stored, the stack writes up to ${formatGiB(plan.bytes)}: free space or use a smaller size`,
          },
    );
  if (ceph.csi) findings.push(...csiFindings(ceph, facts));
  return findings;
}

function csiFindings(ceph: CephSettings, facts: CephFacts): Finding[] {
  const csi = ceph.csi;
  if (!csi) return [];
  const findings: Finding[] = [];
  if (facts.fsid && facts.fsid !== csi.clusterId)
    findings.push({
      level: "fail",
      message: `ceph.csi.clusterId ${csi.clusterId} is not this cluster's fsid, ${facts.fsid}: ceph-csi would not find its pool`,
    });
  const entry = parseCephJson<Array<{ entity: string; caps: Record<string, string> }>>(facts.user)?.[0];
  if (!entry) {
    findings.push({
      level: "fail",
      message: `ceph-csi's user client.${csi.userId} does not exist: ceph auth get-or-create client.${csi.userId} mon 'profile rbd' osd 'profile rbd pool=${ceph.pool}' mgr 'profile rbd pool=${ceph.pool}'`,
    });
    return findings;
  }
  const osd = entry.caps.osd ?? "";
  // A cap on the pool, or on every pool ("profile rbd" or "allow *" without pool=).
  const reaches = osd.includes(`pool=${ceph.pool}`) || !osd.includes("pool=");
  findings.push(
    reaches && /profile rbd|allow \*|allow rwx/.test(osd)
      ? { level: "ok", message: `ceph-csi's user client.${csi.userId}: osd caps "${osd}"` }
      : {
          level: "fail",
          message: `ceph-csi's user client.${csi.userId}: osd caps "${osd}" do not reach pool ${ceph.pool}: give it osd 'profile rbd pool=${ceph.pool}'`,
        },
  );
  if (facts.keyMatches === undefined)
    findings.push({
      level: "warn",
      message: `ceph-csi's key: not compared: set LAYERBENCH_CEPH_USER_KEY to the key the stack holds (pulumi config get layerbench:cephUserKey)`,
    });
  else
    findings.push(
      facts.keyMatches === "yes"
        ? { level: "ok", message: `ceph-csi's key: client.${csi.userId}'s` }
        : {
            level: "fail",
            message: `ceph-csi's key is not client.${csi.userId}'s: set layerbench:cephUserKey to what ceph auth print-key client.${csi.userId} prints`,
          },
    );
  return findings;
}
