// What `rbd` says of an image, as the node's shell reads it: the fio script's image and a VM disk's image alike.

/** The image's features, comma-separated as results record them, from `rbd info`'s plain `features:` line. */
export const rbdFeaturesShell = (rbd: string, name: string) =>
  `"$(${rbd} info ${name} 2>/dev/null | awk '$1 == "features:" { $1 = ""; gsub(/^ +| +$/, ""); gsub(/, /, ","); print }')"`;

/**
 * librbd's cache policy for the image as the client's configuration resolves it (`rbd config image list`: name,
 * value, source): what a client that turns the cache on gets, as QEMU does for a cache mode through the host.
 */
export const rbdCachePolicyShell = (rbd: string, name: string) =>
  `"$(${rbd} config image list ${name} 2>/dev/null | awk '$1 == "rbd_cache_policy" { print $2 }')"`;
