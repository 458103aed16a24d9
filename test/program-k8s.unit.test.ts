import { createHash } from "node:crypto";
import { release } from "node:os";
import { fileURLToPath } from "node:url";
import * as pulumi from "@pulumi/pulumi";
import test from "ava";
import { parse } from "yaml";
import { parseBenchConfig } from "../bench/config/stack-config.js";
import { readStackFile } from "../bench/config/stack-file.js";
import type { ResultsDocument } from "../bench/core/results.js";
import { parseScriptOutput } from "../bench/remote/fio-script.js";
import { LONGHORN_QUIET_SCRIPT } from "../bench/remote/k8s-scripts.js";
import type { VolumeKind } from "../bench/variants/k8s-variants.js";
import { backendsOf } from "../components/backends/index.js";
import { k3sNodeRole } from "../components/k3s-cluster.js";
import { claimName } from "../components/k8s-fio-run.js";
import { runPodThenReadLog } from "./helpers/k8s.js";
import {
  byName,
  outputValue,
  type RecordedResource,
  recordingMocks,
  stackConfig,
  withoutStackTraces,
} from "./helpers/pulumi-mocks.js";
import { shellcheck, shortArsOutput } from "./helpers/scripts.js";
import { StrictNode } from "./helpers/strict-node.js";
import { integrationTest } from "./helpers/tier.js";

// The homelab stack's Kubernetes layer under mocks. The VM layer's fio Commands answer with one real fio
// output; each Kubernetes measurement runs for real: the Job's container command with the ConfigMap's script
// on a local directory, then the Command that reads the Job's log, against a stand-in k3s. The first pod runs
// the real fio; the other seven the stand-in fio, which answers at once: their chain and logs are under test,
// and seven more real runs of ars took 30 s of the file's 45.

const STACK = fileURLToPath(new URL("../stacks/Pulumi.homelab.yaml", import.meta.url));
const KUBECONFIG =
  "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: Q0E=\n    server: https://127.0.0.1:6443\n  name: default\nkind: Config\n";
const NODE_ADDRESSES: Record<string, string> = {
  "k3s-node-1-address": "10.0.0.21",
  "k3s-node-2-address": "10.0.0.22",
  "k3s-node-3-address": "10.0.0.23",
};

const vmStdout = await shortArsOutput();

const podRuns: Array<{ name: string; started: number; finished: number; stdout: string; k3sCalls: string[] }> = [];
const node = new StrictNode();
const resources: RecordedResource[] = recordingMocks(async ({ type, name, inputs }) => {
  if (type === "command:remote:Command" && /^fio-k8s-.*-log$/.test(name)) {
    const job = byName(resources, name.replace(/-log$/, "-job")).inputs;
    const container = job.spec.template.spec.containers[0];
    const script = byName(resources, "k8s-fio-script").inputs.data["run.sh"];
    const started = Date.now();
    const { pod, log, k3sCalls } = await runPodThenReadLog(
      { command: container.command, env: container.env, script },
      inputs.create as string,
      podRuns.length > 0 ? { fio: "stand-in" } : {},
    );
    if (pod.code !== 0 || log.code !== 0) throw new Error(`${name}: ${pod.stderr} ${log.stderr}`);
    podRuns.push({ name, started, finished: Date.now(), stdout: log.stdout, k3sCalls });
    return { stdout: log.stdout };
  }
  if (type === "command:remote:Command" && name.startsWith("fio-")) return { stdout: vmStdout };
  if (name === "node-zfs-baseline") return { stdout: "/dev/zvol/rpool/layerbench/test/baseline-zvol\n" };
  if (name.endsWith("-address")) return { stdout: `${NODE_ADDRESSES[name] ?? "10.0.0.9"}\n` };
  if (name === "k3s-kubeconfig") return { stdout: KUBECONFIG };
  if (name === "k3s-token") return { stdout: "K10secret::server:token\n" };
  if (type === "command:remote:Command") return { stdout: "ok\n" };
  // A new Job is a new object: a new uid.
  if (type === "kubernetes:batch/v1:Job")
    return {
      metadata: {
        ...(inputs.metadata as object),
        uid: createHash("sha256").update(JSON.stringify(inputs)).digest("hex"),
      },
    };
  if (type === "proxmoxve:index/vmLegacy:VmLegacy") return { ipv4Addresses: [["127.0.0.1"], ["10.0.0.99"]] };
  return {};
}, node);
pulumi.runtime.setAllConfig(
  {
    ...(await stackConfig(STACK)),
    "layerbench:runtime": "1",
    "layerbench:size": "4m",
    "layerbench:repeat": "1",
    // The pods' real outputs are matched to the variants in the order they ran: the order given here
    // (program-homelab.unit.test.ts declares the random one).
    "layerbench:order": "given",
    "layerbench:sshPrivateKey": "-----BEGIN OPENSSH PRIVATE KEY-----\nk\n-----END OPENSSH PRIVATE KEY-----",
  },
  ["layerbench:sshPrivateKey"],
);
const { results, kubeconfig } = await withoutStackTraces(async () => {
  const program = await import("../index.js");
  return {
    results: await outputValue<ResultsDocument>(program.results),
    kubeconfig: await outputValue(program.kubeconfig!),
  };
});

