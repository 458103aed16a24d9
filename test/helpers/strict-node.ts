// A Proxmox VE cluster and a Longhorn installation as strict as the real ones, for the Pulumi mocks: every
// resource the program registers is checked against the rules of the real side that the program depends on,
// each named with the source it comes from. Mocks accept anything; a real node does not.

/**
 * Storages the node has before layerbench makes any, with their type and content types (the README asks for
 * import and snippets on `local`): a ZFS install's.
 */
const BUILT_IN_STORAGES: Record<string, { type: string; contents: string[] }> = {
  local: { type: "dir", contents: ["iso", "vztmpl", "backup", "import", "snippets"] },
  "local-zfs": { type: "zfspool", contents: ["images", "rootdir"] },
};

// pve-storage src/PVE/Storage/Plugin.pm get_formats: a plugin's plugindata `format`, raw alone where it declares
// none (RBDPlugin.pm, LvmThinPlugin.pm, whose alloc_image also dies on any other: "unsupported format").
// ZFSPoolPlugin.pm raw, subvol; DirPlugin.pm raw, qcow2, vmdk, subvol; NFSPlugin.pm and CIFSPlugin.pm raw,
// qcow2, vmdk; LVMPlugin.pm (9) raw, qcow2.
const FORMATS: Record<string, string[]> = {
  zfspool: ["raw", "subvol"],
  rbd: ["raw"],
  lvmthin: ["raw"],
  lvm: ["raw", "qcow2"],
  dir: ["raw", "qcow2", "vmdk", "subvol"],
  nfs: ["raw", "qcow2", "vmdk"],
  cifs: ["raw", "qcow2", "vmdk"],
};

