import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { parseScriptOutput, type ScriptOutput } from "../bench/fio-script.js";

export interface FioRunArgs {
  connection: pulumi.Input<command.types.input.remote.ConnectionArgs>;
  /** The script of bench/fio-script.ts for this target. */
  script: pulumi.Input<string>;
  /** Bumping it re-runs the benchmark without re-provisioning anything. */
  runId: string;
  /** Upper bound for the whole script, from the workloads' runtimes. */
  timeoutMinutes: number;
  /** What must finish first: the target's set-up and the previous fio run. On the Command itself, because a
   * component's own dependsOn does not hold back the resources inside it. */
  after: pulumi.Resource[];
}

/** One fio script on one target, its stdout parsed into runs and failures. */
export class FioRun extends pulumi.ComponentResource {
  readonly command: command.remote.Command;
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
    this.output = this.command.stdout.apply((stdout) => parseScriptOutput(stdout, name));
    this.registerOutputs({ stdout: this.command.stdout });
  }
}
