// The shell the Kubernetes layer runs: k3s installed on the guests by remote Commands, the fio pod's entry
// point, and the Command that reads a finished Job's log. POSIX sh, checked by shellcheck in the tests.

/** A single-quoted shell word. */
export function shellWord(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

const K3S_INSTALLER = "https://get.k3s.io";

/**
 * Downloads k3s's install.sh to a file and checks it before running it: `curl | sh` without pipefail runs an empty
 * or cut script and exits 0 when the download fails, and the node would be recorded as installed with no k3s.
 */
function runK3sInstaller(environment: string, args: string): string[] {
  return [
    '  installer=$(mktemp) || { echo "layerbench: cannot create a temporary file" >&2; exit 1; }',
    // Gone however the script ends: a failed download or check exits before the rm below.
    "  trap 'rm -f \"$installer\"' EXIT",
    `  curl -sfL --retry 3 -o "$installer" ${K3S_INSTALLER} || { echo "layerbench: could not download the k3s installer from ${K3S_INSTALLER} (does the guest reach the internet?)" >&2; exit 1; }`,
    `  head -n 1 "$installer" | grep -q '^#!/bin/sh' || { echo "layerbench: ${K3S_INSTALLER} did not return the k3s install script" >&2; exit 1; }`,
    `  sudo ${environment} sh "$installer" ${args} || { echo "layerbench: the k3s installer failed: see journalctl -u k3s*" >&2; exit 1; }`,
    '  rm -f "$installer"',
    '  command -v k3s >/dev/null 2>&1 || { echo "layerbench: the k3s installer finished but there is no k3s command" >&2; exit 1; }',
  ];
}

/** Installs the k3s server (once) and waits until it reports its node Ready. */
export function k3sServerScript({ version, nodeIp }: { version: string; nodeIp: string }): string {
  return [
    "set -eu",
    "if ! command -v k3s >/dev/null 2>&1; then",
    // --tls-san: the kubeconfig names this address, not 127.0.0.1. Traefik is not needed to benchmark volumes.
    ...runK3sInstaller(
      `INSTALL_K3S_VERSION=${shellWord(version)}`,
      `server --node-ip ${shellWord(nodeIp)} --tls-san ${shellWord(nodeIp)} --disable traefik --write-kubeconfig-mode 0600`,
    ),
    "fi",
    "tries=0",
    "until sudo k3s kubectl get nodes --no-headers 2>/dev/null | awk '$2 == \"Ready\"' | grep -q .; do",
    "  tries=$((tries + 1))",
    '  if [ "$tries" -ge 60 ]; then echo "layerbench: the k3s server did not become Ready in 5 minutes: see journalctl -u k3s" >&2; exit 1; fi',
    "  sleep 5",
    "done",
    "sudo k3s --version | head -n 1",
    "",
  ].join("\n");
}

/** Prints the token agents join with (the Command's stdout is a secret). */
export const K3S_TOKEN_SCRIPT = "set -eu\nsudo cat /var/lib/rancher/k3s/server/node-token\n";

/** Prints the server's kubeconfig (a secret); its server address is 127.0.0.1 until kubeconfigFor fixes it. */
export const K3S_KUBECONFIG_SCRIPT = "set -eu\nsudo cat /etc/rancher/k3s/k3s.yaml\n";

/** Joins an agent (once). The token comes on stdin, so it is in no command line and no log. */
export function k3sAgentScript({
  version,
  serverIp,
  nodeIp,
}: {
  version: string;
  serverIp: string;
  nodeIp: string;
}): string {
  return [
    "set -eu",
    "token=$(cat)",
    '[ -n "$token" ] || { echo "layerbench: no k3s join token on stdin" >&2; exit 1; }',
    "if ! command -v k3s >/dev/null 2>&1; then",
    "  printf '%s\\n' \"$token\" | sudo install -D -m 600 /dev/stdin /etc/rancher/k3s/agent-token",
    ...runK3sInstaller(
      `K3S_URL=${shellWord(`https://${serverIp}:6443`)} K3S_TOKEN_FILE=/etc/rancher/k3s/agent-token INSTALL_K3S_VERSION=${shellWord(version)}`,
      `agent --node-ip ${shellWord(nodeIp)}`,
    ),
    "fi",
    "",
  ].join("\n");
}

/** On the server: waits until all nodes have joined and are Ready. */
export function clusterReadyScript(nodeCount: number): string {
  return [
    "set -u",
    "tries=0",
    "while :; do",
    "  ready=$(sudo k3s kubectl get nodes --no-headers 2>/dev/null | awk '$2 == \"Ready\"' | wc -l)",
    `  [ "$ready" -ge ${nodeCount} ] && break`,
    "  tries=$((tries + 1))",
    `  if [ "$tries" -ge 120 ]; then echo "layerbench: only $ready of ${nodeCount} k3s nodes are Ready after 10 minutes" >&2; sudo k3s kubectl get nodes >&2; exit 1; fi`,
    "  sleep 5",
    "done",
    "sudo k3s kubectl get nodes -o wide",
    "",
  ].join("\n");
}

/** The kubeconfig k3s writes, pointed at the server's address instead of 127.0.0.1. */
export function kubeconfigFor(kubeconfig: string, serverIp: string): string {
  if (!kubeconfig.includes("https://127.0.0.1:6443"))
    throw new Error(
      "the k3s kubeconfig does not name https://127.0.0.1:6443 as its server: is it k3s's /etc/rancher/k3s/k3s.yaml?",
    );
  return kubeconfig.replaceAll("https://127.0.0.1:6443", `https://${serverIp}:6443`);
}

/** Where the pod finds the fio script (the ConfigMap's mount) and the volume under test. */
export const POD_SCRIPT_VARIABLE = "LAYERBENCH_SCRIPT";
/** The ConfigMap's mount point, and the keys (file names) the fio scripts have in it: as is, and filling first. */
export const POD_SCRIPT_DIR = "/layerbench";
export const POD_SCRIPT_FILE = "run.sh";
export const POD_FILLING_SCRIPT_FILE = "fill-and-run.sh";
export const POD_VOLUME_PATH = "/data";

/**
 * The fio container's command: fio from Debian when the image lacks it (the same fio 3.33 as on the host and
 * in the VM), then the fio script. Everything but the script's markers and fio's JSON goes to stderr.
 */
export const POD_ENTRYPOINT = [
  "set -eu",
  "if ! command -v fio >/dev/null 2>&1; then",
  '  echo "layerbench: installing fio in the pod" >&2',
  "  apt-get update -qq >&2",
  "  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends fio >&2",
  "fi",
  `exec sh "$${POD_SCRIPT_VARIABLE}"`,
  "",
].join("\n");

/**
 * On the server, once Pulumi has seen the Job complete: prints the pod's log (the fio script's output).
 * A Job that did not complete is an error with its description and the end of its log.
 */
export function jobLogScript({ namespace, job }: { namespace: string; job: string }): string {
  const where = `-n ${shellWord(namespace)} job/${job}`;
  return [
    "set -u",
    `if ! sudo k3s kubectl wait ${where} --for=condition=complete --timeout=60s >/dev/null 2>&1; then`,
    `  echo "layerbench: job ${namespace}/${job} did not complete:" >&2`,
    `  sudo k3s kubectl describe ${where} 2>&1 | tail -n 15 >&2`,
    `  sudo k3s kubectl logs ${where} --tail=20 >&2 2>&1`,
    "  exit 1",
    "fi",
    `exec sudo k3s kubectl logs ${where}`,
    "",
  ].join("\n");
}

/**
 * Run on destroy, after the PVCs and before Longhorn: PV deletion is asynchronous, and Longhorn's uninstall
 * refuses to go while volumes remain.
 */
export const LONGHORN_VOLUMES_GONE_SCRIPT = [
  "set -u",
  "tries=0",
  'while [ -n "$(sudo k3s kubectl get volumes.longhorn.io -n longhorn-system --no-headers 2>/dev/null)" ]; do',
  "  tries=$((tries + 1))",
  '  if [ "$tries" -ge 60 ]; then echo "layerbench: Longhorn volumes are still there after 5 minutes:" >&2; sudo k3s kubectl get volumes.longhorn.io -n longhorn-system >&2; exit 1; fi',
  "  sleep 5",
  "done",
  "",
].join("\n");

/**
 * On the server, after the Helm release: waits until Longhorn can provision and attach volumes (its manager on
 * every node, the CSI driver deployed) and every node's Longhorn disk is ready and schedulable, so that no image
 * pull or Longhorn start-up runs while a volume is measured.
 */
export function longhornReadyScript(nodeCount: number): string {
  const ns = "-n longhorn-system";
  // A disk's readiness is its own (longhorn-manager k8s/pkg/apis/longhorn/v1beta2/node.go: status.diskStatus, a
  // map of disks, each with Ready and Schedulable conditions; controller/node_controller.go sets them), not the node's.
  const disksReady = `sudo k3s kubectl get nodes.longhorn.io ${ns} -o jsonpath='{range .items[*].status.diskStatus.*}{.conditions[?(@.type=="Ready")].status}{" "}{.conditions[?(@.type=="Schedulable")].status}{"\\n"}{end}' 2>/dev/null | grep -c '^True True$'`;
  return [
    "set -u",
    "tries=0",
    "wait_a_bit() {",
    "  tries=$((tries + 1))",
    `  if [ "$tries" -ge 180 ]; then echo "layerbench: Longhorn is not ready after 15 minutes ($1):" >&2; sudo k3s kubectl get pods ${ns} >&2; exit 1; fi`,
    "  sleep 5",
    "}",
    // The CSI workloads exist only once the driver deployer has made them: wait for them to exist, then to roll out.
    "for workload in daemonset/longhorn-manager daemonset/longhorn-csi-plugin deployment/csi-provisioner deployment/csi-attacher; do",
    `  until sudo k3s kubectl rollout status ${ns} "$workload" --timeout=10s >/dev/null 2>&1; do wait_a_bit "$workload not rolled out"; done`,
    "done",
    `until [ "$(${disksReady})" -ge ${nodeCount} ]; do wait_a_bit "fewer than ${nodeCount} Longhorn disks ready and schedulable"; done`,
    `sudo k3s kubectl get nodes.longhorn.io ${ns}`,
    "",
  ].join("\n");
}

/**
 * On the server, before a measurement: waits while any Longhorn volume is attaching, detaching, or attached and
 * not healthy (a replica rebuilding), so that no rebuild shares the disks with fio.
 */
export const LONGHORN_QUIET_SCRIPT = [
  "set -u",
  "tries=0",
  "while :; do",
  `  if volumes=$(sudo k3s kubectl get volumes.longhorn.io -n longhorn-system -o jsonpath='{range .items[*]}{.metadata.name}{" "}{.status.state}{" "}{.status.robustness}{"\\n"}{end}'); then`,
  `    busy=$(printf '%s\\n' "$volumes" | awk 'NF > 0 && $2 != "detached" && !($2 == "attached" && $3 == "healthy")')`,
  // An API server that does not answer is no proof of quiet.
  '  else busy="kubectl could not list Longhorn\'s volumes"; fi',
  '  [ -z "$busy" ] && break',
  "  tries=$((tries + 1))",
  '  if [ "$tries" -ge 360 ]; then echo "layerbench: Longhorn volumes still busy after 30 minutes:" >&2; echo "$busy" >&2; exit 1; fi',
  "  sleep 5",
  "done",
  "",
].join("\n");

/** The namespace and Helm release of ceph-csi-rbd: the chart names its workloads "<release>-nodeplugin" and "-provisioner". */
export const CEPH_CSI_NAMESPACE = "ceph-csi-rbd";
export const CEPH_CSI_RELEASE = "ceph-csi-rbd";

/** On the server: waits until ceph-csi's node plugin runs on every node and its provisioner is up (15 minutes at most). */
export function cephCsiReadyScript(): string {
  return rolloutReadyScript("ceph-csi", CEPH_CSI_NAMESPACE, [
    `daemonset/${CEPH_CSI_RELEASE}-nodeplugin`,
    `deployment/${CEPH_CSI_RELEASE}-provisioner`,
  ]);
}

/**
 * Waits up to 15 minutes for a chart's workloads ("daemonset/NAME", "deployment/NAME") to roll out in its
 * namespace: Helm's release is done before their pods have pulled images and started. Names what did not.
 */
export function rolloutReadyScript(what: string, namespace: string, workloads: string[]): string {
  const ns = `-n '${namespace}'`;
  return [
    "set -u",
    "tries=0",
    `for workload in ${workloads.map((workload) => `'${workload}'`).join(" ")}; do`,
    `  until sudo k3s kubectl rollout status ${ns} "$workload" --timeout=10s >/dev/null 2>&1; do`,
    "    tries=$((tries + 1))",
    `    if [ "$tries" -ge 90 ]; then echo "layerbench: ${what} is not ready after 15 minutes ($workload not rolled out):" >&2; sudo k3s kubectl get pods ${ns} >&2; exit 1; fi`,
    "  done",
    "done",
    "",
  ].join("\n");
}

/** Fails, naming the class and the classes there are, when the cluster has no StorageClass of that name. */
export function storageClassExistsScript(name: string): string {
  return [
    `sudo k3s kubectl get storageclass '${name}' >/dev/null 2>&1 || { echo "layerbench: the cluster has no StorageClass ${name}; it has: $(sudo k3s kubectl get storageclass -o name 2>/dev/null | sed 's|.*/||' | tr '\\n' ' ')" >&2; exit 1; }`,
    "",
  ].join("\n");
}