// bpg/terraform-provider-proxmox proxmoxtf/resource/vm/disk/schema.go: disk MaxItems 31.
const MAX_DISKS = 31;
// proxmox/qemu-server src/PVE/QemuServer/Drive.pm: $MAX_IDE_DISKS 4, $MAX_SATA_DISKS 6, $MAX_SCSI_DISKS 31, $MAX_VIRTIO_DISKS 16.
const INTERFACE = /^(ide[0-3]|sata[0-5]|scsi([0-9]|[12][0-9]|30)|virtio([0-9]|1[0-5]))$/;
// bpg/terraform-provider-proxmox proxmoxtf/resource/vm/disk/schema.go: cache and aio StringInSlice.
const CACHE_MODES = ["none", "writethrough", "writeback", "unsafe", "directsync"];
const AIO_MODES = ["io_uring", "native", "threads"];
// proxmox/qemu-server src/PVE/QemuServer/Drive.pm: discard enum [ignore on].
const DISCARD_MODES = ["ignore", "on"];
// proxmox/qemu-server src/PVE/QemuServer.pm: scsihw enum.
const SCSI_HARDWARE = ["lsi", "lsi53c810", "virtio-scsi-pci", "virtio-scsi-single", "megasas", "pvscsi"];
// proxmox/qemu-server Drive.pm: serial is "url-encoded, up to 20 bytes"; pve-common src/PVE/JSONSchema.pm
// pve_verify_urlencoded allows [-%a-zA-Z0-9_.!~*'()]; the provider (custom_storage_device.go) sends it as given.
const SERIAL = /^[-a-zA-Z0-9_.!~*'()]{0,20}$/;
// pve-common src/PVE/JSONSchema.pm: parse_storage_id and pve_verify_vmid.
const STORAGE_ID = /^[a-z][a-z0-9\-_.]*[a-z0-9]$/i;
const VM_ID = /^[1-9][0-9]{2,8}$/;
// bpg/terraform-provider-proxmox proxmoxtf/resource/vm/vm.go: cpu.cores IntBetween(1, 2304), memory.dedicated
// IntBetween(64, 268435456) (MiB).
const CORES = [1, 2304];
const MEMORY_MB = [64, 268435456];

// longhorn-manager types/setting.go: storage-reserved-percentage-for-default-disk 30, storage-over-provisioning-percentage 100,
// replica-soft-anti-affinity false (one replica of a volume per node).
const LONGHORN_RESERVED_PERCENT = 30;
const LONGHORN_OVER_PROVISIONING_PERCENT = 100;

const GiB = 1024 ** 3;

// pve-storage src/PVE/Storage/RBDPlugin.pm plugindata: an RBD storage takes content images and rootdir only.
const RBD_CONTENTS = ["images", "rootdir"];
// The content types each plugin's plugindata allows (the first hash): images where VM disks go.
const CONTENTS: Record<string, string[]> = {
  lvmthin: ["images", "rootdir"],
  dir: ["images", "rootdir", "vztmpl", "iso", "backup", "snippets", "none", "import"],
  nfs: ["images", "rootdir", "vztmpl", "iso", "backup", "snippets", "import"],
  cifs: ["images", "rootdir", "vztmpl", "iso", "backup", "snippets", "import"],
};
// ceph-csi charts/ceph-csi-rbd (3.12.2): values.yaml driverName, templates/secret.yaml (userID, userKey),
// templates/provisioner-deployment.yaml (a required pod anti-affinity per provisioner replica), values.yaml
// provisioner.replicaCount 3.
const CEPH_CSI_DRIVER = "rbd.csi.ceph.com";
const CEPH_CSI_DEFAULT_PROVISIONERS = 3;
const CEPH_CSI_SECRET_PARAMETERS = ["provisioner", "controller-expand", "node-stage"];

export class RuleViolation extends Error {}

interface LonghornNode {
  name: string;
  /** Bytes of the disk Longhorn uses: the VM's disk with serial "longhorn", else its boot disk. */
  maximum: number;
  scheduled: number;
}

// biome-ignore lint/suspicious/noExplicitAny: provider inputs are untyped property bags on the wire; each rule reads the fields it checks.
type Inputs = Record<string, any>;

/** One mock cluster: what exists on it, and who (stack/resource) made each thing that must be unique. */
export class StrictNode {
  /** The stack whose resources are being registered: set by the test before each declaration. */
  stack = "test";
  readonly violations: string[] = [];
  /** Record violations without refusing: for a test that declares a whole stack expected to break a rule. */
  recordOnly = false;
  private readonly owners = new Map<string, string>();
  /** Every storage by id: its pve-storage type and the content types it is set to take. */
  private readonly storages = new Map<string, { type: string; contents: string[] }>(Object.entries(BUILT_IN_STORAGES));
  /** Storages restricted to some nodes (a storage's `nodes`); the others are on every node. */
  private readonly storageNodes = new Map<string, string[]>();
  private readonly longhornNodes: LonghornNode[] = [];
  /** Every VM admitted, by vmId: its inputs as the provider got them. */
  readonly vms = new Map<string, Inputs>();
  private readonly replicasByClass = new Map<string, number>();
  /** RBD storages the user made (pveceph), by id: their pool and whether they map images with krbd. */
  private readonly rbdStorages = new Map<string, { pool: string; krbd: boolean }>();
  /** Storages with `disable` set in storage.cfg. */
  private readonly disabledStorages = new Set<string>();
  /** ceph-csi's clusters (its config.json, from the chart's csiConfig), by clusterID. */
  private readonly cephCsiClusters = new Set<string>();
  /** Secrets, "namespace/name", with their keys. */
  private readonly secrets = new Map<string, string[]>();
  /** The k3s nodes, for the ceph-csi provisioner's anti-affinity. */
  private k3sNodes = 0;

  /**
   * `pveversion`'s release, e.g. 8.4.1, and the cluster's nodes. The built-in storages are each node's own
   * (`local` a dir storage, `local-zfs` its rpool, neither shared): a file on one is on that node only.
   */
  constructor(
    readonly version = "9.1.1",
    readonly nodes: string[] = ["pve"],
  ) {}

  /** An RBD storage the user made before layerbench (Datacenter > Storage, or pveceph pool create --add_storages). */
  addRbdStorage(id: string, storage: { pool: string; krbd: boolean; disabled?: boolean }): void {
    this.storages.set(id, { type: "rbd", contents: RBD_CONTENTS });
    this.rbdStorages.set(id, storage);
    if (storage.disabled) this.disabledStorages.add(id);
  }

  /**
   * A storage the user made (Datacenter > Storage > Add), or an ext4 install's local-lvm: its type and the content
   * types it is set to take, each one its plugin allows.
   */
  addStorage(id: string, type: keyof typeof CONTENTS, contents: string[]): void {
    const refused = contents.find((content) => !CONTENTS[type].includes(content));
    if (refused) throw new Error(`a ${type} storage cannot take content ${refused} (its plugin's plugindata)`);
    this.storages.set(id, { type, contents });
  }

  /** The release's major number: 9 for Proxmox VE 9. */
  get major(): number {
    return Number(this.version.split(".")[0]);
  }

  /** The VM one of whose disks has this serial. */
  vmWithDisk(serial: string): Inputs | undefined {
    return [...this.vms.values()].find((vm) => (vm.disks ?? []).some((disk: Inputs) => disk.serial === serial));
  }

  /**
   * How a replacement would go. A VM's vmId is fixed; bpg's proxmoxtf/resource/vm/vm.go marks
   * initialization.user_data_file_id (and vm_id, node_name) ForceNew, and Pulumi's default replacement creates the
   * new VM before deleting the old one, which qemu-server refuses ("config file already exists",
   * src/PVE/API2/Qemu.pm). So a VM must be deleted before its replacement is made.
   */
  replacementProblem(type: string, name: string, deleteBeforeReplace: boolean): string | undefined {
    if (type !== "proxmoxve:index/vmLegacy:VmLegacy" || deleteBeforeReplace) return undefined;
    const message = `${name} (${type}): its vmId is fixed, so a replacement (a new user data file, vm.go ForceNew) must delete the old VM first: set deleteBeforeReplace`;
    this.violations.push(message);
    return this.recordOnly ? undefined : message;
  }

  /** Checks one registration; a broken rule is recorded and thrown, as the provider or Proxmox would fail it. */
  admit(type: string, name: string, inputs: Inputs): void {
    const problem = this.problem(type, name, inputs);
    if (problem === undefined) return;
    const message = `${name} (${type}): ${problem}`;
    this.violations.push(message);
    if (!this.recordOnly) throw new RuleViolation(message);
  }

  private problem(type: string, name: string, inputs: Inputs): string | undefined {
    switch (type) {
      case "proxmoxve:index/vmLegacy:VmLegacy":
        return this.vm(name, inputs);
      case "proxmoxve:storage/zfspool:Zfspool":
        return this.zfsStorage(name, inputs);
      case "proxmoxve:download/file:File":
        return this.download(name, inputs);
      case "proxmoxve:index/fileLegacy:FileLegacy":
        return this.snippet(name, inputs);
      case "kubernetes:storage.k8s.io/v1:StorageClass":
        return inputs.provisioner === CEPH_CSI_DRIVER ? this.cephStorageClass(inputs) : this.storageClass(inputs);
      case "kubernetes:helm.sh/v3:Release":
        return inputs.chart === "ceph-csi-rbd" ? this.cephCsiRelease(inputs) : undefined;
      case "kubernetes:core/v1:Secret":
        this.secrets.set(
          `${inputs.metadata?.namespace}/${inputs.metadata?.name}`,
          Object.keys({ ...revealed(inputs.data), ...revealed(inputs.stringData) }),
        );
        return undefined;
      case "kubernetes:core/v1:PersistentVolumeClaim":
        return this.claim(inputs);
      default:
        return undefined;
    }
  }

  /** Something unique in the cluster: a second owner is refused. */
  private claimUnique(key: string, name: string, refusal: string): string | undefined {
    const owner = `${this.stack}/${name}`;
    const existing = this.owners.get(key);
    if (existing !== undefined && existing !== owner) return `${refusal} (made by ${existing})`;
    this.owners.set(key, owner);
    return undefined;
  }

  /** pve-cluster src/PVE/Cluster.pm check_node_exists: the API's /nodes/{node} paths take members only. */
  private nodeProblem(node: unknown): string | undefined {
    return typeof node === "string" && this.nodes.includes(node) ? undefined : `no such cluster node '${String(node)}'`;
  }

  private vm(name: string, inputs: Inputs): string | undefined {
    const nodeProblem = this.nodeProblem(inputs.nodeName);
    if (nodeProblem) return nodeProblem;
    const vmId = String(inputs.vmId);
    if (!VM_ID.test(vmId)) return `vmId ${vmId}: value does not look like a valid VM ID (pve-common pve_verify_vmid)`;
    const cores = inputs.cpu?.cores;
    if (cores !== undefined && !(Number.isInteger(cores) && cores >= CORES[0] && cores <= CORES[1]))
      return `cpu.cores ${cores}: expected to be in the range (${CORES[0]} - ${CORES[1]}) (vm.go)`;
    const memory = inputs.memory?.dedicated;
    if (memory !== undefined && !(Number.isInteger(memory) && memory >= MEMORY_MB[0] && memory <= MEMORY_MB[1]))
      return `memory.dedicated ${memory}: expected to be in the range (${MEMORY_MB[0]} - ${MEMORY_MB[1]}) (vm.go)`;
    const disks: Inputs[] = inputs.disks ?? [];
    if (disks.length > MAX_DISKS)
      return `${disks.length} disks: the provider allows at most ${MAX_DISKS} (disk/schema.go MaxItems)`;
    if (inputs.scsiHardware !== undefined && !SCSI_HARDWARE.includes(inputs.scsiHardware))
      return `scsiHardware ${inputs.scsiHardware} is not one of ${SCSI_HARDWARE.join(", ")}`;
    const seen = new Set<string>();
    for (const disk of disks) {
      const slot = String(disk.interface);
      if (!INTERFACE.test(slot))
        return `disk interface ${slot} does not exist (qemu-server Drive.pm: ide0-3, sata0-5, scsi0-30, virtio0-15)`;
      if (seen.has(slot)) return `disk interface ${slot} is used twice`;
      seen.add(slot);
      if (disk.cache !== undefined && !CACHE_MODES.includes(disk.cache))
        return `${slot}: cache ${disk.cache} is not one of ${CACHE_MODES.join(", ")}`;
      if (disk.aio !== undefined && !AIO_MODES.includes(disk.aio))
        return `${slot}: aio ${disk.aio} is not one of ${AIO_MODES.join(", ")}`;
      if (disk.discard !== undefined && !DISCARD_MODES.includes(disk.discard))
        return `${slot}: discard ${disk.discard} is not one of ${DISCARD_MODES.join(", ")}`;
      if (slot.startsWith("virtio") && disk.ssd !== undefined)
        return `${slot}: virtio-blk disks have no ssd option (qemu-server Drive.pm virtio_fmt)`;
      if (disk.serial !== undefined && !SERIAL.test(disk.serial))
        return `${slot}: serial ${JSON.stringify(disk.serial)} is not up to 20 url-safe bytes`;
      const storage = this.storages.get(disk.datastoreId);
      if (!storage) return `${slot}: storage '${disk.datastoreId}' does not exist`;
      if (!storage.contents.includes("images"))
        return `${slot}: storage '${disk.datastoreId}' does not support vm images`;
      // pve-storage src/PVE/Storage.pm storage_check_enabled.
      if (this.disabledStorages.has(disk.datastoreId)) return `${slot}: storage '${disk.datastoreId}' is disabled`;
      // The provider's file_format is Computed: sent as given, else the storage's default (raw everywhere here).
      if (disk.fileFormat !== undefined && !FORMATS[storage.type]?.includes(disk.fileFormat))
        return `${slot}: unsupported format '${disk.fileFormat}' for storage type ${storage.type}`;
      // pve-storage src/PVE/Storage.pm storage_check_node.
      if (!(this.storageNodes.get(disk.datastoreId) ?? [inputs.nodeName]).includes(inputs.nodeName))
        return `${slot}: storage '${disk.datastoreId}' is not available on node '${inputs.nodeName}'`;
    }
    const owned = this.claimUnique(
      `vm:${vmId}`,
      name,
      `unable to create VM ${vmId}: config file already exists (qemu-server API2/Qemu.pm)`,
    );
    if (owned) return owned;
    this.vms.set(vmId, inputs);
    if (/^k3s-node-\d+-vm$/.test(name)) this.k3sNodes += 1;
    if (/^k3s-node-\d+-vm$/.test(name)) {
      const longhornDisk = disks.find((disk) => disk.serial === "longhorn") ?? disks[0];
      this.longhornNodes.push({ name: inputs.name, maximum: Number(longhornDisk.size) * GiB, scheduled: 0 });
    }
    return undefined;
  }

  private zfsStorage(name: string, inputs: Inputs): string | undefined {
    const id = String(inputs.resourceId);
    if (!STORAGE_ID.test(id)) return `storage ID '${id}' contains illegal characters (pve-common parse_storage_id)`;
    // pve-storage src/PVE/API2/Storage/Config.pm: storage ids are cluster-wide.
    const owned = this.claimUnique(`storage:${id}`, name, `storage ID '${id}' already defined`);
    if (owned) return owned;
    this.storages.set(id, { type: "zfspool", contents: inputs.contents ?? ["images"] });
    if (Array.isArray(inputs.nodes)) this.storageNodes.set(id, inputs.nodes);
    return undefined;
  }

  private fileOnDatastore(
    name: string,
    node: unknown,
    datastore: string,
    contentType: string,
    fileName: string,
  ): string | undefined {
    const nodeProblem = this.nodeProblem(node);
    if (nodeProblem) return nodeProblem;
    const contents = this.storages.get(datastore)?.contents;
    if (contents === undefined) return `storage '${datastore}' does not exist`;
    if (!contents.includes(contentType))
      return `storage '${datastore}' does not allow content type '${contentType}': enable it in Datacenter > Storage`;
    // fwprovider/nodes/resource_download_file.go and proxmoxtf/resource/file.go: "File already exists".
    // The datastores are the node's own: the same file name on another node is another file.
    return this.claimUnique(
      `file:${String(node)}:${datastore}:${contentType}/${fileName}`,
      name,
      `file ${datastore}:${contentType}/${fileName} already exists`,
    );
  }

  private download(name: string, inputs: Inputs): string | undefined {
    if (inputs.contentType === "import" && compareVersions(this.version, "8.4") < 0) {
      // docs/resources/virtual_environment_download_file.md: PVE before 8.4 refuses .qcow2/.raw files ("wrong file extension").
      return `content type import needs Proxmox VE 8.4 or later; this node runs ${this.version}`;
    }
    return this.fileOnDatastore(name, inputs.nodeName, inputs.datastoreId, inputs.contentType, inputs.fileName);
  }

  private snippet(name: string, inputs: Inputs): string | undefined {
    return this.fileOnDatastore(
      name,
      inputs.nodeName,
      inputs.datastoreId,
      inputs.contentType,
      inputs.sourceRaw?.fileName,
    );
  }

  /** ceph-csi's chart: a cluster per csiConfig entry (clusterID and monitors both required), provisioners that fit the nodes. */
  private cephCsiRelease(inputs: Inputs): string | undefined {
    const clusters: Inputs[] = inputs.values?.csiConfig ?? [];
    for (const cluster of clusters) {
      if (typeof cluster.clusterID !== "string" || !Array.isArray(cluster.monitors) || cluster.monitors.length === 0)
        return "csiConfig entry without clusterID and monitors: ceph-csi cannot reach the cluster";
      this.cephCsiClusters.add(cluster.clusterID);
    }
    const provisioners = inputs.values?.provisioner?.replicaCount ?? CEPH_CSI_DEFAULT_PROVISIONERS;
    if (provisioners > this.k3sNodes)
      return `provisioner.replicaCount ${provisioners} with ${this.k3sNodes} k3s nodes: each provisioner pod requires a node of its own (templates/provisioner-deployment.yaml), the others stay Pending`;
    return undefined;
  }

  /** A ceph-csi StorageClass: a cluster the driver knows, a pool an RBD storage uses, secrets that exist with userID and userKey. */
  private cephStorageClass(inputs: Inputs): string | undefined {
    const parameters: Inputs = inputs.parameters ?? {};
    if (!this.cephCsiClusters.has(parameters.clusterID))
      return `clusterID ${parameters.clusterID} is not in ceph-csi's csiConfig: the driver cannot find its monitors`;
    const pools = [...this.rbdStorages.values()].map((storage) => storage.pool);
    if (!pools.includes(parameters.pool))
      return `pool ${parameters.pool} is not a pool of the cluster's RBD storages (${pools.join(", ") || "none"})`;
    for (const secret of CEPH_CSI_SECRET_PARAMETERS) {
      const where = `${parameters[`csi.storage.k8s.io/${secret}-secret-namespace`]}/${parameters[`csi.storage.k8s.io/${secret}-secret-name`]}`;
      const keys = this.secrets.get(where);
      if (!keys) return `${secret}-secret ${where} does not exist`;
      if (!keys.includes("userID") || !keys.includes("userKey"))
        return `${secret}-secret ${where} lacks userID or userKey (the chart's templates/secret.yaml)`;
    }
    if (!/lazy_itable_init=0/.test(parameters.mkfsOptions ?? ""))
      return "ext4 without lazy_itable_init=0 in mkfsOptions: ceph-csi's default (internal/rbd/nodeserver.go) leaves the inode tables to ext4lazyinit, which writes while fio measures";
    return undefined;
  }

  private storageClass(inputs: Inputs): string | undefined {
    if (inputs.provisioner !== "driver.longhorn.io") return undefined;
    // longhorn-manager csi/node_server.go: ext4 (the default fsType) is made with "-b4096" plus mkfsParams; without
    // lazy_itable_init=0 a kernel thread writes the inode tables while the volume is measured.
    const fsType = inputs.parameters?.fsType ?? "ext4";
    if (fsType === "ext4" && !/lazy_itable_init=0/.test(inputs.parameters?.mkfsParams ?? ""))
      return `ext4 without mkfsParams "-E lazy_itable_init=0,lazy_journal_init=0": ext4lazyinit would write inode tables while fio measures (csi/node_server.go)`;
    const replicas = Number(inputs.parameters?.numberOfReplicas);
    if (replicas > this.longhornNodes.length) {
      return `numberOfReplicas ${replicas} with ${this.longhornNodes.length} nodes: replica-soft-anti-affinity is false by default, one replica per node`;
    }
    this.replicasByClass.set(inputs.metadata?.name, replicas);
    return undefined;
  }

  /**
   * longhorn-manager scheduler/replica_scheduler.go IsSchedulableToDisk: a replica fits a disk while
   * size + scheduled <= (maximum - reserved) x over-provisioning; each replica of a volume on another node. The
   * worst case for locality: replicas go to the first node (the fio pod's) first.
   */
  private claim(inputs: Inputs): string | undefined {
    const replicas = this.replicasByClass.get(inputs.spec?.storageClassName);
    if (replicas === undefined) return undefined;
    const size = parseQuantity(inputs.spec.resources.requests.storage);
    const limit = (node: LonghornNode) =>
      ((node.maximum * (100 - LONGHORN_RESERVED_PERCENT)) / 100) * (LONGHORN_OVER_PROVISIONING_PERCENT / 100);
    const candidates = this.longhornNodes.filter((node) => size + node.scheduled <= limit(node));
    if (candidates.length < replicas) {
      const state = this.longhornNodes
        .map(
          (node) =>
            `${node.name}: ${(node.scheduled / GiB).toFixed(0)} of ${(limit(node) / GiB).toFixed(0)} GiB scheduled`,
        )
        .join("; ");
      return `Longhorn cannot schedule ${replicas} replicas of ${(size / GiB).toFixed(0)} GiB (${state})`;
    }
    for (const node of candidates.slice(0, replicas)) node.scheduled += size;
    return undefined;
  }
}

/** A value the program sent as a Pulumi secret arrives wrapped (the SDK's secret signature): the rules read what is inside. */
function revealed(value: unknown): Inputs {
  const wrapped = value as Inputs | undefined;
  return (wrapped && "value" in wrapped && Object.keys(wrapped).length === 2 ? wrapped.value : wrapped) ?? {};
}

function compareVersions(a: string, b: string): number {
  const [x, y] = [a, b].map((version) => version.split(".").map(Number));
  for (let index = 0; index < Math.max(x.length, y.length); index += 1) {
    const difference = (x[index] ?? 0) - (y[index] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

function parseQuantity(text: string): number {
  const match = /^(\d+)(Gi|Mi)$/.exec(text);
  if (!match) throw new Error(`unexpected storage request ${text}`);
  return Number(match[1]) * (match[2] === "Gi" ? GiB : 1024 ** 2);
}