const K8S_VARIANTS = [
  "local-path",
  "longhorn-r1-nolocal",
  "longhorn-r1-besteffort",
  "longhorn-r1-strict",
  "longhorn-r2-nolocal",
  "longhorn-r2-besteffort",
  "longhorn-r3-nolocal",
  "longhorn-r3-besteffort",
];
const ofType = (type: string) => resources.filter((resource) => resource.type === type);
const urn = (name: string) => byName(resources, name).urn;

test("three k3s VMs of their own, with Longhorn's node prerequisites from cloud-init, made after the VM layer's measurements", (t) => {
  const vms = ofType("proxmoxve:index/vmLegacy:VmLegacy").filter((vm) => vm.name.startsWith("k3s-"));
  t.deepEqual(
    vms.map((vm) => [vm.name, vm.inputs.vmId, vm.inputs.name, vm.inputs.disks.length, vm.inputs.disks[0].size]),
    [
      ["k3s-node-1-vm", 9200, "layerbench-k3s-1", 2, 32],
      ["k3s-node-2-vm", 9201, "layerbench-k3s-2", 2, 32],
      ["k3s-node-3-vm", 9202, "layerbench-k3s-3", 2, 32],
    ],
  );
  t.like(vms[0].inputs, { cpu: { cores: 4, type: "host" }, memory: { dedicated: 6144 } });
  // Longhorn's own disk: 7 volumes of 2 GiB (the test's 4 MiB runs), each with at most one replica per node,
  // under Longhorn's 30 % reserve and the file system's share: ceil(7 x 2 / 0.7 / 0.95) = 22 GiB.
  t.deepEqual(vms[0].inputs.disks[1], {
    interface: "virtio1",
    datastoreId: "local-zfs",
    size: 22,
    fileFormat: "raw",
    iothread: true,
    discard: "on",
    serial: "longhorn",
    backup: false,
    replicate: false,
  });
  const userData = parse(byName(resources, "k3s-node-1-user-data").inputs.sourceRaw.data);
  t.deepEqual(userData.packages, ["qemu-guest-agent", "open-iscsi", "nfs-common", "curl"]);
  t.deepEqual(userData.runcmd, [
    ["systemctl", "enable", "--now", "qemu-guest-agent"],
    ["systemctl", "enable", "--now", "iscsid"],
  ]);
  t.deepEqual(userData.fs_setup, [
    {
      label: "longhorn",
      filesystem: "ext4",
      device: "/dev/vdb",
      partition: "none",
      overwrite: false,
      // Inode tables and journal written at format time, not by ext4lazyinit during a measurement.
      extra_opts: ["-E", "lazy_itable_init=0,lazy_journal_init=0"],
    },
  ]);
  t.deepEqual(userData.mounts, [["LABEL=longhorn", "/var/lib/longhorn", "ext4", "defaults,nofail", "0", "2"]]);
  t.regex(byName(resources, "k3s-node-2-ready").inputs.create, /systemctl is-active --quiet iscsid/);
  t.regex(byName(resources, "k3s-node-2-ready").inputs.create, /mountpoint -q \/var\/lib\/longhorn/);
  // The chain's last step before them: the baseline's last pass, after the VM variants.
  const lastVmRun = resources.filter((resource) => /^fio-(vm|host)-.*-release$/.test(resource.name)).at(-1)!;
  t.is(lastVmRun.name, "fio-host-pass-3-release");
  t.true(
    vms.every((vm) => vm.dependencies.includes(lastVmRun.urn)),
    "no k3s node boots while the VM layer measures",
  );
  t.is(byName(resources, "k3s-node-1-vm").inputs.initialization.userDataFileId, "k3s-node-1-user-data-id");
  t.is(
    byName(resources, "k3s-node-1-vm").inputs.disks[0].importFrom,
    "guest-image-id",
    "the one cloud image of the stack",
  );
});

