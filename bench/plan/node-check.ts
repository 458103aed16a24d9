import { spawn } from "node:child_process";
import http from "node:http";
import https from "node:https";
import { cephFindings, cephProbeLines, parseStorageSection } from "./ceph-check.js";
import type { Finding, FindingLevel } from "./finding.js";
import { type CheckTarget, type Facts, sshFindings } from "./node-findings.js";
import type { Plan } from "./plan.js";

// `layerbench plan --check`: asks the node, before anything exists, whether `pulumi up` can go ahead. Over SSH
// (the system ssh client, the stack's user and address, never a password prompt) and over the Proxmox API (the
// stack's endpoint, the token from PROXMOX_VE_API_TOKEN as the provider takes it). One line per finding.

export interface ShellResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a script on the node; the stand-in for tests, the system ssh client for users. */
export type RemoteShell = (script: string) => Promise<ShellResult>;

/**
 * The system ssh client. LAYERBENCH_SSH replaces the `ssh` command (e.g. `ssh -F ~/.ssh/lab_config`), as
 * GIT_SSH_COMMAND does for git. BatchMode: a missing key is an error, never a prompt.
 */
export function systemSsh(user: string, host: string, env: NodeJS.ProcessEnv = process.env): RemoteShell {
  const [command, ...base] = (env.LAYERBENCH_SSH ?? "ssh").split(/\s+/).filter(Boolean);
  const args = [
    ...base,
    "-o",
    "BatchMode=yes",
    "-o",
    "ConnectTimeout=10",
    "-o",
    "StrictHostKeyChecking=accept-new",
    `${user}@${host}`,
    "sh -s",
  ];
  return (script) =>
    new Promise((resolve) => {
      const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
      child.on("error", (error) => resolve({ code: 255, stdout, stderr: `${command}: ${error.message}` }));
      child.on("close", (code) => resolve({ code: code ?? 255, stdout, stderr }));
      // An ssh that gives up before reading the script (an unreachable node) closes its stdin: the write fails
      // with EPIPE, an 'error' event that would end the process; ssh's exit code and stderr say what happened.
      child.stdin.on("error", () => undefined);
      child.stdin.end(script);
    });
}

/** The shell the node runs: one `key=value` line per fact. */
export function probeScript(plan: Plan, cephUserKey?: string): string {
  return [
    'echo "hostname=$(hostname)"',
    'echo "pveversion=$(pveversion 2>/dev/null | head -n 1)"',
    `echo "pool_available=$(zfs get -Hp -o value available '${plan.pool}' 2>/dev/null)"`,
    `echo "stack_used=$(zfs get -Hp -o value used '${plan.datasets[0]}' 2>/dev/null)"`,
    // KiB as the kernel gives them: mawk, Debian's awk, prints products past 2^31 as 1.07374e+11.
    "echo \"mem_available_kib=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)\"",
    'echo "fio=$(command -v fio)"',
    'echo "apt_get=$(command -v apt-get)"',
    // Every VM of the cluster, whichever node runs it (`qm config` sees this node's only): vmIds are cluster-wide.
    // pve-manager PVE/API2/Cluster.pm `resources`: type vm, each entry with vmid, name and node.
    "echo \"cluster_vms=$(pvesh get /cluster/resources --type vm --output-format json 2>/dev/null | tr -d '\\n')\"",
    "pvesm status 2>/dev/null | awk 'NR > 1 { print \"storage=\" $1 }'",
    // pve-storage src/PVE/CLI/pvesm.pm print_status: Name Type Status Total Used Available (KiB) %; --content
    // images lists the storages of this node that take VM disks.
    'pvesm status --content images 2>/dev/null | awk \'NR > 1 { print "images_storage=" $1 " " $2 " " $3 " " $6 }\'',
    // The ZFS ARC gives memory back to the kernel down to c_min, and MemAvailable does not count it.
    // LAYERBENCH_ARCSTATS: the tests' stand-in node keeps its own.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion.
    'awk \'$1 == "size" { print "arc_size=" $3 } $1 == "c_min" { print "arc_min=" $3 }\' "${LAYERBENCH_ARCSTATS:-/proc/spl/kstat/zfs/arcstats}" 2>/dev/null',
    ...(plan.cephPlan ? cephProbeLines(plan.cephPlan.settings, cephUserKey) : []),
    "",
  ].join("\n");
}

/** pvesh's JSON of /cluster/resources: one entry per guest, `vmid`, `name`, `node`. */
function clusterVms(json: string | undefined): Facts["vms"] {
  try {
    const entries = JSON.parse(json ?? "") as Array<{ vmid?: unknown; name?: unknown; node?: unknown }>;
    if (!Array.isArray(entries)) return undefined;
    return new Map(
      entries.flatMap((entry) =>
        typeof entry.vmid === "number"
          ? [[entry.vmid, { name: String(entry.name ?? ""), node: String(entry.node ?? "") }] as const]
          : [],
      ),
    );
  } catch {
    return undefined;
  }
}

