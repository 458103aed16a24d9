// Pulumi.yaml's `config:` section and the README's table of keys, both from the one schema (tests keep them in step).

import { defaultOf, documentationOf } from "./schema-parts.js";
import { StackConfigSchema } from "./stack-config.js";

/** Pulumi.yaml's `config:` section: every key Pulumi declares (its schema takes scalar types only). */
export function configKeysForPulumiYaml(): Record<string, { type: string; description: string; default?: unknown }> {
  return Object.fromEntries(
    Object.entries(StackConfigSchema.shape).flatMap(([key, schema]) => {
      const { pulumiType, description } = documentationOf(schema);
      if (!pulumiType) return [];
      const fallback = defaultOf(schema);
      return [[key, { type: pulumiType, description, ...(fallback !== undefined && { default: fallback }) }]];
    }),
  );
}

/** The README's table of the top-level keys. */
export function configKeysMarkdown(): string[] {
  return Object.entries(StackConfigSchema.shape).map(([key, schema]) => {
    const { description, defaultText, secret } = documentationOf(schema);
    const fallback = defaultOf(schema);
    const required = !schema.safeParse(undefined).success;
    const shown =
      defaultText ??
      (secret
        ? "required, a secret"
        : fallback !== undefined
          ? `\`${String(fallback)}\``
          : required
            ? "required"
            : "–");
    return `| \`${key}\` | ${description} | ${shown} |`;
  });
}
