// The pieces a stack's config schema is made of: the patterns of names, the messages that name a bad key, the
// documentation each top-level key carries, and the variant matrices both layers share.
import { z } from "zod";
import { UserError } from "../util/errors.js";
import { type DesignSpec, parseDesign } from "../variants/design.js";

export class ConfigError extends UserError {}

export const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** A host name or an IP address (v4 or v6), as SSH takes it. */
export const ADDRESS = /^[A-Za-z0-9.:-]+$/;
// pve-common src/PVE/JSONSchema.pm parse_storage_id: a letter, then letters, digits, '-', '_', '.'.
export const STORAGE_ID = /^[a-z][a-z0-9\-_.]*[a-z0-9]$/i;
export const ZFS_NAME = /^[A-Za-z0-9][A-Za-z0-9._:/-]*[A-Za-z0-9]$/;
const IP_CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

export const VariantMatrixSchema = z
  .object({
    defaults: z.record(z.string(), z.unknown()).optional(),
    list: z.array(z.record(z.string(), z.unknown())).optional(),
    axes: z.record(z.string(), z.array(z.unknown())).optional(),
    // Checked by parseDesign against the axes, which it needs.
    design: z.unknown().optional(),
    interactions: z.unknown().optional(),
    confirm: z.unknown().optional(),
  })
  .strict();

/** The design a variant matrix asks for, its keys named under `key` in what it rejects. */
export function matrixDesign(matrix: z.infer<typeof VariantMatrixSchema>, key: string): DesignSpec {
  return parseDesign(matrix, Object.keys(matrix.axes ?? {}), (name) => `layerbench:${key}.${name}`);
}

export function validCidr(value: string): boolean {
  const match = IP_CIDR.exec(value);
  if (!match) return false;
  return match.slice(1, 5).every((octet) => Number(octet) <= 255) && Number(match[5]) <= 32;
}

export function zodMessage(key: string | undefined, error: z.ZodError): string {
  const issue = error.issues[0];
  // A message that names its key itself (a top-level key's own check) is complete as it is.
  if (issue.message.startsWith("layerbench:")) return issue.message;
  const path = [...(key ? [key] : []), ...issue.path.map(String)].join(".");
  return `layerbench:${path}: ${issue.message}`;
}

export function parseWith<T>(key: string, schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new ConfigError(zodMessage(key, parsed.error));
  return parsed.data;
}

/** Runs a check and names the config key in whatever it rejects. */
export function underKey<T>(key: string, check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof UserError && !(error instanceof ConfigError))
      throw new ConfigError(`layerbench:${key}: ${error.message}`);
    throw error;
  }
}

/** What a top-level key is, for Pulumi.yaml's config schema (types string and integer there) and the README. */
export interface KeyDocumentation {
  description: string;
  /** Declared in Pulumi.yaml with this type; structured keys live in the stack files only. */
  pulumiType?: "string" | "integer" | "boolean";
  secret?: boolean;
  /** The default as the README says it, where it is not a plain value. */
  defaultText?: string;
}

export function documented<T extends z.ZodType>(schema: T, documentation: KeyDocumentation): T {
  return schema.meta({ ...documentation });
}

/** A top-level string whose messages name the key and the value: "layerbench:node "pve 1" is not allowed: ...". */
export function checkedString(key: string, pattern: RegExp, allowed: string, extra?: (value: string) => boolean) {
  return z.unknown().transform((value, context): string => {
    if (typeof value !== "string" || value === "") {
      context.addIssue({ code: "custom", message: `layerbench:${key} is required: ${allowed}` });
      return z.NEVER;
    }
    if (!pattern.test(value) || (extra && !extra(value))) {
      context.addIssue({
        code: "custom",
        message: `layerbench:${key} ${JSON.stringify(value)} is not allowed: ${allowed}`,
      });
      return z.NEVER;
    }
    return value;
  });
}

export function wholeNumber(key: string, least = 1) {
  return z.unknown().transform((value, context): number => {
    if (typeof value === "number" && Number.isInteger(value) && value >= least) return value;
    context.addIssue({
      code: "custom",
      message: `layerbench:${key} ${JSON.stringify(value)} is not allowed: use a whole number, at least ${least}`,
    });
    return z.NEVER;
  });
}

export function documentationOf(schema: z.ZodType): KeyDocumentation {
  return schema.meta() as unknown as KeyDocumentation;
}

export function defaultOf(schema: z.ZodType): unknown {
  return schema instanceof z.ZodDefault ? schema.def.defaultValue : undefined;
}
