import { workloadRun } from "../core/fio-parser.js";
import {
  FIO_IMAGE_FEATURES,
  type FioTarget,
  RBD_CLIENT_VARIABLE,
  RBD_POOL_VARIABLE,
  RBD_TARGET,
  renderJobFile,
  renderRbdFillJob,
  TARGET_REFERENCE,
  TARGET_VARIABLE,
} from "../core/jobfile.js";
import { largestFootprint, type Profile } from "../core/profiles.js";
import { Recorder } from "../core/recorder.js";
import {
  newResultsDocument,
  profileInfo,
  type ResultsDocument,
  type Run,
  type Source,
  type VariantSpec,
} from "../core/results.js";
import { LOGS_VARIABLE } from "../core/series.js";
import { UserError } from "../util/errors.js";
import { formatFioSize } from "../util/size.js";
import { END_LINE, MARKER_SHELL, parseMarkerLine } from "./markers.js";
import { rbdFeaturesShell } from "./rbd-shell.js";
import { repeatLines } from "./repeat-script.js";
import { SERIES_CLEAR, SERIES_SEND, SERIES_SETUP } from "./series-script.js";

// The shell script a remote Command runs: the job file inline, fio once per workload and repeat, each output
// between markers. A failing workload is reported and the script goes on, so one failure loses nothing else.

/**
 * Where the script points fio: a directory, a device path, a guest's disk found by its serial, or an RBD image the
 * script makes (its size in bytes), fills, measures with fio's rbd engine and removes, as cephx user `client`.
 */
export type ScriptTarget =
  /**
   * With `fill`, the mount of a volume the run made for itself (a ceph-csi volume): its free space is written once
   * and freed before the first measurement. Never a user's directory: the fill takes every free byte.
   */
  | { kind: "directory"; path: string; fill?: boolean }
  | { kind: "device"; path: string }
  | { kind: "serial"; serial: string }
  | { kind: "rbd"; pool: string; image: string; client: string; bytes: number };

/**
 * The target a node script printed as its last line (a zvol's or LV's device, a dataset's or storage's directory),
 * for the fio script to run on.
 */
export function printedTarget(stdout: string, kind: "device" | "directory"): ScriptTarget {
  return { kind, path: stdout.trim().split("\n").pop() ?? "" };
}

export interface FioScriptOptions {
  profile: Profile;
  repeat: number;
  target: ScriptTarget;
  /** Prefix for fio, e.g. "sudo" in a guest whose login user is not root. */
  sudo?: boolean;
}

/** The lines that set LAYERBENCH_TARGET sit between these two comments: the only part that differs by target. */
export const TARGET_BLOCK = { begin: "# layerbench target: begin", end: "# layerbench target: end" } as const;

/** A double-quoted shell word: inside double quotes only \\, ", $ and ` are special. */
function shellQuote(value: string): string {
  return `"${value.replace(/[\\"$`]/g, "\\$&")}"`;
}

/**
 * A guest's disk by its serial, read where the kernel shows it on Proxmox VE 8.4 and 9 alike: a virtio-blk disk's
 * `serial` attribute, a SCSI disk's VPD page 0x80 (a 4-byte header, then the serial). Not udev's by-id names: for
 * machine versions >= 10.0 qemu-server gives every scsi-hd `device_id=drive-scsiN` (src/PVE/QemuServer/
 * DriveDevice.pm), QEMU reports it in VPD page 0x83, and udev names the SCSI link after page 0x83 (systemd
 * rules.d/60-persistent-storage.rules, scsi_id): `scsi-0QEMU_QEMU_HARDDISK_drive-scsiN`, the serial nowhere in it.
 * LAYERBENCH_SYSFS moves /sys, for the tests' model of a guest. On failure it names every disk it saw.
 */
/**
 * The cause of a failed fio run, from its stderr in $work/err.txt: fio's error lines first (a full disk's "No space
 * left on device" comes well before fio's last words, "file hash not empty on exit"), else its last 3 lines. The
 * local runner's rule too (local/fio-process.ts, fioFailureCause).
 */
const FIO_FAILURE_CAUSE = `$({ grep -i -m 2 error "$work/err.txt" || tail -n 3 "$work/err.txt"; } | tr '\\n' ' ')`;

