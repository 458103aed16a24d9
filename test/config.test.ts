import test from "ava";
import { parseBenchConfig, type RawConfig } from "../components/config.js";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIexample you@host";
const valid = (): RawConfig => ({
  node: "pve",
  nodeAddress: "192.168.1.10",
  vm: { sshPublicKey: KEY },
  vmVariants: { list: [{ id: "blk-none" }] },
});

test("a minimal config gets the documented defaults", (t) => {
  const config = parseBenchConfig(valid());
  t.is(config.sshUser, "root");
  t.is(config.dataset, "rpool/layerbench");
  t.is(config.profile.id, "ars");
  t.is(config.repeat, 1);
  t.is(config.runId, "1");
  t.deepEqual(config.baseline, { kind: "zvol", sizeGb: 32, volblocksize: 16384, compression: "lz4", sync: "standard" });
  t.like(config.vm, { vmId: 9100, ip: "dhcp", user: "layerbench", bridge: "vmbr0", fileDatastore: "local" });
  t.like(config.variants[0], { id: "blk-none", bus: "virtio-blk", cache: "none", aio: "io_uring", iothread: true, volblocksize: 16384 });
});

const invalid: Array<[string, RawConfig, RegExp]> = [
  ["missing node", { ...valid(), node: undefined }, /^layerbench:node is required: the Proxmox node's name/],
  ["node name", { ...valid(), node: "pve 1" }, /^layerbench:node "pve 1" is not allowed/],
  ["dataset", { ...valid(), dataset: "rpool" }, /^layerbench:dataset "rpool" is not allowed: use a child dataset of a pool/],
  ["profile", { ...valid(), profile: "fast" }, /^layerbench:profile: unknown profile "fast": choose one of ars, kbench$/],
  ["runtime", { ...valid(), runtime: 0 }, /^layerbench:profile: bad runtime "0"/],
  ["repeat", { ...valid(), repeat: "x" }, /^layerbench:repeat "x" is not allowed: use a whole number, at least 1$/],
  ["baseline kind", { ...valid(), baseline: { kind: "file" } }, /^layerbench:baseline\.kind: /],
  ["baseline option", { ...valid(), baseline: { kind: "zvol", recordsize: "128k" } }, /^layerbench:baseline: .*recordsize/],
  ["baseline volblocksize", { ...valid(), baseline: { kind: "zvol", volblocksize: "12k" } }, /^layerbench:baseline: variant "baseline": volblocksize "12k" is not allowed: use a power of two from 4k to 1m/],
  ["baseline compression", { ...valid(), baseline: { kind: "dataset", compression: "brotli" } }, /^layerbench:baseline\.compression: /],
  ["vm missing", { ...valid(), vm: undefined }, /^layerbench:vm is required/],
  ["vm key", { ...valid(), vm: {} }, /^layerbench:vm\.sshPublicKey: /],
  ["vm ip", { ...valid(), vm: { sshPublicKey: KEY, ip: "192.168.1.300/24" } }, /^layerbench:vm\.ip: use dhcp or an IPv4 address with prefix length/],
  ["vm gateway", { ...valid(), vm: { sshPublicKey: KEY, ip: "192.168.1.50/24" } }, /^layerbench:vm\.gateway is required with a static vm\.ip \(192\.168\.1\.50\/24\)$/],
  ["vm image", { ...valid(), vm: { sshPublicKey: KEY, imageUrl: "https://example.org/debian.iso" } }, /^layerbench:vm\.imageUrl: Proxmox imports \.qcow2, \.raw or \.vmdk/],
  ["vm unknown", { ...valid(), vm: { sshPublicKey: KEY, ram: 4096 } }, /^layerbench:vm: .*ram/],
  ["vm cores", { ...valid(), vm: { sshPublicKey: KEY, cores: 0 } }, /^layerbench:vm\.cores: /],
  ["no variants", { ...valid(), vmVariants: {} }, /^layerbench:vmVariants has no variants/],
  ["cache", { ...valid(), vmVariants: { list: [{ id: "a", cache: "fast" }] } }, /^layerbench:vmVariants: variant "a": cache "fast" is not allowed: use one of none, directsync, writethrough, writeback, unsafe$/],
  ["aio", { ...valid(), vmVariants: { list: [{ id: "a", aio: "posix" }] } }, /^layerbench:vmVariants: variant "a": aio "posix" is not allowed: use one of io_uring, native, threads$/],
  ["native+writeback", { ...valid(), vmVariants: { list: [{ id: "a", aio: "native", cache: "writeback" }] } }, /^layerbench:vmVariants: variant "a": aio=native needs cache none or directsync \(O_DIRECT\), not writeback$/],
  ["ssd on blk", { ...valid(), vmVariants: { list: [{ id: "a", ssd: true }] } }, /^layerbench:vmVariants: variant "a": ssd emulation is not supported on virtio-blk disks: use bus virtio-scsi-single$/],
  ["bus", { ...valid(), vmVariants: { list: [{ id: "a", bus: "ide" }] } }, /^layerbench:vmVariants: variant "a": bus "ide" is not allowed: use one of virtio-blk, virtio-scsi-single$/],
  ["iothread", { ...valid(), vmVariants: { list: [{ id: "a", iothread: "yes" }] } }, /^layerbench:vmVariants: variant "a": iothread "yes" is not allowed: use true or false$/],
  ["discard", { ...valid(), vmVariants: { list: [{ id: "a", discard: "off" }] } }, /^layerbench:vmVariants: variant "a": discard "off" is not allowed: use one of on, ignore$/],
  ["sync", { ...valid(), vmVariants: { list: [{ id: "a", sync: "never" }] } }, /^layerbench:vmVariants: variant "a": sync "never" is not allowed: use one of standard, always, disabled$/],
  ["size", { ...valid(), vmVariants: { list: [{ id: "a", sizeGb: 0.5 }] } }, /^layerbench:vmVariants: variant "a": sizeGb 0\.5 is not allowed: use a whole number of GiB, at least 1$/],
  ["volblocksize", { ...valid(), vmVariants: { list: [{ id: "a", volblocksize: "2m" }] } }, /^layerbench:vmVariants: variant "a": volblocksize "2m" is not allowed: use a power of two from 4k to 1m/],
  ["unknown option", { ...valid(), vmVariants: { list: [{ id: "a", queues: 4 }] } }, /^layerbench:vmVariants: variant "a": unknown option "queues"/],
  ["id", { ...valid(), vmVariants: { list: [{ id: "Blk None" }] } }, /^layerbench:vmVariants: variant id "Blk None" is not allowed: use lower-case letters/],
  ["duplicate id", { ...valid(), vmVariants: { list: [{ id: "a" }, { id: "a", cache: "writeback" }] } }, /^layerbench:vmVariants: variant id "a" is used twice/],
  ["bad axis default", { ...valid(), vmVariants: { defaults: { cache: "fast" }, axes: { bus: ["virtio-blk"] } } }, /^layerbench:vmVariants: variant "blk": cache "fast" is not allowed/],
  ["empty axis", { ...valid(), vmVariants: { axes: { cache: [] } } }, /^layerbench:vmVariants: axis "cache" needs a list of at least one value$/],
  ["matrix keys", { ...valid(), vmVariants: { variants: [] } }, /^layerbench:vmVariants: .*variants/],
];

for (const [name, raw, message] of invalid) {
  test(`rejected before any resource: ${name}`, (t) => {
    t.throws(() => parseBenchConfig(raw), { message });
  });
}

test("axes: the cross product with readable ids; invalid combinations skipped with the reason", (t) => {
  const config = parseBenchConfig({ ...valid(), vmVariants: { list: [], axes: { bus: ["virtio-blk", "virtio-scsi-single"], cache: ["none", "writeback"], aio: ["native", "threads"], ssd: [true] } } });
  t.deepEqual(config.variants.map((variant) => variant.id), ["scsi-none-native-ssd", "scsi-none-threads-ssd", "scsi-wb-threads-ssd"]);
  t.deepEqual(config.skippedVariants.map((skipped) => skipped.id), ["blk-none-native-ssd", "blk-none-threads-ssd", "blk-wb-native-ssd", "blk-wb-threads-ssd", "scsi-wb-native-ssd"]);
  t.regex(config.skippedVariants[0].reason, /ssd emulation is not supported on virtio-blk/);
  t.regex(config.skippedVariants[4].reason, /aio=native needs cache none or directsync/);
});
