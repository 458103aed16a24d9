// `plan --check` of a stack's Ceph: what the node says of the RBD storages (pve-storage's storage.cfg, as
// RBDPlugin.pm reads it), of the pool (the Ceph CLI's JSON: `ceph osd pool ls detail`, `ceph df`, `ceph osd pool
// get-quota`), of the cluster's fsid and monitors and of ceph-csi's cephx user, one finding each.
import { parseCephJson, parsePools, poolNames, quotaRoom } from "../ceph/pools.js";
import type { CephSettings } from "../config/ceph-config.js";
import { formatGiB } from "../util/format.js";
import { formatBytes } from "../util/size.js";
import type { Finding } from "./finding.js";

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
  /**
   * `ceph osd pool ls detail --format json`, `ceph df --format json`, `ceph osd pool get-quota` of the stack's pool,
   * `ceph fsid`, `ceph mon dump --format json`, `ceph auth get` (JSON).
   */
  pools?: string;
  df?: string;
  quota?: string;
  fsid?: string;
  mons?: string;
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
    oneLine("ceph_quota", `ceph osd pool get-quota '${ceph.pool}' --format json`),
    oneLine("ceph_fsid", "ceph fsid"),
    ...(ceph.csi ? [oneLine("ceph_mons", "ceph mon dump --format json")] : []),
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

/**
 * One of the stack's RBD storages, a finding per problem: in storage.cfg, of type rbd, enabled, taking VM disks,
 * on the pool, KRBD as its role needs, on this node; pve-storage's defaults where a property is unset.
 */
function storageFindings(
  id: string,
  krbd: boolean,
  ceph: CephSettings,
  facts: CephFacts,
  node: string,
  key: string,
): Finding[] {
  const section = facts.sections.get(id);
  const fail = (problem: string): Finding => ({ level: "fail", message: `storage ${id} (${key}): ${problem}` });
  if (!section) return [fail("not in /etc/pve/storage.cfg: add the RBD storage first")];
  if (section.type !== "rbd") return [fail(`a ${section.type} storage, not rbd`)];
  // RBDPlugin.pm: pool defaults to "rbd", krbd to 0, content to images; nodes (all when unset) is a comma list.
  // SectionConfig writes a set flag as "disable" or "disable 1".
  const pool = section.properties.get("pool") ?? "rbd";
  const hasKrbd = section.properties.get("krbd") === "1";
  const nodes = section.properties.get("nodes")?.split(",");
  const content = (section.properties.get("content") ?? "images").split(",");
  const disabled = section.properties.has("disable") && section.properties.get("disable") !== "0";
  const problems = [
    ...(disabled
      ? [
          fail(
            `disabled: Proxmox puts no disk on it (pvesm set ${id} --disable 0, or Datacenter > Storage > ${id} > Enable)`,
          ),
        ]
      : []),
    ...(content.includes("images")
      ? []
      : [fail(`takes ${content.join(",")} content, not images (VM disks): add Disk image in its Content`)]),
    ...(pool !== ceph.pool ? [fail(`its pool is ${pool}, layerbench:ceph.pool says ${ceph.pool}`)] : []),
    ...(hasKrbd !== krbd
      ? [
          fail(
            krbd
              ? "KRBD is off: krbdStorage needs a storage with KRBD on"
              : "KRBD is on: storage must map images with librbd (KRBD off); name the KRBD one krbdStorage",
          ),
        ]
      : []),
    ...(nodes && !nodes.includes(node) ? [fail(`it is not available on ${node} (nodes ${nodes.join(",")})`)] : []),
  ];
  return problems.length > 0
    ? problems
    : [{ level: "ok", message: `storage ${id}: rbd on pool ${pool}, KRBD ${hasKrbd ? "on" : "off"}, takes VM disks` }];
}

/**
 * A storage with `monhost` is a cluster other than the node's own (RBDPlugin.pm then connects with the storage's
 * keyring): the host run and these checks use the node's Ceph CLI as client.admin, which reaches the node's own.
 */
function externalClusterFinding(ceph: CephSettings, facts: CephFacts): Finding | undefined {
  const external = [ceph.storage, ceph.krbdStorage ?? ""].flatMap((id) => {
    const monhost = facts.sections.get(id)?.properties.get("monhost");
    return monhost ? [`${id} (monhost ${monhost})`] : [];
  });
  if (external.length === 0) return undefined;
  return {
    level: "fail",
    message: `ceph: ${external.join(", ")} is an external cluster: layerbench measures and checks the Ceph of its Proxmox nodes (pveceph: the node's ceph CLI as client.admin), so the host run could not reach this pool; the pool checks are skipped`,
  };
}

/** The pool's size and min_size as the stack names them, its room, the fsid and ceph-csi's user. */
export function cephFindings(plan: CephPlan, facts: CephFacts, node: string): Finding[] {
  const ceph = plan.settings;
  const findings = [
    ...storageFindings(ceph.storage, false, ceph, facts, node, "ceph.storage"),
    ...(ceph.krbdStorage ? storageFindings(ceph.krbdStorage, true, ceph, facts, node, "ceph.krbdStorage") : []),
  ];
  const external = externalClusterFinding(ceph, facts);
  if (external) return [...findings, external];
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
  const quota = quotaFinding(ceph.pool, facts.quota, plan.bytes);
  if (quota) findings.push(quota);
  if (ceph.csi) findings.push(...csiFindings(ceph, facts));
  return findings;
}

/** The pool's byte quota against what the stack writes; none without a quota. */
function quotaFinding(pool: string, quotaJson: string | undefined, bytes: number): Finding | undefined {
  const room = quotaRoom(quotaJson);
  if (room === undefined) return undefined;
  const says = `pool ${pool}: its quota lets ${formatBytes(room)} more be written, the stack writes up to ${formatBytes(bytes)}`;
  if (room >= bytes) return { level: "ok", message: says };
  const quota = parseCephJson<{ quota_max_bytes: number }>(quotaJson)?.quota_max_bytes ?? 0;
  return {
    level: "fail",
    message: `${says}: a pool at its quota blocks every write, so the run would hang: ceph osd pool set-quota ${pool} max_bytes ${Math.ceil(quota + bytes - room)}, or a smaller size`,
  };
}

/**
 * ceph-csi's monitors against the cluster's (`ceph mon dump`: each monitor's v2 and v1 addresses): a monitor that
 * is not the cluster's leaves ceph-csi's provisioner retrying while the claims stay Pending.
 */
function monitorFindings(monitors: string[], monsJson: string | undefined): Finding[] {
  const dump = parseCephJson<{ mons?: Array<{ name: string; public_addrs?: { addrvec?: Array<{ addr: string }> } }> }>(
    monsJson,
  );
  if (!dump?.mons)
    return [{ level: "warn", message: "ceph.csi.monitors: not compared: `ceph mon dump` gave no answer" }];
  const addresses = new Set(dump.mons.flatMap((mon) => (mon.public_addrs?.addrvec ?? []).map((entry) => entry.addr)));
  const cluster = [...addresses].join(", ");
  const unknown = monitors.filter((monitor) => !addresses.has(monitor));
  return unknown.length > 0
    ? [
        {
          level: "fail",
          message: `ceph.csi.monitors ${unknown.join(", ")}: not a monitor of this cluster, whose monitors are ${cluster} (ceph mon dump): ceph-csi would not reach it`,
        },
      ]
    : [{ level: "ok", message: `ceph.csi.monitors: ${monitors.length} of the cluster's monitors (${cluster})` }];
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
  findings.push(...monitorFindings(csi.monitors, facts.mons));
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