export const FIND_DISK_BY_SERIAL = [
  "find_disk() {",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansions, not templates (and below).
  "  sysfs=${LAYERBENCH_SYSFS:-/sys}",
  '  seen=""',
  '  for disk in "$sysfs"/block/vd* "$sysfs"/block/sd*; do',
  '    if [ -r "$disk/serial" ]; then serial=$(cat "$disk/serial")',
  '    elif [ -r "$disk/device/vpd_pg80" ]; then serial=$(tail -c +5 "$disk/device/vpd_pg80" | tr -d \'\\000 \')',
  "    else continue; fi",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion.
  '    if [ "$serial" = "$1" ]; then echo "/dev/${disk##*/}"; return 0; fi',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion.
  '    seen="$seen ${disk##*/}=$serial"',
  "  done",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion.
  '  echo "layerbench: no disk with serial $1 in this guest (disks and serials:${seen:- none})" >&2',
  "  return 1",
  "}",
];

function locateTarget(target: ScriptTarget): string[] {
  switch (target.kind) {
    case "directory":
      return [
        `${TARGET_VARIABLE}=${shellQuote(target.path)}`,
        `[ -d "$${TARGET_VARIABLE}" ] || fail "target directory $${TARGET_VARIABLE} does not exist"`,
      ];
    case "device":
      return [
        `${TARGET_VARIABLE}=${shellQuote(target.path)}`,
        `[ -b "$${TARGET_VARIABLE}" ] || fail "$${TARGET_VARIABLE} is not a block device"`,
      ];
    case "rbd": {
      const rbd = `rbd --id "$${RBD_CLIENT_VARIABLE}"`;
      const name = `"$${RBD_POOL_VARIABLE}/$${TARGET_VARIABLE}"`;
      return [
        `command -v rbd >/dev/null 2>&1 || fail "no rbd command on $(hostname): install Ceph's client tools (ceph-common)"`,
        `fio --enghelp=rbd >/dev/null 2>&1 || fail "the fio on $(hostname) has no rbd engine (a fio built without librbd)"`,
        `${TARGET_VARIABLE}=${shellQuote(target.image)}`,
        `${RBD_POOL_VARIABLE}=${shellQuote(target.pool)}`,
        `${RBD_CLIENT_VARIABLE}=${shellQuote(target.client)}`,
        `export ${RBD_POOL_VARIABLE} ${RBD_CLIENT_VARIABLE}`,
        // A killed client's watch on the image lingers until Ceph times it out (30 s by default), and rbd rm refuses
        // an image with watchers: it is asked again for up to a minute, and an image that stays is named.
        "remove_image() {",
        "  tries=0",
        `  until ${rbd} rm --no-progress ${name} >/dev/null 2>&1; do`,
        "    tries=$((tries + 1))",
        `    if [ "$tries" -ge 12 ]; then echo "layerbench: the RBD image ${target.pool}/${target.image} is still in use after a minute and stays: remove it with rbd rm ${target.pool}/${target.image}" >&2; return 1; fi`,
        "    sleep 5",
        "  done",
        "}",
        // The image is the stack's own: one left by an interrupted run is removed, never measured as it is.
        `if ${rbd} info ${name} >/dev/null 2>&1; then remove_image || fail "cannot remove the earlier run's image ${target.pool}/${target.image}"; fi`,
        `made=$(${rbd} create --size ${Math.ceil(target.bytes / 1024 ** 2)}M ${FIO_IMAGE_FEATURES.map((feature) => `--image-feature ${feature}`).join(" ")} ${name} 2>&1) || fail "cannot create the RBD image ${target.pool}/${target.image}: $(printf '%s' "$made" | tail -n 1)"`,
        MARKER_SHELL.environment("imageFeatures", rbdFeaturesShell(rbd, name)),
        "# shellcheck disable=SC2317 # called by the EXIT trap",
        "release_target() { remove_image; }",
      ];
    }
    case "serial":
      return [
        ...FIND_DISK_BY_SERIAL,
        `${TARGET_VARIABLE}=$(find_disk ${shellQuote(target.serial)}) || exit 2`,
        `[ -b "$${TARGET_VARIABLE}" ] || fail "$${TARGET_VARIABLE} (serial ${target.serial}) is not a block device"`,
      ];
  }
}

