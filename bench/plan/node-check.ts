import { spawn } from "node:child_process";
import http from "node:http";
import https from "node:https";
import type { Plan, PlannedVm } from "./plan.js";
import { formatGiB } from "./render.js";

// `layerbench plan --check`: asks the node, before anything exists, whether `pulumi up` can go ahead. Over SSH
// (the system ssh client, the stack's user and address, never a password prompt) and over the Proxmox API (the
// stack's endpoint, the token from PROXMOX_VE_API_TOKEN as the provider takes it). One line per finding.

export type FindingLevel = "ok" | "warn" | "fail";
export interface Finding {
  level: FindingLevel;
  message: string;
}

export interface CheckTarget {
  plan: Plan;
  sshUser: string;
  /** The datastore that takes the cloud image (import content) and the cloud-init snippets. */
  fileDatastore: string;
  /** Config key -> the guest or pod image whose Debian release gives that layer its fio. */
  fioSources?: Record<string, string>;
  endpoint?: string;
  insecure: boolean;
  apiToken?: string;
}

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
      child.stdin.end(script);
    });
}

/** The shell the node runs: one `key=value` line per fact. */
export function probeScript(plan: Plan): string {
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
    'pvesm status --content images 2>/dev/null | awk \'NR > 1 { print "images_storage=" $1 " " $3 " " $6 }\'',
    // The ZFS ARC gives memory back to the kernel down to c_min, and MemAvailable does not count it.
    // LAYERBENCH_ARCSTATS: the tests' stand-in node keeps its own.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion.
    'awk \'$1 == "size" { print "arc_size=" $3 } $1 == "c_min" { print "arc_min=" $3 }\' "${LAYERBENCH_ARCSTATS:-/proc/spl/kstat/zfs/arcstats}" 2>/dev/null',
    "",
  ].join("\n");
}

interface Facts {
  values: Map<string, string>;
  /** Storages of this node with images content: status (active, inactive, disabled) and bytes available. */
  imageStorages: Map<string, { status: string; available: number }>;
  /** The cluster's VMs by vmId: name and node; undefined when pvesh could not list them. */
  vms?: Map<number, { name: string; node: string }>;
  storages: Set<string>;
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
  const facts: Facts = { values: new Map(), storages: new Set(), imageStorages: new Map() };
  for (const line of stdout.split("\n")) {
    const separator = line.indexOf("=");
    if (separator < 0) continue;
    const [key, value] = [line.slice(0, separator), line.slice(separator + 1).trim()];
    if (key === "storage") facts.storages.add(value);
    else if (key === "images_storage") {
      const [id, status, availableKib] = value.split(" ");
      facts.imageStorages.set(id, { status, available: Number(availableKib) * 1024 });
    } else facts.values.set(key, value);
  }
  facts.vms = clusterVms(facts.values.get("cluster_vms"));
  return facts;
}

/** "pve-manager/8.4.1/2a5fa54a8503f96d (running kernel: 6.8.12-9-pve)" -> [8, 4, 1]. */
export function pveRelease(pveversion: string): number[] | undefined {
  const match = /pve-manager\/(\d+)\.(\d+)(?:\.(\d+))?/.exec(pveversion);
  return match ? match.slice(1).map((part) => Number(part ?? 0)) : undefined;
}

/** Proxmox VE 8.4 is the first that downloads .qcow2 images as import content (the provider's download_file docs). */
const MINIMUM_RELEASE = [8, 4];

function versionFinding(pveversion: string | undefined, host: string): Finding {
  if (!pveversion) return { level: "fail", message: `pveversion: not found on ${host}: is it a Proxmox VE node?` };
  const release = pveRelease(pveversion);
  if (!release)
    return { level: "fail", message: `pveversion: cannot read the release in ${JSON.stringify(pveversion)}` };
  const text = release.join(".");
  const tooOld =
    release[0] < MINIMUM_RELEASE[0] || (release[0] === MINIMUM_RELEASE[0] && release[1] < MINIMUM_RELEASE[1]);
  return tooOld
    ? {
        level: "fail",
        message: `Proxmox VE ${text}: importing the cloud image (content type import) needs ${MINIMUM_RELEASE.join(".")} or later`,
      }
    : { level: "ok", message: `Proxmox VE ${text}` };
}

