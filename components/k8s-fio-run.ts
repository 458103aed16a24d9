import { createHash } from "node:crypto";
import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { parseScriptOutput, type ScriptOutput } from "../bench/remote/fio-script.js";
import {
  jobLogScript,
  POD_ENTRYPOINT,
  POD_SCRIPT_DIR,
  POD_SCRIPT_VARIABLE,
  POD_VOLUME_PATH,
} from "../bench/remote/k8s-scripts.js";
import { type K8sVariant, storageClassName } from "../bench/variants/k8s-variants.js";

export interface K8sFioRunArgs {
  variant: K8sVariant;
  namespace: string;
  /** The ConfigMap holding the fio scripts, and the one this pod runs. */
  scriptConfigMap: pulumi.Input<string>;
  scriptFile: string;
  image: string;
  volumeSizeGb: number;
  /** Every fio pod runs on this node, so that variants differ only by their volume. */
  nodeName: string;
  runId: string;
  timeoutMinutes: number;
  provider: k8s.Provider;
  serverConnection: pulumi.Input<command.types.input.remote.ConnectionArgs>;
  /** Run on the server before fio starts, by the backends installed (Longhorn: until no volume is rebuilding). */
  waitBefore: string[];
  /** The volume's StorageClass (none for local-path) and the measurement before this one. */
  after: pulumi.Resource[];
}

/** The claim of one variant and run id: the run id as a short hash, any text it is being a valid name. */
export function claimName(variantId: string, runId: string): string {
  return `fio-${variantId}-${createHash("sha256").update(runId).digest("hex").slice(0, 8)}`;
}

/** The Job's spec: one pod on the bench node, fio's script from the ConfigMap, the claim's volume at POD_VOLUME_PATH. */
function fioJobSpec(
  args: K8sFioRunArgs,
  labels: Record<string, string>,
  claimName: pulumi.Input<string>,
): k8s.types.input.batch.v1.JobSpec {
  return {
    backoffLimit: 0,
    activeDeadlineSeconds: args.timeoutMinutes * 60,
    template: {
      // The run id in the pod template: a new run id replaces the Job, which runs fio again.
      metadata: { labels, annotations: { "layerbench/run-id": args.runId } },
      spec: {
        restartPolicy: "Never",
        nodeSelector: { "kubernetes.io/hostname": args.nodeName },
        containers: [
          {
            name: "fio",
            image: args.image,
            command: ["sh", "-c", POD_ENTRYPOINT],
            env: [{ name: POD_SCRIPT_VARIABLE, value: `${POD_SCRIPT_DIR}/${args.scriptFile}` }],
            volumeMounts: [
              { name: "data", mountPath: POD_VOLUME_PATH },
              { name: "script", mountPath: POD_SCRIPT_DIR, readOnly: true },
            ],
          },
        ],
        volumes: [
          { name: "data", persistentVolumeClaim: { claimName } },
          { name: "script", configMap: { name: args.scriptConfigMap } },
        ],
      },
    },
  };
}

/** fio in a pod on a volume of the variant's StorageClass: a PVC, a Job, and a Command that reads the Job's log. */
export class K8sFioRun extends pulumi.ComponentResource {
  readonly claim: k8s.core.v1.PersistentVolumeClaim;
  readonly job: k8s.batch.v1.Job;
  /** The last step of this run: the next measurement waits for it. */
  readonly log: command.remote.Command;
  readonly output: pulumi.Output<ScriptOutput>;

  constructor(name: string, args: K8sFioRunArgs, opts?: pulumi.ComponentResourceOptions) {
    super("layerbench:k8s:K8sFioRun", name, {}, opts);
    const objectName = `fio-${args.variant.id}`;
    const labels = { "app.kubernetes.io/name": "layerbench-fio", "layerbench/variant": args.variant.id };
    this.claim = new k8s.core.v1.PersistentVolumeClaim(
      `${name}-pvc`,
      {
        // A new volume per run id, as the host's and VMs' zvols are discarded: every run starts from an empty
        // volume, not from replicas a previous run allocated. The name changes with it, so Pulumi replaces it.
        // skipAwait: a local-path claim binds only when its pod is scheduled, which is the Job's doing.
        metadata: {
          name: claimName(args.variant.id, args.runId),
          namespace: args.namespace,
          labels,
          annotations: { "pulumi.com/skipAwait": "true", "layerbench/run-id": args.runId },
        },
        spec: {
          accessModes: ["ReadWriteOnce"],
          storageClassName: storageClassName(args.variant),
          resources: { requests: { storage: `${args.volumeSizeGb}Gi` } },
        },
      },
      // The old run's volume goes first: two of each would need twice Longhorn's space.
      { parent: this, provider: args.provider, dependsOn: args.after, deleteBeforeReplace: true },
    );
    // Re-run with the run id, as the Job is.
    const quiet =
      args.waitBefore.length > 0
        ? [
            new command.remote.Command(
              `${name}-quiet`,
              { connection: args.serverConnection, create: args.waitBefore.join("\n"), triggers: [args.runId] },
              { parent: this, dependsOn: [this.claim, ...args.after], customTimeouts: { create: "35m" } },
            ),
          ]
        : [];
    this.job = new k8s.batch.v1.Job(
      `${name}-job`,
      {
        metadata: { name: objectName, namespace: args.namespace, labels },
        spec: fioJobSpec(args, labels, this.claim.metadata.name),
      },
      {
        parent: this,
        provider: args.provider,
        dependsOn: [this.claim, ...quiet, ...args.after],
        // The Job's name is fixed: the old one goes before the new one is made.
        deleteBeforeReplace: true,
        customTimeouts: { create: `${args.timeoutMinutes}m` },
      },
    );
    this.log = new command.remote.Command(
      `${name}-log`,
      {
        connection: args.serverConnection,
        create: jobLogScript({ namespace: args.namespace, job: objectName }),
        // A new Job (new run id) is a new uid: read its log again.
        triggers: [this.job.metadata.uid],
        logging: "stderr",
      },
      { parent: this, dependsOn: [this.job] },
    );
    this.output = this.log.stdout.apply((stdout) => parseScriptOutput(stdout, name));
    this.registerOutputs({ stdout: this.log.stdout });
  }
}