/**
 * `--precondition`: a device target is written once, sequentially, over the region the workloads use, before its
 * first measurement (a thin zvol or a fresh image reads as zeros until written). Its time is reported, not measured.
 */
function preconditionLines(profile: Profile, target: ScriptTarget, fio: string): string[] {
  if (target.kind === "rbd") return rbdFillLines(target, fio);
  if (target.kind === "directory") return target.fill ? volumeFillLines(fio) : [];
  if (!profile.precondition) return [];
  return [
    `echo "layerbench: preconditioning $${TARGET_VARIABLE}" >&2`,
    ...timedFill(
      `${fio} --name=precondition --filename="$${TARGET_VARIABLE}" --rw=write --bs=1m --ioengine=psync --direct=1 --size=${formatFioSize(largestFootprint(profile))} --output-format=json --output="$work/precondition.json"`,
    ),
  ];
}

/**
 * A volume's file system filled to its end (fio's fill_device: sequential writes until ENOSPC), then the file
 * removed: every block the workloads' files get has been written once, as a VM disk on Ceph is filled, so that no
 * measured write pays for a new object of a thin image. The file system mounts without discard (ceph-csi's
 * default), so removing the file gives nothing back to the image.
 */
function volumeFillLines(fio: string): string[] {
  const file = `"$${TARGET_VARIABLE}/layerbench-fill"`;
  return [
    `echo "layerbench: filling the volume at $${TARGET_VARIABLE} (not measured)" >&2`,
    ...timedFill(
      `${fio} --name=fill --filename=${file} --rw=write --bs=1m --ioengine=psync --direct=1 --fill_device=1 --output-format=json --output="$work/fill.json"`,
    ),
    `rm -f ${file}`,
  ];
}

/** Runs a fill, timed, and reports it with the precondition marker: its seconds, ok or the cause of its failure. */
function timedFill(command: string): string[] {
  return [
    "began=$(date +%s)",
    `if ${command} 2>"$work/err.txt"; then`,
    "  seconds=$(( $(date +%s) - began ))",
    `  ${MARKER_SHELL.precondition("ok")}`,
    "else",
    "  seconds=$(( $(date +%s) - began ))",
    `  ${MARKER_SHELL.precondition("failed", FIO_FAILURE_CAUSE)}`,
    "fi",
  ];
}

/**
 * An RBD image is always filled before it is measured: a thin image reads zeros without touching the OSDs. Then
 * which librbd cache the runs go through: none under direct=1 (fio's rbd engine sets rbd_cache=false), else the
 * client's configuration, as `rbd config image list` resolves it (its plain output: name, value, source).
 */
function rbdFillLines(target: Extract<ScriptTarget, { kind: "rbd" }>, fio: string): string[] {
  return [
    `echo "layerbench: filling $${RBD_POOL_VARIABLE}/$${TARGET_VARIABLE} (not measured)" >&2`,
    `cat > "$work/fill.fio" <<'LAYERBENCH_FILL_JOB'`,
    renderRbdFillJob(target.bytes).trimEnd(),
    "LAYERBENCH_FILL_JOB",
    ...timedFill(`${fio} --output-format=json --output="$work/fill.json" "$work/fill.fio"`),
    `cache=$(rbd --id "$${RBD_CLIENT_VARIABLE}" config image list "$${RBD_POOL_VARIABLE}/$${TARGET_VARIABLE}" 2>/dev/null | awk '$1 == "rbd_cache" { on = $2 } $1 == "rbd_cache_policy" { policy = $2 } END { print (on == "true" ? policy : "off") }')`,
    `grep -q '^direct=1' "$work/job.fio" && cache=off`,
    MARKER_SHELL.environment("rbdCache", '"$cache"'),
  ];
}

/**
 * What ran the measurement, wherever the script runs, each where a Debian system or a Proxmox VE node keeps it:
 * the kernel, the OS (os-release), the machine type QEMU gives a guest (SMBIOS product version), and on a node
 * the Proxmox VE release, its QEMU and its ZFS. What a system lacks is left out.
 */
