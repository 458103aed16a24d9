import test from "ava";
import { parseBenchConfig, type RawConfig } from "../bench/config/stack-config.js";

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
  t.like(config.variants[0], {
    id: "blk-none",
    bus: "virtio-blk",
    cache: "none",
    aio: "io_uring",
    iothread: true,
    volblocksize: 16384,
  });
});

const invalid: Array<[string, RawConfig, RegExp]> = [
  ["missing node", { ...valid(), node: undefined }, /^layerbench:node is required: the Proxmox node's name/],
  ["node name", { ...valid(), node: "pve 1" }, /^layerbench:node "pve 1" is not allowed/],
  [
    "ssh user",
    { ...valid(), sshUser: "root;reboot" },
    /^layerbench:sshUser "root;reboot" is not allowed: a Linux user name on the node/,
  ],
  [
    "dataset",
    { ...valid(), dataset: "rpool" },
    /^layerbench:dataset "rpool" is not allowed: use a child dataset of a pool/,
  ],
  [
    "profile",
    { ...valid(), profile: "fast" },
    /^layerbench:profile: unknown profile "fast": choose one of ars, kbench, etcd$/,
  ],
  ["runtime", { ...valid(), runtime: 0 }, /^layerbench:profile: bad runtime "0"/],
  ["repeat", { ...valid(), repeat: "x" }, /^layerbench:repeat "x" is not allowed: use a whole number, at least 1$/],
  ["baseline kind", { ...valid(), baseline: { kind: "file" } }, /^layerbench:baseline\.kind: /],
  [
    "baseline option",
    { ...valid(), baseline: { kind: "zvol", recordsize: "128k" } },
    /^layerbench:baseline: .*recordsize/,
  ],
  [
    "baseline volblocksize",
    { ...valid(), baseline: { kind: "zvol", volblocksize: "12k" } },
    /^layerbench:baseline: variant "baseline": volblocksize "12k" is not allowed: use a power of two from 4k to 1m/,
  ],
  [
    "baseline compression",
    { ...valid(), baseline: { kind: "dataset", compression: "brotli" } },
    /^layerbench:baseline\.compression: /,
  ],
  ["vm missing", { ...valid(), vm: undefined }, /^layerbench:vm is required/],
  ["vm key", { ...valid(), vm: {} }, /^layerbench:vm\.sshPublicKey: /],
  [
    "vm ip",
    { ...valid(), vm: { sshPublicKey: KEY, ip: "192.168.1.300/24" } },
    /^layerbench:vm\.ip: use dhcp or an IPv4 address with prefix length/,
  ],
  [
    "vm gateway",
    { ...valid(), vm: { sshPublicKey: KEY, ip: "192.168.1.50/24" } },
    /^layerbench:vm\.gateway is required with a static vm\.ip \(192\.168\.1\.50\/24\)$/,
  ],
  [
    "vm image",
    { ...valid(), vm: { sshPublicKey: KEY, imageUrl: "https://example.org/debian.iso" } },
    /^layerbench:vm\.imageUrl: Proxmox imports \.qcow2, \.raw or \.vmdk/,
  ],
  ["vm unknown", { ...valid(), vm: { sshPublicKey: KEY, ram: 4096 } }, /^layerbench:vm: .*ram/],
  ["vm cores", { ...valid(), vm: { sshPublicKey: KEY, cores: 0 } }, /^layerbench:vm\.cores: /],
  ["no variants", { ...valid(), vmVariants: {} }, /^layerbench:vmVariants has no variants/],
  [
    "cache",
    { ...valid(), vmVariants: { list: [{ id: "a", cache: "fast" }] } },
    /^layerbench:vmVariants: variant "a": cache "fast" is not allowed: use one of none, directsync, writethrough, writeback, unsafe$/,
  ],
  [
    "aio",
    { ...valid(), vmVariants: { list: [{ id: "a", aio: "posix" }] } },
    /^layerbench:vmVariants: variant "a": aio "posix" is not allowed: use one of io_uring, native, threads$/,
  ],
  [
    "native+writeback",
    { ...valid(), vmVariants: { list: [{ id: "a", aio: "native", cache: "writeback" }] } },
    /^layerbench:vmVariants: variant "a": aio=native needs cache none or directsync \(O_DIRECT\), not writeback$/,
  ],
  [
    "io_uring on krbd through the host's cache",
    { ...valid(), vmVariants: { list: [{ id: "a", storage: "krbd", cache: "writeback", aio: "io_uring" }] } },
    /^layerbench:vmVariants: variant "a": aio=io_uring on storage krbd with cache writeback: io_uring on krbd with a cache mode through the host's page cache hangs \(qemu-server Drive\.pm storage_allows_io_uring_default\): use aio threads, or leave aio unset$/,
  ],
  [
    "io_uring on CIFS",
    { ...valid(), storages: { cifs: "smb" }, vmVariants: { list: [{ id: "a", storage: "cifs", aio: "io_uring" }] } },
    /^layerbench:vmVariants: variant "a": aio=io_uring on storage cifs with cache none: io_uring on CIFS causes problems since kernel 5\.15 \(qemu-server Drive\.pm storage_allows_io_uring_default\): use aio native, or leave aio unset$/,
  ],
  [
    "qcow2 on LVM-thin",
    { ...valid(), vmVariants: { list: [{ id: "a", storage: "lvmthin", format: "qcow2" }] } },
    /^layerbench:vmVariants: variant "a": format qcow2 on storage lvmthin: a lvmthin storage takes raw \(pve-storage src\/PVE\/Storage\/LvmThinPlugin\.pm, Plugin\.pm get_formats\)$/,
  ],
  [
    "format",
    { ...valid(), vmVariants: { list: [{ id: "a", storage: "dir", format: "vmdk" }] } },
    /^layerbench:vmVariants: variant "a": format "vmdk" is not allowed: use one of raw, qcow2$/,
  ],
  [
    "storage",
    { ...valid(), vmVariants: { list: [{ id: "a", storage: "btrfs" }] } },
    /^layerbench:vmVariants: variant "a": storage "btrfs" is not allowed: use one of zfs, rbd, krbd, lvmthin, dir, nfs, cifs$/,
  ],
  [
    "directory storage not named",
    { ...valid(), vmVariants: { list: [{ id: "a", storage: "dir", format: "qcow2" }] } },
    /^layerbench:vmVariants: variant "a" storage dir needs layerbench:storages\.dir: the id of your directory storage \(type dir\), as pvesm status lists it$/,
  ],
  [
    "storages key",
    { ...valid(), storages: { zfs: "local-zfs" } },
    /^layerbench:storages: unknown kind "zfs": use lvmthin, dir, nfs, cifs \(the stack makes its ZFS storages; layerbench:ceph names the RBD ones\)$/,
  ],
  [
    "ssd on blk",
    { ...valid(), vmVariants: { list: [{ id: "a", ssd: true }] } },
    /^layerbench:vmVariants: variant "a": ssd emulation is not supported on virtio-blk disks: use bus virtio-scsi-single$/,
  ],
  [
    "bus",
    { ...valid(), vmVariants: { list: [{ id: "a", bus: "ide" }] } },
    /^layerbench:vmVariants: variant "a": bus "ide" is not allowed: use one of virtio-blk, virtio-scsi-single$/,
  ],
  [
    "iothread",
    { ...valid(), vmVariants: { list: [{ id: "a", iothread: "yes" }] } },
    /^layerbench:vmVariants: variant "a": iothread "yes" is not allowed: use true or false$/,
  ],
  [
    "discard",
    { ...valid(), vmVariants: { list: [{ id: "a", discard: "off" }] } },
    /^layerbench:vmVariants: variant "a": discard "off" is not allowed: use one of on, ignore$/,
  ],
  [
    "sync",
    { ...valid(), vmVariants: { list: [{ id: "a", sync: "never" }] } },
    /^layerbench:vmVariants: variant "a": sync "never" is not allowed: use one of standard, always, disabled$/,
  ],
  [
    "size",
    { ...valid(), vmVariants: { list: [{ id: "a", sizeGb: 0.5 }] } },
    /^layerbench:vmVariants: variant "a": sizeGb 0\.5 is not allowed: use a whole number of GiB, at least 1$/,
  ],
  [
    "volblocksize",
    { ...valid(), vmVariants: { list: [{ id: "a", volblocksize: "2m" }] } },
    /^layerbench:vmVariants: variant "a": volblocksize "2m" is not allowed: use a power of two from 4k to 1m/,
  ],
  [
    "unknown option",
    { ...valid(), vmVariants: { list: [{ id: "a", queues: 4 }] } },
    /^layerbench:vmVariants: variant "a": unknown option "queues"/,
  ],
  [
    "id",
    { ...valid(), vmVariants: { list: [{ id: "Blk None" }] } },
    /^layerbench:vmVariants: variant id "Blk None" is not allowed: use lower-case letters/,
  ],
  [
    "duplicate id",
    { ...valid(), vmVariants: { list: [{ id: "a" }, { id: "a", cache: "writeback" }] } },
    /^layerbench:vmVariants: variant id "a" is used twice/,
  ],
  [
    "bad axis default",
    { ...valid(), vmVariants: { defaults: { cache: "fast" }, axes: { bus: ["virtio-blk"] } } },
    /^layerbench:vmVariants: variant "blk": cache "fast" is not allowed/,
  ],
  [
    "empty axis",
    { ...valid(), vmVariants: { axes: { cache: [] } } },
    /^layerbench:vmVariants: axis "cache" needs a list of at least one value$/,
  ],
  ["matrix keys", { ...valid(), vmVariants: { variants: [] } }, /^layerbench:vmVariants: .*variants/],
  ["k8s unknown key", { ...valid(), k8s: { enabled: true, nodes: 3 } }, /^layerbench:k8s: .*nodes/],
  ["k8s node count", { ...valid(), k8s: { enabled: true, nodeCount: 0 } }, /^layerbench:k8s\.nodeCount: /],
  [
    "k8s version",
    { ...valid(), k8s: { enabled: true, k3sVersion: "1.33" } },
    /^layerbench:k8s\.k3sVersion: use a k3s release tag, e\.g\. v1\.33\.3\+k3s1$/,
  ],
  [
    "longhorn version",
    { ...valid(), k8s: { enabled: true, longhornVersion: "latest" } },
    /^layerbench:k8s\.longhornVersion: use a Longhorn Helm chart version, e\.g\. 1\.9\.2$/,
  ],
  [
    "k8s vmId clash",
    { ...valid(), k8s: { enabled: true, vm: { vmId: 9099 } } },
    /^layerbench:k8s\.vm\.vmId 9099 is not allowed: the 3 k3s VMs \(9099-9101\) would share vmIds with the bench VMs \(9100-9100\)$/,
  ],
  [
    "k8s address clash",
    {
      ...valid(),
      vm: { sshPublicKey: KEY, ip: "192.168.1.50/24", gateway: "192.168.1.1" },
      k8s: { enabled: true, vm: { ip: "192.168.1.48/24" } },
    },
    /^layerbench:k8s\.vm\.ip 192\.168\.1\.48\/24 is not allowed: the k3s VMs would take addresses of the bench VMs/,
  ],
  [
    "k8s static ip without gateway",
    { ...valid(), k8s: { enabled: true, vm: { ip: "192.168.1.60/24" } } },
    /^layerbench:vm\.gateway is required with a static k8s\.vm\.ip \(192\.168\.1\.60\/24\)$/,
  ],
  [
    "k8s volume too small",
    { ...valid(), k8s: { enabled: true, volumeSizeGb: 4 } },
    /^layerbench:k8s\.volumeSizeGb 4 is not allowed: the profile's largest workload writes 16\.0 GiB, use at least 19$/,
  ],
  [
    "k8s boot disk too small",
    { ...valid(), k8s: { enabled: true, vm: { bootSizeGb: 20 } } },
    /^layerbench:k8s\.vm\.bootSizeGb 20 is not allowed: the OS and a 19 GiB local-path volume need at least 25$/,
  ],
  [
    "k8s Longhorn disk too small",
    { ...valid(), k8s: { enabled: true, vm: { longhornDiskGb: 28 } } },
    /^layerbench:k8s\.vm\.longhornDiskGb 28 is not allowed: 1 Longhorn volumes of 19 GiB may each put a replica on one node; with Longhorn's 30 % reserve that needs at least 29 GiB per node/,
  ],
  [
    "k8s kind",
    { ...valid(), k8s: { enabled: true, variants: { list: [{ id: "a", kind: "ceph" }] } } },
    /^layerbench:k8s\.variants: k8s variant "a": kind "ceph" is not allowed: use one of local-path, longhorn, ceph-rbd, openebs-hostpath, storageclass$/,
  ],
  [
    "storageclass without a way to make it",
    {
      ...valid(),
      k8s: { enabled: true, variants: { list: [{ id: "a", kind: "storageclass", storageClass: "nfs" }] } },
    },
    /^layerbench:k8s\.variants: k8s variant "a": storageClass nfs needs a manifest \(the StorageClass as YAML\) or a chart that makes it: layerbench's k3s cluster is new, it has only local-path$/,
  ],
  [
    "storageclass manifest of another kind",
    {
      ...valid(),
      k8s: {
        enabled: true,
        variants: {
          list: [
            { id: "a", kind: "storageclass", manifest: "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: x }\n" },
          ],
        },
      },
    },
    /^layerbench:k8s\.variants: k8s variant "a": manifest is a ConfigMap \(v1\), not a storage\.k8s\.io\/v1 StorageClass$/,
  ],
  [
    "storageclass chart unpinned",
    {
      ...valid(),
      k8s: {
        enabled: true,
        variants: {
          list: [
            {
              id: "a",
              kind: "storageclass",
              storageClass: "nfs-csi",
              chart: { repo: "https://example.org/charts", name: "csi-driver-nfs", version: "latest" },
            },
          ],
        },
      },
    },
    /^layerbench:k8s\.variants: k8s variant "a": chart\.version: pin a chart version, e\.g\. 4\.11\.0$/,
  ],
  [
    "replicas on openebs",
    { ...valid(), k8s: { enabled: true, variants: { list: [{ id: "a", kind: "openebs-hostpath", replicas: 2 }] } } },
    /^layerbench:k8s\.variants: k8s variant "a": openebs-hostpath volumes have no replicas or data locality \(those are Longhorn's\)$/,
  ],
  [
    "storageClass on longhorn",
    { ...valid(), k8s: { enabled: true, variants: { list: [{ id: "a", kind: "longhorn", storageClass: "x" }] } } },
    /^layerbench:k8s\.variants: k8s variant "a": storageClass belongs to kind storageclass, not longhorn$/,
  ],
  [
    "k8s replicas",
    { ...valid(), k8s: { enabled: true, variants: { list: [{ id: "a", replicas: 4 }] } } },
    /^layerbench:k8s\.variants: k8s variant "a": replicas 4 is not allowed: use a whole number from 1 to the node count \(3\)/,
  ],
  [
    "k8s locality",
    { ...valid(), k8s: { enabled: true, variants: { list: [{ id: "a", dataLocality: "local" }] } } },
    /^layerbench:k8s\.variants: k8s variant "a": dataLocality "local" is not allowed: use one of disabled, best-effort, strict-local$/,
  ],
  [
    "k8s strict-local",
    {
      ...valid(),
      k8s: { enabled: true, variants: { list: [{ id: "a", replicas: 2, dataLocality: "strict-local" }] } },
    },
    /^layerbench:k8s\.variants: k8s variant "a": dataLocality strict-local needs replicas 1/,
  ],
  [
    "local-path replicas",
    { ...valid(), k8s: { enabled: true, variants: { list: [{ id: "a", kind: "local-path", replicas: 2 }] } } },
    /^layerbench:k8s\.variants: k8s variant "a": local-path volumes have no replicas or data locality/,
  ],
  [
    "k8s id",
    { ...valid(), k8s: { enabled: true, variants: { list: [{ id: "Longhorn_3" }] } } },
    /^layerbench:k8s\.variants: k8s variant id "Longhorn_3" is not allowed/,
  ],
  [
    "k8s duplicate id",
    { ...valid(), k8s: { enabled: true, variants: { list: [{ id: "a" }, { id: "a", replicas: 1 }] } } },
    /^layerbench:k8s\.variants: k8s variant id "a" is used twice/,
  ],
  [
    "k8s axis",
    { ...valid(), k8s: { enabled: true, variants: { axes: { size: [1] } } } },
    /^layerbench:k8s\.variants: unknown k8s axis "size": use kind, replicas, dataLocality$/,
  ],
  [
    "k8s no variants",
    { ...valid(), k8s: { enabled: true, variants: {} } },
    /^layerbench:k8s\.variants has no variants/,
  ],
];

for (const [name, raw, message] of invalid) {
  test(`rejected before any resource: ${name}`, (t) => {
    t.throws(() => parseBenchConfig(raw), { message });
  });
}

test("axes: the cross product with readable ids; invalid combinations skipped with the reason", (t) => {
  const config = parseBenchConfig({
    ...valid(),
    vmVariants: {
      list: [],
      axes: {
        bus: ["virtio-blk", "virtio-scsi-single"],
        cache: ["none", "writeback"],
        aio: ["native", "threads"],
        ssd: [true],
      },
    },
  });
  t.deepEqual(
    config.variants.map((variant) => variant.id),
    ["scsi-none-native-ssd", "scsi-none-threads-ssd", "scsi-wb-threads-ssd"],
  );
  t.deepEqual(
    config.skippedVariants.map((skipped) => skipped.id),
    ["blk-none-native-ssd", "blk-none-threads-ssd", "blk-wb-native-ssd", "blk-wb-threads-ssd", "scsi-wb-native-ssd"],
  );
  t.regex(config.skippedVariants[0].reason, /ssd emulation is not supported on virtio-blk/);
  t.regex(config.skippedVariants[4].reason, /aio=native needs cache none or directsync/);
});

test("k8s: off unless enabled; enabled, the documented defaults and a volume sized from the profile", (t) => {
  t.is(parseBenchConfig({ ...valid(), k8s: { nodeCount: 3 } }).k8s, undefined);
  const { k8s } = parseBenchConfig({ ...valid(), k8s: { enabled: true } });
  t.like(k8s, {
    nodeCount: 3,
    k3sVersion: "v1.33.3+k3s1",
    longhornVersion: "1.9.2",
    volumeSizeGb: 19,
    longhornDiskGb: 29,
    fioImage: "debian:trixie-slim",
    namespace: "layerbench",
  });
  t.like(k8s?.vm, {
    vmId: 9200,
    name: "layerbench-k3s",
    cores: 4,
    memoryMb: 8192,
    bootSizeGb: 32,
    ip: "dhcp",
    bridge: "vmbr0",
    sshPublicKey: KEY,
  });
  t.is(
    parseBenchConfig({ ...valid(), k8s: { enabled: true, variants: { list: [{ id: "lp", kind: "local-path" }] } } }).k8s
      ?.longhornDiskGb,
    0,
    "no Longhorn, no disk for it",
  );
  t.deepEqual(k8s?.variants, [
    { id: "local-path", kind: "local-path" },
    { id: "longhorn-r3", kind: "longhorn", replicas: 3, dataLocality: "disabled" },
  ]);
});

test("k8s axes: local-path once, Longhorn by replicas and locality, strict-local only with one replica", (t) => {
  const { k8s } = parseBenchConfig({
    ...valid(),
    k8s: {
      enabled: true,
      nodeCount: 2,
      variants: {
        axes: { kind: ["local-path", "longhorn"], replicas: [1, 2], dataLocality: ["best-effort", "strict-local"] },
      },
    },
  });
  t.deepEqual(
    k8s?.variants.map((variant) => variant.id),
    ["local-path", "longhorn-r1-besteffort", "longhorn-r1-strict", "longhorn-r2-besteffort"],
  );
  t.deepEqual(k8s?.skippedVariants, [
    {
      id: "longhorn-r2-strict",
      reason: "dataLocality strict-local needs replicas 1 (Longhorn keeps the only replica on the pod's node)",
    },
  ]);
});

test("designs in a stack: the VM and Kubernetes matrices each keep their record; bad design keys name the key", (t) => {
  const config = parseBenchConfig({
    ...valid(),
    vmVariants: {
      design: "main-effects",
      axes: {
        cache: ["none", "directsync", "writethrough", "writeback", "unsafe"],
        iothread: [true, false],
        bus: ["virtio-blk", "virtio-scsi-single"],
      },
    },
    k8s: {
      enabled: true,
      nodeCount: 5,
      variants: {
        list: [{ id: "local-path", kind: "local-path" }],
        design: "main-effects",
        axes: { replicas: [1, 2, 3, 4, 5], dataLocality: ["disabled", "best-effort"] },
      },
    },
  });
  // VM: 1 + 4 + 1 + 1 = 7 parameters and 3 more, of 20; Kubernetes: 1 + 4 + 1 = 6 and 3 more, of 10.
  t.is(config.design?.chosen.length, 10);
  t.is(config.variants.length, 10);
  t.is(config.k8s?.design?.chosen.length, 9);
  t.deepEqual(
    config.k8s?.variants.map((variant) => variant.id).slice(0, 2),
    ["local-path", "longhorn-r1-nolocal"],
    "the list, then the design's choice in the axes' order",
  );
  t.true(config.k8s?.design?.chosen.includes("k8s-longhorn-r3-nolocal") === false, "ids as the stack names them");
  t.true(config.k8s?.design?.chosen.includes("longhorn-r3-nolocal"), "the defaults' variant: 3 replicas, no locality");
  t.throws(() => parseBenchConfig({ ...valid(), vmVariants: { design: "half", axes: { cache: ["none"] } } }), {
    message:
      /^layerbench:vmVariants\.design "half" is not allowed: use one of full, main-effects, main-effects\+interactions$/,
  });
  t.throws(
    () =>
      parseBenchConfig({
        ...valid(),
        k8s: {
          enabled: true,
          variants: { design: "main-effects", axes: { kind: ["local-path", "longhorn"], replicas: [1, 2] } },
        },
      }),
    { message: /^layerbench:k8s\.variants: design main-effects needs axes that cross each other, and kind does not/ },
  );
});

test("k8s.proxmoxNodes: names or {name, address}, the stack's node at nodeAddress by default, each once", (t) => {
  const base = valid();
  const { k8s } = parseBenchConfig({
    ...base,
    k8s: { enabled: true, proxmoxNodes: ["pve", { name: "pve2", address: "10.0.0.2" }, "pve3"] },
  });
  t.deepEqual(k8s?.proxmoxNodes, [
    { name: "pve", address: base.nodeAddress },
    { name: "pve2", address: "10.0.0.2" },
    { name: "pve3", address: "pve3" },
  ]);
  t.deepEqual(parseBenchConfig({ ...base, k8s: { enabled: true } }).k8s?.proxmoxNodes, [
    { name: "pve", address: base.nodeAddress },
  ]);
  t.throws(() => parseBenchConfig({ ...base, k8s: { enabled: true, proxmoxNodes: ["pve2", "pve2"] } }), {
    message: "layerbench:k8s.proxmoxNodes names pve2 twice: list each Proxmox node once",
  });
  t.throws(() => parseBenchConfig({ ...base, k8s: { enabled: true, proxmoxNodes: ["pve 2"] } }), {
    message: /layerbench:k8s\.proxmoxNodes/,
  });
});

test("repeatAuto, maxRsd and ramp: the profile repeats until stable and ramps as asked, in the script too", (t) => {
  const config = parseBenchConfig({ ...valid(), profile: "kbench", repeatAuto: true, maxRsd: 5, ramp: 2 });
  t.is(config.repeat, 15, "at most 15 runs: 4 x 3, and 3 more while the spread shrinks");
  t.deepEqual(config.profile.stopWhenStable, { minRuns: 3, maxRsdPct: 5 });
  t.is(config.profile.rampSec, 2);
  t.is(parseBenchConfig({ ...valid(), profile: "kbench" }).profile.rampSec, 5, "kbench's own ramp by default");
  t.throws(() => parseBenchConfig({ ...valid(), repeatAuto: true, repeat: 3 }), {
    message: "layerbench:repeat 3 and layerbench:repeatAuto true: give a count, or repeatAuto",
  });
  t.throws(() => parseBenchConfig({ ...valid(), ramp: -1 }), {
    message: /layerbench:ramp -1 is not allowed: use a whole number, at least 0/,
  });
});

test("jobFile: your job file's text is the profile; runtime, ramp and size belong in it", (t) => {
  const jobFile =
    "[global]\nioengine=libaio\ndirect=1\nruntime=30\nsize=2g\n[rr]\nrw=randread\n[sw]\nrw=write\nbs=1m\n";
  const config = parseBenchConfig({ ...valid(), jobFile, repeatAuto: true });
  t.deepEqual(
    config.profile.workloads.map((workload) => [workload.id, workload.rw]),
    [
      ["rr", "randread"],
      ["sw", "write"],
    ],
  );
  t.is(config.profile.jobFileText, jobFile);
  t.truthy(config.profile.stopWhenStable);
  t.throws(() => parseBenchConfig({ ...valid(), jobFile, runtime: 5 }), {
    message: "layerbench:runtime cannot change layerbench:jobFile: set runtime in the job file",
  });
  t.throws(() => parseBenchConfig({ ...valid(), jobFile: "[x]\nrw=read\n" }), {
    message: "layerbench:jobFile: jobFile: [x] sets no size: give size= (per job) in the section or [global]",
  });
});

test("rejected before any resource: a VM disk or the baseline zvol smaller than the largest workload", (t) => {
  // ars's 1 MiB workload writes 16g; on a smaller device fio would silently write less than the numbers claim.
  t.notThrows(() => parseBenchConfig({ ...valid(), vmVariants: { list: [{ id: "blk-none", sizeGb: 16 }] } }));
  t.throws(() => parseBenchConfig({ ...valid(), vmVariants: { list: [{ id: "blk-none", sizeGb: 15 }] } }), {
    message:
      'layerbench:vmVariants: variant "blk-none" sizeGb 15 is not allowed: the profile\'s largest workload writes 16g on it, use at least 16',
  });
  t.throws(() => parseBenchConfig({ ...valid(), baseline: { kind: "zvol", sizeGb: 8 } }), {
    message:
      "layerbench:baseline.sizeGb 8 is not allowed: the profile's largest workload writes 16g on it, use at least 16",
  });
  t.notThrows(
    () => parseBenchConfig({ ...valid(), size: "256m", baseline: { kind: "zvol", sizeGb: 8 } }),
    "16 jobs x 256m: 4 GiB",
  );
});