test("k3s: the pinned server, agents joining it with the token on stdin, the token and kubeconfig kept secret", (t) => {
  const server = byName(resources, "k3s-server");
  t.regex(
    server.inputs.create,
    /sudo INSTALL_K3S_VERSION='v1\.33\.3\+k3s1' sh "\$installer" server --node-ip '10\.0\.0\.21' --tls-san '10\.0\.0\.21' --disable traefik/,
  );
  t.is(server.inputs.connection.host, "10.0.0.21");
  t.is(server.inputs.connection.proxy.host, "pve.example.lan", "reached through the node");
  const token = byName(resources, "k3s-token");
  t.true(token.additionalSecretOutputs.includes("stdout"), "the token is a secret in the state");
  t.is(token.inputs.logging, "none");
  t.true(token.dependencies.includes(server.urn));
  for (const [index, address] of [
    [2, "10.0.0.22"],
    [3, "10.0.0.23"],
  ] as const) {
    const agent = byName(resources, `k3s-agent-${index}`);
    t.is(agent.inputs.stdin, "K10secret::server:token\n");
    t.true(agent.secretInputs.includes("stdin"), "the token goes as a secret");
    t.false(agent.inputs.create.includes("K10secret"), "and never in the script");
    t.regex(
      agent.inputs.create,
      new RegExp(
        `K3S_URL='https://10\\.0\\.0\\.21:6443' K3S_TOKEN_FILE=/etc/rancher/k3s/agent-token INSTALL_K3S_VERSION='v1\\.33\\.3\\+k3s1' sh "\\$installer" agent --node-ip '${address.replace(/\./g, "\\.")}'`,
      ),
    );
    t.is(agent.inputs.connection.host, address);
    t.true(agent.dependencies.includes(urn(`k3s-node-${index}-ready`)));
  }
  const ready = byName(resources, "k3s-ready");
  t.regex(ready.inputs.create, /\[ "\$ready" -ge 3 \] && break/);
  t.true(["k3s-server", "k3s-agent-2", "k3s-agent-3"].every((name) => ready.dependencies.includes(urn(name))));
  t.true(byName(resources, "k3s-kubeconfig").additionalSecretOutputs.includes("stdout"));
  t.is(byName(resources, "k3s-kubeconfig").inputs.logging, "none");
  t.regex(kubeconfig, /server: https:\/\/10\.0\.0\.21:6443/);
  t.notRegex(kubeconfig, /127\.0\.0\.1/);
  const provider = byName(resources, "k3s-provider");
  t.is(provider.type, "pulumi:providers:kubernetes");
  t.is(provider.inputs.kubeconfig, kubeconfig);
  t.true(provider.secretInputs.includes("kubeconfig"));
  t.true(provider.dependencies.includes(ready.urn));
});