const ENVIRONMENT_LINES = [
  MARKER_SHELL.environment("kernel", '"$(uname -r)"'),
  // os-release(5): a file shell can source; in a subshell, so that its variables stay there.
  "# shellcheck source=/dev/null",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion.
  MARKER_SHELL.environment("os", '"$(. /etc/os-release 2>/dev/null; echo "${PRETTY_NAME:-}")"'),
  MARKER_SHELL.environment("machine", '"$(cat /sys/class/dmi/id/product_version 2>/dev/null)"'),
  MARKER_SHELL.environment("pve", '"$(pveversion 2>/dev/null | head -n 1)"'),
  MARKER_SHELL.environment("qemu", '"$(kvm --version 2>/dev/null | head -n 1)"'),
  MARKER_SHELL.environment("zfs", '"$(cat /sys/module/zfs/version 2>/dev/null)"'),
];

/** The script's text. The same job text runs locally; only the target differs. */
export function renderFioScript({ profile, repeat: count, target, sudo = false }: FioScriptOptions): string {
  const repeat = repeatLines(profile.stopWhenStable, count);
  const jobTarget: FioTarget =
    target.kind === "rbd"
      ? RBD_TARGET
      : { kind: target.kind === "directory" ? "directory" : "device", path: TARGET_REFERENCE };
  const jobFile = renderJobFile(profile, jobTarget);
  // sudo resets the environment (Debian's sudoers: env_reset) but for what it is told to keep: fio expands the
  // target and the log directory in the job file itself.
  const fio = sudo ? `sudo --preserve-env=${TARGET_VARIABLE},${LOGS_VARIABLE} fio` : "fio";
  const sections = profile.workloads.map((workload) => workload.id).join(" ");
  const cleanup = target.kind === "directory" ? [`  ${sudo ? "sudo " : ""}rm -f "$${TARGET_VARIABLE}/$section".*`] : [];
  return [
    "#!/bin/sh",
    "# layerbench: runs each fio workload in turn and prints its JSON output between markers.",
    "set -u",
    `fail() { echo "layerbench: $*" >&2; exit 2; }`,
    `command -v fio >/dev/null 2>&1 || fail "fio is not installed on $(hostname)"`,
    // What the target leaves to undo (an RBD image the script made), and the script's own files, on every exit.
    "# shellcheck disable=SC2317 # called by the EXIT trap",
    "release_target() { :; }",
    'work=""',
    'trap \'release_target; [ -z "$work" ] || rm -rf "$work"\' EXIT',
    // A hang-up (the SSH session gone), Ctrl-C or kill ends the script through its EXIT trap, not around it.
    "trap 'exit 129' HUP",
    "trap 'exit 130' INT",
    "trap 'exit 143' TERM",
    TARGET_BLOCK.begin,
    ...locateTarget(target),
    TARGET_BLOCK.end,
    `export ${TARGET_VARIABLE}`,
    ...ENVIRONMENT_LINES,
    'work=$(mktemp -d) || fail "cannot create a temporary directory"',
    `cat > "$work/job.fio" <<'LAYERBENCH_JOB_FILE'`,
    jobFile.trimEnd(),
    "LAYERBENCH_JOB_FILE",
    ...preconditionLines(profile, target, fio),
    ...SERIES_SETUP,
    `for section in ${sections}; do`,
    `  attempt=1`,
    ...repeat.reset,
    `  while [ "$attempt" -le ${repeat.bound} ]; do`,
    `    started=$(date -u +%Y-%m-%dT%H:%M:%SZ)`,
    ...repeat.begin,
    ...SERIES_CLEAR,
    // On stderr, which the Command streams to Pulumi's engine log: `layerbench matrix` shows it as progress.
    `    ${MARKER_SHELL.running}`,
    // fio exits 0 when a job's process is killed ("got signal=9"): a cut run, failed like any other.
    `    if ${fio} --output-format=json --eta=never --output="$work/out.json" --section="$section" "$work/job.fio" 2>"$work/err.txt" && ! grep -q 'got signal=' "$work/err.txt"; then`,
    `      ${MARKER_SHELL.begin}`,
    `      cat "$work/out.json"`,
    `      ${MARKER_SHELL.end}`,
    ...SERIES_SEND,
    ...repeat.worked,
    "    else",
    `      ${MARKER_SHELL.failed(FIO_FAILURE_CAUSE)}`,
    ...repeat.failed,
    "    fi",
    "    attempt=$((attempt + 1))",
    "  done",
    ...cleanup,
    "done",
    "",
  ].join("\n");
}

