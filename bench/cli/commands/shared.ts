// What several commands share: results directories named by time, and the Automation API loaded on use.
import type { MatrixWorkspace } from "../../matrix/workspace.js";

/** Loaded on use: the Automation API pulls in all of @pulumi/pulumi, which `run` and `report FILE` never need. */
export async function pulumiWorkspaceFor(projectDir: string): Promise<MatrixWorkspace> {
  const { pulumiWorkspace } = await import("../../matrix/pulumi-workspace.js");
  return pulumiWorkspace(projectDir);
}

/** "20261206-010638": a results directory's name. */
export function timestamp(date: Date): string {
  return date.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
}