/** The stack's vmIds against every VM of the cluster: free, this stack's own from an earlier up, or taken. */
function vmIdFindings(plan: Plan, vms: Facts["vms"]): Finding[] {
  if (!vms)
    return [
      {
        level: "warn",
        message: "vmIds: not checked: pvesh could not list the cluster's VMs (pvesh get /cluster/resources)",
      },
    ];
  const findings: Finding[] = [];
  for (const vm of plan.vms) {
    const existing = vms.get(vm.vmId);
    if (!existing) continue;
    if (existing.name === vm.name && existing.node === vm.node)
      findings.push({
        level: "ok",
        message: `vmId ${vm.vmId}: ${existing.name} exists already, from an earlier pulumi up of this stack`,
      });
    else
      findings.push({
        level: "fail",
        message: `vmId ${vm.vmId} is taken by VM ${JSON.stringify(existing.name)} on node ${existing.node}: choose other vmIds (layerbench:vm.vmId, k8s.vm.vmId)`,
      });
  }
  const free = plan.vms.filter((vm) => !vms.has(vm.vmId)).map((vm) => vm.vmId);
  if (free.length > 0) findings.push({ level: "ok", message: `vmIds ${free.join(", ")}: free in the cluster` });
  return findings;
}

/** The memory some VMs are given, in bytes. */
const memoryBytes = (vms: PlannedVm[]) => vms.reduce((sum, vm) => sum + vm.memoryMb, 0) * 1024 ** 2;

/**
 * The datastores of this node's VMs that are not the stack's own ZFS storages (the boot disks, vm.bootDatastore
 * and k8s.vm.bootDatastore, and the k3s nodes' Longhorn disk): each must exist on the node, be active, take images
 * content, and have room for what the plan puts there (the disks of VMs that exist already are there already).
 * A node installed on ext4/LVM has no local-zfs.
 */
function bootDatastoreFindings(plan: Plan, facts: Facts): Finding[] {
  if (facts.storages.size === 0) return [];
  const own = new Set(plan.storageIds);
  const needs = new Map<string, number>();
  for (const vm of plan.vms.filter((candidate) => candidate.node === plan.node)) {
    const exists = facts.vms?.get(vm.vmId)?.node === plan.node;
    for (const disk of vm.disks.filter((candidate) => !own.has(candidate.datastore)))
      needs.set(disk.datastore, (needs.get(disk.datastore) ?? 0) + (exists ? 0 : disk.sizeGb * 1024 ** 3));
  }
  return [...needs].map(([id, bytes]): Finding => {
    const storage = facts.imageStorages.get(id);
    const keys = "vm.bootDatastore, k8s.vm.bootDatastore";
    if (!facts.storages.has(id))
      return {
        level: "fail",
        message: `datastore ${id} (${keys}) does not exist on ${plan.node}: name one that pvesm status lists`,
      };
    if (!storage)
      return {
        level: "fail",
        message: `datastore ${id} (${keys}) does not take VM disks (images content) on ${plan.node}`,
      };
    if (storage.status !== "active")
      return { level: "fail", message: `datastore ${id} (${keys}) is ${storage.status} on ${plan.node}` };
    return storage.available >= bytes
      ? {
          level: "ok",
          message: `datastore ${id}: ${formatGiB(storage.available)} free, the VMs' boot disks take up to ${formatGiB(bytes)}`,
        }
      : {
          level: "fail",
          message: `datastore ${id}: ${formatGiB(storage.available)} free, the VMs' boot disks take up to ${formatGiB(bytes)}: free space or choose another (${keys})`,
        };
  });
}

/** Proxmox VE's major release -> the Debian release it runs on, and that release's names in image URLs and tags. */
const DEBIAN_OF_PVE: Record<number, { release: number; codename: string }> = {
  8: { release: 12, codename: "bookworm" },
  9: { release: 13, codename: "trixie" },
};

/**
 * The host runs its Debian's fio; the guests and pods install theirs from their images' Debian. A guest or pod of
 * another release measures with another fio: said here, and flagged by the report when it happened.
 */
function fioReleaseFinding(pveversion: string | undefined, sources: Record<string, string>): Finding[] {
  const debian = DEBIAN_OF_PVE[pveRelease(pveversion ?? "")?.[0] ?? 0];
  if (!debian) return [];
  const other = Object.entries(sources).filter(([, image]) => {
    const named = Object.values(DEBIAN_OF_PVE).find(
      ({ release, codename }) => image.includes(`debian-${release}-`) || image.includes(codename),
    );
    return named !== undefined && named.release !== debian.release;
  });
  return other.length === 0
    ? [{ level: "ok", message: `fio: the host, guests and pods all run Debian ${debian.release}'s` }]
    : [
        {
          level: "warn",
          message: `fio: the host runs Debian ${debian.release}'s, ${other.map(([key, image]) => `${key} (${image}) another release's`).join(", ")}: set them to Debian ${debian.release} (${debian.codename}) to compare layers with one fio`,
        },
      ];
}