export interface ScriptRun {
  workload: string;
  attempt: number;
  run: Run;
}

export interface ScriptFailure {
  workload: string;
  attempt: number;
  message: string;
}

export interface ScriptOutput {
  runs: ScriptRun[];
  failures: ScriptFailure[];
  /** The fill before the first measurement, when asked for. */
  precondition?: { seconds: number; ok: boolean; message: string };
  /** What ran it: kernel, OS, machine type, and on a node Proxmox VE, QEMU and ZFS. */
  environment: Record<string, string>;
}

export class ScriptOutputError extends UserError {}

/** Splits the script's stdout into parsed runs and reported failures. */
export function parseScriptOutput(stdout: string, origin: string): ScriptOutput {
  const runs: ScriptRun[] = [];
  const failures: ScriptFailure[] = [];
  let precondition: ScriptOutput["precondition"];
  const environment: Record<string, string> = {};
  const lines = stdout.split("\n");
  for (let index = 0; index < lines.length; index += 1) {
    const marker = parseMarkerLine(lines[index]);
    if (marker?.kind === "environment") environment[marker.key] = marker.value;
    else if (marker?.kind === "precondition") {
      precondition = { seconds: marker.seconds, ok: marker.ok, message: marker.message };
    } else if (marker?.kind === "series") {
      const entry = [...runs]
        .reverse()
        .find((run) => run.workload === marker.workload && run.attempt === marker.attempt);
      if (entry) entry.run.series = marker.series;
    } else if (marker?.kind === "failed") {
      failures.push({ workload: marker.workload, attempt: marker.attempt, message: marker.message });
    } else if (marker?.kind === "begin") {
      const end = lines.indexOf(END_LINE, index + 1);
      if (end < 0)
        throw new ScriptOutputError(
          `${origin}: output of ${marker.workload} #${marker.attempt} is cut short (no end marker)`,
        );
      const run = workloadRun(
        lines.slice(index + 1, end).join("\n"),
        marker.workload,
        marker.startedAt,
        `${origin}: ${marker.workload} #${marker.attempt}`,
      );
      runs.push({ workload: marker.workload, attempt: marker.attempt, run });
      index = end;
    }
  }
  return { runs, failures, environment, ...(precondition && { precondition }) };
}

/** The results document of several scripts' outputs, one variant each, in the order they ran. */
export function documentFromScriptOutputs(
  source: Source,
  profile: Profile,
  repeat: number,
  entries: Array<{ spec: VariantSpec; output: ScriptOutput }>,
): ResultsDocument {
  const starts = entries.flatMap(({ output }) => output.runs.map(({ run }) => run.startedAt)).sort();
  // The last run's start, not the time of this evaluation: the same outputs give the same document.
  const createdAt = new Date(starts.at(-1) ?? 0);
  // Nothing to save: the document is the stack's output.
  const recorder = new Recorder(newResultsDocument(source, profileInfo(profile, repeat), createdAt));
  for (const { spec: bare, output } of entries) {
    const { precondition } = output;
    const environment = { ...bare.environment, ...output.environment };
    const spec = {
      ...bare,
      ...(Object.keys(environment).length > 0 && { environment }),
      ...(precondition?.ok && { preconditionSec: precondition.seconds }),
    };
    if (precondition && !precondition.ok)
      void recorder.failure({ variant: spec.id, workload: "precondition", attempt: 1, message: precondition.message });
    for (const { workload, run } of output.runs)
      void recorder.run(
        spec,
        profile.workloads.find((candidate) => candidate.id === workload) ?? { id: workload },
        run,
      );
    for (const failure of output.failures) void recorder.failure({ variant: spec.id, ...failure });
  }
  return recorder.document;
}
