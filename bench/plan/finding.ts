// What `plan --check` says of the node, a line each: the leaf every check imports.

export type FindingLevel = "ok" | "warn" | "fail";
export interface Finding {
  level: FindingLevel;
  message: string;
}
