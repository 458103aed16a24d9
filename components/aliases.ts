import * as pulumi from "@pulumi/pulumi";

/** For resources made at the stack's root before the layer components existed: the alias keeps their state. */
export const FORMERLY_AT_ROOT = { aliases: [{ parent: pulumi.rootStackResource }] };
