import type * as pulumi from "@pulumi/pulumi";
import type { Profile } from "../bench/core/profiles.js";
import type { VariantSpec } from "../bench/core/results.js";
import type { ScriptOutput } from "../bench/remote/fio-script.js";
import type { MeasurementChain } from "./measurement-chain.js";

// The one shape of a layer: it is declared (its own resources: datasets, VMs, a cluster), then asked to measure,
// through the stack's one chain so that no two measurements overlap. Each measurement says what it measured (the
// variant's spec) and brings back the fio script's output; createLayers puts them into the results document.

/** What every measurement of a stack shares. */
export interface LayerRun {
  profile: Profile;
  repeat: number;
  /** Bumping it re-runs the measurements without re-provisioning anything. */
  runId: string;
  /** Upper bound for one variant's script, from the workloads' runtimes. */
  timeoutMinutes: number;
  /** Shuffles the variants' order of measurement (core/measurement-order.ts); absent: the order given. */
  seed?: number;
  /** The baseline measured again as the given pass (2, 3), at the chain's end: the VM layer asks between variants. */
  baselineAgain?: (pass: number) => Measurement;
}

export interface Measurement {
  spec: VariantSpec;
  output: pulumi.Output<ScriptOutput>;
}

export interface Layer {
  /** Declares this layer's measurements, one after the other, each after the chain's last. */
  measure(chain: MeasurementChain, run: LayerRun): Measurement[];
}