function sshFindings(target: CheckTarget, facts: Facts): Finding[] {
  const { plan } = target;
  const findings: Finding[] = [versionFinding(facts.values.get("pveversion"), plan.nodeAddress)];
  const available = Number(facts.values.get("pool_available") || NaN);
  if (!Number.isFinite(available)) {
    findings.push({
      level: "fail",
      message: `pool ${plan.pool}: no such ZFS pool on the node (layerbench:dataset names it)`,
    });
  } else {
    // What this stack wrote in an earlier `pulumi up` is already counted as used.
    const usable = available + (Number(facts.values.get("stack_used")) || 0);
    findings.push(
      usable >= plan.spaceBytes
        ? {
            level: "ok",
            message: `pool ${plan.pool}: ${formatGiB(available)} free, the stack writes up to ${formatGiB(plan.spaceBytes)}`,
          }
        : {
            level: "fail",
            message: `pool ${plan.pool}: ${formatGiB(available)} free, the stack writes up to ${formatGiB(plan.spaceBytes)}: free space or use a smaller size/fewer variants`,
          },
    );
  }
  const memFree = Number(facts.values.get("mem_available_kib") || NaN) * 1024;
  // What the ARC holds above its minimum, the kernel gets back under pressure (zfs arcstats: size, c_min).
  const arcReclaimable = Math.max(
    0,
    Number(facts.values.get("arc_size") || 0) - Number(facts.values.get("arc_min") || 0),
  );
  const memAvailable = memFree + arcReclaimable;
  const memText =
    arcReclaimable > 0
      ? `${formatGiB(memAvailable)} available (MemAvailable ${formatGiB(memFree)} + ${formatGiB(arcReclaimable)} of ZFS ARC above its minimum, which ZFS gives back)`
      : `${formatGiB(memAvailable)} available`;
  // Only the VMs this node runs need its memory; those of this stack that already run hold theirs already.
  const here = plan.vms.filter((vm) => vm.node === plan.node);
  const running = memoryBytes(here.filter((vm) => facts.vms?.get(vm.vmId)?.node === plan.node));
  const needed = memoryBytes(here);
  if (Number.isFinite(memAvailable)) {
    findings.push(
      memAvailable + running >= needed
        ? {
            level: "ok",
            message: `memory: ${memText}, the stack's VMs take ${formatGiB(needed)}`,
          }
        : {
            level: "fail",
            message: `memory: ${memText}, the stack's VMs take ${formatGiB(needed)}: give them less memory (vm.memoryMb, k8s.vm.memoryMb) or stop other VMs`,
          },
    );
  }
  if (facts.values.get("fio")) findings.push({ level: "ok", message: `fio: ${facts.values.get("fio")}` });
  else if (facts.values.get("apt_get"))
    findings.push({ level: "ok", message: "fio: not installed; pulumi up installs it with apt-get" });
  else
    findings.push({
      level: "fail",
      message: "fio: not installed, and no apt-get to install it with: install fio on the node",
    });
  const others = [...new Set(plan.vms.map((vm) => vm.node).filter((node) => node !== plan.node))];
  if (others.length > 0)
    findings.push({
      level: "warn",
      message: `nodes ${others.join(", ")}: not asked (only ${plan.node} is); their VMs take ${others
        .map((node) => `${formatGiB(memoryBytes(plan.vms.filter((vm) => vm.node === node)))} on ${node}`)
        .join(", ")}`,
    });
  findings.push(
    ...fioReleaseFinding(facts.values.get("pveversion"), target.fioSources ?? {}),
    ...vmIdFindings(plan, facts.vms),
    ...bootDatastoreFindings(plan, facts),
  );
  for (const id of plan.storageIds.filter((storage) => facts.storages.has(storage))) {
    findings.push({
      level: "warn",
      message: `storage ${id} exists already: from an earlier pulumi up of this stack, or pulumi up fails with "storage ID '${id}' already defined"`,
    });
  }
  if (facts.storages.size > 0 && !facts.storages.has(target.fileDatastore)) {
    findings.push({
      level: "fail",
      message: `datastore ${target.fileDatastore} (vm.fileDatastore) does not exist on the node`,
    });
  }
  return findings;
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
  const result = await shell(probeScript(plan));
  if (result.code !== 0 && !result.stdout.includes("hostname=")) {
    const reason = result.stderr.trim().split("\n").pop() || `exit code ${result.code}`;
    return [
      {
        level: "fail",
        message: `node ${plan.node} (${plan.nodeAddress}): cannot run commands over SSH as ${target.sshUser}: ${reason}`,
      },
    ];
  }
  return [...sshFindings(target, parseFacts(result.stdout)), ...(await apiFindings(target))];
}

export function renderFindings(findings: Finding[]): string {
  const mark: Record<FindingLevel, string> = { ok: "ok  ", warn: "warn", fail: "FAIL" };
  return findings.map((finding) => `${mark[finding.level]}  ${finding.message}\n`).join("");
}