test("Longhorn: a Helm release of the pinned chart with the values it needs, one StorageClass per Longhorn variant", (t) => {
  const release = byName(resources, "longhorn-release");
  t.is(release.type, "kubernetes:helm.sh/v3:Release");
  t.like(release.inputs, {
    chart: "longhorn",
    version: "1.9.2",
    repositoryOpts: { repo: "https://charts.longhorn.io" },
    namespace: "longhorn-system",
    createNamespace: true,
  });
  t.deepEqual(release.inputs.values, {
    defaultSettings: { deletingConfirmationFlag: true },
    persistence: { defaultClass: false },
    preUpgradeChecker: { jobEnabled: false },
  });
  const classes = ofType("kubernetes:storage.k8s.io/v1:StorageClass");
  t.deepEqual(
    classes.map((storageClass) => [
      storageClass.inputs.metadata.name,
      storageClass.inputs.parameters.numberOfReplicas,
      storageClass.inputs.parameters.dataLocality,
    ]),
    [
      ["lb-longhorn-r1-nolocal", "1", "disabled"],
      ["lb-longhorn-r1-besteffort", "1", "best-effort"],
      ["lb-longhorn-r1-strict", "1", "strict-local"],
      ["lb-longhorn-r2-nolocal", "2", "disabled"],
      ["lb-longhorn-r2-besteffort", "2", "best-effort"],
      ["lb-longhorn-r3-nolocal", "3", "disabled"],
      ["lb-longhorn-r3-besteffort", "3", "best-effort"],
    ],
  );
  t.true(
    classes.every(
      (storageClass) =>
        storageClass.inputs.provisioner === "driver.longhorn.io" && storageClass.inputs.reclaimPolicy === "Delete",
    ),
  );
  t.true(
    classes.every((storageClass) =>
      Object.values(storageClass.inputs.parameters).every((value) => typeof value === "string"),
    ),
    "parameters are strings",
  );
});

test("one PVC and one Job per variant, on the variant's StorageClass, the pod pinned to one node and running the shared script", (t) => {
  const claims = ofType("kubernetes:core/v1:PersistentVolumeClaim");
  const jobs = ofType("kubernetes:batch/v1:Job");
  t.deepEqual(
    claims.map((claim) => claim.inputs.metadata.name),
    K8S_VARIANTS.map((id) => claimName(id, "1")),
  );
  t.is(claimName("local-path", "1"), "fio-local-path-6b86b273", "the run id as 8 hex digits of its sha256");
  t.true(
    claims.every(
      (claim) => claim.deleteBeforeReplace && claim.inputs.metadata.annotations["layerbench/run-id"] === "1",
    ),
  );
  t.deepEqual(
    jobs.map((job) => job.inputs.metadata.name),
    K8S_VARIANTS.map((id) => `fio-${id}`),
  );
  t.deepEqual(
    claims.map((claim) => claim.inputs.spec.storageClassName),
    ["local-path", ...K8S_VARIANTS.slice(1).map((id) => `lb-${id}`)],
  );
  t.true(
    claims.every(
      (claim) =>
        claim.inputs.spec.resources.requests.storage === "2Gi" && claim.inputs.metadata.namespace === "layerbench",
    ),
  );
  const pod = jobs[1].inputs.spec.template;
  t.like(jobs[1].inputs.spec, { backoffLimit: 0 });
  t.deepEqual(pod.spec.nodeSelector, { "kubernetes.io/hostname": "layerbench-k3s-1" });
  t.is(pod.spec.restartPolicy, "Never");
  t.is(pod.metadata.annotations["layerbench/run-id"], "1");
  t.like(pod.spec.containers[0], {
    image: "debian:trixie-slim",
    command: ["sh", "-c", pod.spec.containers[0].command[2]],
  });
  t.deepEqual(pod.spec.volumes, [
    { name: "data", persistentVolumeClaim: { claimName: "fio-longhorn-r1-nolocal-6b86b273" } },
    { name: "script", configMap: { name: "layerbench-fio" } },
  ]);
  t.deepEqual(pod.spec.containers[0].volumeMounts, [
    { name: "data", mountPath: "/data" },
    { name: "script", mountPath: "/layerbench", readOnly: true },
  ]);
  t.true(
    jobs.every((job) => job.deleteBeforeReplace),
    "a Job of the same name is replaced by deleting it first",
  );
  const script = byName(resources, "k8s-fio-script").inputs;
  t.is(script.metadata.namespace, "layerbench");
  t.regex(script.data["run.sh"], /LAYERBENCH_TARGET="\/data"/);
});