function parseFacts(stdout: string): Facts {
  const facts: Facts = {
    values: new Map(),
    storages: new Set(),
    imageStorages: new Map(),
    ceph: { sections: new Map() },
  };
  for (const line of stdout.split("\n")) {
    const separator = line.indexOf("=");
    if (separator < 0) continue;
    const [key, value] = [line.slice(0, separator), line.slice(separator + 1).trim()];
    if (key === "storage") facts.storages.add(value);
    else if (key === "storage_cfg") facts.ceph.sections.set(...parseStorageSection(value));
    else if (key === "images_storage") {
      const [id, type, status, availableKib] = value.split(" ");
      facts.imageStorages.set(id, { type, status, available: Number(availableKib) * 1024 });
    } else facts.values.set(key, value);
  }
  facts.vms = clusterVms(facts.values.get("cluster_vms"));
  const answer = (key: string) => facts.values.get(key) || undefined;
  facts.ceph = {
    ...facts.ceph,
    pools: answer("ceph_pools"),
    df: answer("ceph_df"),
    quota: answer("ceph_quota"),
    fsid: answer("ceph_fsid"),
    mons: answer("ceph_mons"),
    user: answer("ceph_user"),
    keyMatches: answer("ceph_key_matches"),
  };
  return facts;
}

function getJson(url: URL, token: string, insecure: boolean): Promise<{ status: number; body: unknown }> {
  const client = url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const request = client.get(
      url,
      { headers: { Authorization: `PVEAPIToken=${token}` }, rejectUnauthorized: !insecure, timeout: 10_000 },
      (response) => {
        let text = "";
        response.setEncoding("utf8").on("data", (chunk: string) => (text += chunk));
        response.on("end", () => {
          try {
            resolve({ status: response.statusCode ?? 0, body: text ? JSON.parse(text) : undefined });
          } catch {
            resolve({ status: response.statusCode ?? 0, body: undefined });
          }
        });
      },
    );
    request.on("timeout", () => request.destroy(new Error("no answer in 10 s")));
    request.on("error", reject);
  });
}

async function apiFindings(target: CheckTarget): Promise<Finding[]> {
  if (!target.endpoint)
    return [{ level: "warn", message: "Proxmox API: not checked: the stack sets no proxmoxve:endpoint" }];
  if (!target.apiToken)
    return [
      {
        level: "warn",
        message: `Proxmox API: datastore ${target.fileDatastore}'s content types not checked: set PROXMOX_VE_API_TOKEN (as for the provider)`,
      },
    ];
  const url = new URL(
    `api2/json/storage/${encodeURIComponent(target.fileDatastore)}`,
    target.endpoint.endsWith("/") ? target.endpoint : `${target.endpoint}/`,
  );
  let answer: { status: number; body: unknown };
  try {
    answer = await getJson(url, target.apiToken, target.insecure);
  } catch (error) {
    return [{ level: "fail", message: `Proxmox API: cannot reach ${target.endpoint}: ${(error as Error).message}` }];
  }
  if (answer.status === 401)
    return [
      { level: "fail", message: `Proxmox API: ${target.endpoint} refused the token (401): check PROXMOX_VE_API_TOKEN` },
    ];
  const content = (answer.body as { data?: { content?: unknown } } | undefined)?.data?.content;
  if (answer.status !== 200 || typeof content !== "string")
    return [{ level: "fail", message: `Proxmox API: no datastore ${target.fileDatastore} (HTTP ${answer.status})` }];
  const types = content.split(",");
  return ["import", "snippets"].map(
    (type): Finding =>
      types.includes(type)
        ? { level: "ok", message: `datastore ${target.fileDatastore} takes ${type} content` }
        : {
            level: "fail",
            message: `datastore ${target.fileDatastore} does not take ${type} content: add it in Datacenter > Storage > ${target.fileDatastore} > Content`,
          },
  );
}

export async function checkNode(target: CheckTarget, shell: RemoteShell): Promise<Finding[]> {
  const { plan } = target;
  const result = await shell(probeScript(plan, target.cephUserKey));
  if (result.code !== 0 && !result.stdout.includes("hostname=")) {
    const reason = result.stderr.trim().split("\n").pop() || `exit code ${result.code}`;
    return [
      {
        level: "fail",
        message: `node ${plan.node} (${plan.nodeAddress}): cannot run commands over SSH as ${target.sshUser}: ${reason}`,
      },
    ];
  }
  const facts = parseFacts(result.stdout);
  return [
    ...sshFindings(target, facts),
    ...(plan.cephPlan ? cephFindings(plan.cephPlan, facts.ceph, plan.node) : []),
    ...(await apiFindings(target)),
  ];
}

export function renderFindings(findings: Finding[]): string {
  const mark: Record<FindingLevel, string> = { ok: "ok  ", warn: "warn", fail: "FAIL" };
  return findings.map((finding) => `${mark[finding.level]}  ${finding.message}\n`).join("");
}
