import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { parseScriptOutput, type ScriptOutput } from "../bench/remote/fio-script.js";
import { environmentMarkers } from "../bench/remote/markers.js";

export interface FioRunArgs {
  connection: pulumi.Input<command.types.input.remote.ConnectionArgs>;
  /** The script of bench/fio-script.ts for this target. */
  script: pulumi.Input<string>;
  /** Bumping it re-runs the benchmark without re-provisioning anything. */
  runId: string;
  /** Upper bound for the whole script, from the workloads' runtimes. */
  timeoutMinutes: number;
  /** What must finish first: the target's set-up and the previous measurement. On the Command itself, because a
   * component's own dependsOn does not hold back the resources inside it. */
  after: pulumi.Resource[];
  /**
   * Run on the node once fio is done: gives what the runs wrote back to the pool (bench/node-scripts.ts); `destroy`,
   * on `pulumi destroy`: removes what an interrupted run may have left.
   */
  release: {
    connection: pulumi.Input<command.types.input.remote.ConnectionArgs>;
    script: pulumi.Input<string>;
    destroy?: string;
  };
}

/** One fio script on one target, its stdout parsed into runs and failures, then the target's space released. */
export class FioRun extends pulumi.ComponentResource {
  readonly command: command.remote.Command;
  /** The last step of this measurement: the next one waits for it. */
  readonly done: command.remote.Command;
  readonly output: pulumi.Output<ScriptOutput>;

  constructor(name: string, args: FioRunArgs, opts?: pulumi.ComponentResourceOptions) {
    super("layerbench:bench:FioRun", name, {}, opts);
    this.command = new command.remote.Command(
      `${name}-fio`,
      {
        connection: args.connection,
        create: args.script,
        triggers: [args.runId],
        // fio's JSON is long; the engine's log gets stderr only (progress and errors), results come back as stdout.
        logging: "stderr",
      },
      { parent: this, dependsOn: args.after, customTimeouts: { create: `${args.timeoutMinutes}m` } },
    );
    this.done = new command.remote.Command(
      `${name}-release`,
      {
        connection: args.release.connection,
        create: args.release.script,
        ...(args.release.destroy && { delete: args.release.destroy }),
        triggers: [args.runId],
      },
      { parent: this, dependsOn: [this.command] },
    );
    // The release on the node may say what the target is (a VM disk's RBD image): beside what the guest said.
    this.output = pulumi.all([this.command.stdout, this.done.stdout]).apply(([stdout, released]) => {
      const output = parseScriptOutput(stdout, name);
      return { ...output, environment: { ...output.environment, ...environmentMarkers(released) } };
    });
    this.registerOutputs({ stdout: this.command.stdout });
  }
}