test("the pods run after the VM layer and a ready Longhorn, one after the other, each after the log of the one before and a quiet Longhorn", (t) => {
  const lastVmRun = byName(resources, "fio-host-pass-3-release");
  const first = byName(resources, "fio-k8s-local-path-job");
  t.true(first.dependencies.includes(lastVmRun.urn));
  const ready = byName(resources, "longhorn-ready");
  t.true(ready.dependencies.includes(urn("longhorn-release")));
  t.regex(ready.inputs.create, /rollout status -n longhorn-system "\$workload"/);
  t.regex(ready.inputs.create, /-ge 3 \]/, "every node's Longhorn disk ready and schedulable");
  t.true(first.dependencies.includes(ready.urn), "even local-path waits until Longhorn has started on every node");
  for (const id of K8S_VARIANTS) {
    const quiet = byName(resources, `fio-k8s-${id}-quiet`);
    t.true(
      quiet.dependencies.includes(urn(`fio-k8s-${id}-pvc`)),
      `${id}: its volume exists before Longhorn is watched`,
    );
    t.true(
      byName(resources, `fio-k8s-${id}-job`).dependencies.includes(quiet.urn),
      `${id}: no rebuild when fio starts`,
    );
    t.is(quiet.inputs.create, LONGHORN_QUIET_SCRIPT);
  }
  K8S_VARIANTS.slice(1).forEach((id, index) => {
    const job = byName(resources, `fio-k8s-${id}-job`);
    t.true(
      job.dependencies.includes(urn(`fio-k8s-${K8S_VARIANTS[index]}-log`)),
      `${id} waits for the previous measurement`,
    );
    t.true(job.dependencies.includes(urn(`fio-k8s-${id}-pvc`)));
    t.true(job.dependencies.includes(urn(`longhorn-sc-${id}`)));
  });
  t.deepEqual(
    podRuns.map((run) => run.name),
    K8S_VARIANTS.map((id) => `fio-k8s-${id}-log`),
  );
  for (let index = 1; index < podRuns.length; index += 1)
    t.true(podRuns[index].started >= podRuns[index - 1].finished, "no overlap");
  const log = byName(resources, "fio-k8s-longhorn-r2-nolocal-log");
  t.is(log.inputs.triggers.length, 1);
  t.regex(log.inputs.triggers[0], /^[0-9a-f]{64}$/, "the Job's uid");
});

test("destroy order: pods and claims, then StorageClasses, then a wait for Longhorn's volumes, then Longhorn; the VMs last", (t) => {
  const volumesGone = byName(resources, "longhorn-volumes-gone");
  t.regex(volumesGone.inputs.delete, /get volumes\.longhorn\.io -n longhorn-system/);
  t.true(volumesGone.dependencies.includes(urn("longhorn-release")));
  t.true(byName(resources, "longhorn-sc-longhorn-r3-besteffort").dependencies.includes(volumesGone.urn));
  t.true(
    byName(resources, "fio-k8s-longhorn-r3-besteffort-pvc").dependencies.includes(
      urn("longhorn-sc-longhorn-r3-besteffort"),
    ),
  );
  t.true(
    byName(resources, "fio-k8s-longhorn-r3-besteffort-job").dependencies.includes(
      urn("fio-k8s-longhorn-r3-besteffort-pvc"),
    ),
  );
  t.true(
    byName(resources, "k3s-ready").dependencies.includes(urn("k3s-agent-3")),
    "the cluster depends on its VMs through the install Commands",
  );
  t.true(byName(resources, "k3s-agent-3").dependencies.includes(urn("k3s-node-3-ready")));
  t.true(byName(resources, "k3s-node-3-ready").dependencies.includes(urn("k3s-node-3-vm")));
});

test("results: the Kubernetes variants after the host and VM ones, with the numbers of the logs read", (t) => {
  const k8s = results.variants.filter((variant) => variant.layer === "k8s");
  t.deepEqual(
    k8s.map((variant) => variant.id),
    K8S_VARIANTS.map((id) => `k8s-${id}`),
  );
  t.deepEqual(k8s[0].options, { kind: "local-path", storageClass: "local-path" });
  t.deepEqual(k8s[5].options, {
    kind: "longhorn",
    storageClass: "lb-longhorn-r2-besteffort",
    replicas: 2,
    dataLocality: "best-effort",
    replicaPlacement: "one per k3s node (Longhorn's anti-affinity); k3s VMs on pve",
  });
  t.true(
    results.variants.every((variant) => variant.proxmoxNode === "pve"),
    "every variant names its Proxmox node",
  );
  t.is(results.variants.length, 1 + 48 + 8);
  t.true(results.variants[0].baseline);
  // What ran them: the pinned k3s and Longhorn, and what the pod's script found (its kernel, run for real here).
  t.like(k8s[5].environment, {
    image: "debian:trixie-slim",
    k3s: "v1.33.3+k3s1",
    longhorn: "1.9.2",
    kernel: release(),
  });
  t.like(results.variants[1].environment, {
    image: "https://cloud.debian.org/images/cloud/trixie/latest/debian-13-genericcloud-amd64.qcow2",
    kernel: release(),
  });
  t.is(k8s[0].environment?.longhorn, undefined, "local-path runs without Longhorn");
  for (const [index, variant] of k8s.entries()) {
    const expected = parseScriptOutput(podRuns[index].stdout, "expected").runs.map((entry) => entry.run);
    t.is(expected.length, 3);
    t.deepEqual(
      variant.workloads.flatMap((workload) => workload.runs),
      expected,
      `${variant.id}: fio's own numbers, through the log`,
    );
  }
  t.deepEqual(podRuns[0].k3sCalls, [
    "kubectl wait -n layerbench job/fio-local-path --for=condition=complete --timeout=60s",
    "kubectl logs -n layerbench job/fio-local-path",
  ]);
  t.false(JSON.stringify(results).includes("K10secret"));
  t.false(JSON.stringify(results).includes("certificate-authority-data"));
});

test("a Job that did not complete: the log Command fails with the Job's description and the end of its log", async (t) => {
  const job = byName(resources, "fio-k8s-local-path-job").inputs;
  const container = job.spec.template.spec.containers[0];
  const { log } = await runPodThenReadLog(
    {
      command: container.command,
      env: container.env,
      script: byName(resources, "k8s-fio-script").inputs.data["run.sh"],
    },
    byName(resources, "fio-k8s-local-path-log").inputs.create,
    { jobCompletes: false },
  );
  t.is(log.code, 1);
  t.regex(log.stderr, /^layerbench: job layerbench\/fio-local-path did not complete:$/m);
  t.regex(log.stderr, /Pods Statuses: 0 Active \/ 0 Succeeded \/ 1 Failed/);
  t.is(log.stdout, "");
});

integrationTest("every script of the Kubernetes layer passes shellcheck, the pod's entry point included", async (t) => {
  const scripts = resources
    .filter(
      (resource) => resource.type === "command:remote:Command" && /^(k3s-|fio-k8s-|longhorn-)/.test(resource.name),
    )
    .flatMap((resource) =>
      [resource.inputs.create, resource.inputs.delete]
        .filter((text): text is string => typeof text === "string" && text !== "true")
        .map((text) => [resource.name, text] as const),
    );
  const entrypoint = byName(resources, "fio-k8s-local-path-job").inputs.spec.template.spec.containers[0].command[2];
  for (const [name, text] of [...scripts, ["pod entry point", entrypoint] as const])
    t.is(await shellcheck(text), "", name);
  t.true(scripts.length >= 8 + 6);
});

test("a k3s node gets what its variants' storage backends need: no iSCSI, NFS or Longhorn disk without Longhorn", async (t) => {
  const homelab = parseBenchConfig((await readStackFile(fileURLToPath(new URL("..", import.meta.url)), "homelab")).raw);
  const settings = homelab.k8s;
  if (!settings) return t.fail("the homelab stack has a Kubernetes layer");
  const roleFor = (kinds: VolumeKind[]) =>
    k3sNodeRole(
      backendsOf(settings.variants.filter((variant) => kinds.includes(variant.kind))).map((backend) =>
        backend.nodeNeeds(settings),
      ),
    );
  const localPath = roleFor(["local-path"]);
  t.deepEqual(localPath.packages, ["qemu-guest-agent", "curl"]);
  t.deepEqual(localPath.services, ["qemu-guest-agent"]);
  t.deepEqual(localPath.checks, []);
  t.is(localPath.cloudConfig, undefined, "no disk of Longhorn's to format");
  const both = roleFor(["local-path", "longhorn"]);
  t.deepEqual(both.packages, ["qemu-guest-agent", "open-iscsi", "nfs-common", "curl"]);
  t.deepEqual(both.services, ["qemu-guest-agent", "iscsid"]);
  t.true(both.checks.some((check) => check.includes("mountpoint -q /var/lib/longhorn")));
});
