import { cephCsiRules } from "./strict-rules/ceph-csi.js";
import { longhornRules } from "./strict-rules/longhorn.js";
import type { ClusterView, Inputs, RuleModule } from "./strict-rules/module.js";
import { openebsRules } from "./strict-rules/openebs.js";

// A Proxmox VE cluster and the Kubernetes products on it as strict as the real ones, for the Pulumi mocks: every
// resource the program registers is checked against the rules of the real side that the program depends on,
// each named with the source it comes from. Mocks accept anything; a real node does not. Proxmox's rules are
// here; each Kubernetes product's are a module of strict-rules/, found by its provisioner or chart.

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
// k3s ships local-path-provisioner and its StorageClass, local-path (manifests/local-storage.yaml).
const K3S_STORAGE_CLASSES = ["local-path"];

export class RuleViolation extends Error {}

export type { RuleModule } from "./strict-rules/module.js";

interface K3sNode {
  name: string;
  /** Bytes of the disk Longhorn would use: the VM's disk with serial "longhorn", else its boot disk. */
  longhornDiskBytes: number;
}

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
  /** The k3s nodes by VM name: a VM declared again is the same node. */
  private readonly k3sNodes = new Map<string, K3sNode>();
  /** Every VM admitted, by vmId: its inputs as the provider got them. */
  readonly vms = new Map<string, Inputs>();
  /** RBD storages the user made (pveceph), by id: their pool and whether they map images with krbd. */
  private readonly rbdStorages = new Map<string, { pool: string; krbd: boolean }>();
  /** Storages with `disable` set in storage.cfg. */
  private readonly disabledStorages = new Set<string>();
  /** Secrets, "namespace/name", with their keys. */
  private readonly secrets = new Map<string, string[]>();
  /** The products whose StorageClasses and charts the cluster takes: what none of them knows is refused. */
  private readonly modules: RuleModule[] = [longhornRules(), cephCsiRules(), openebsRules()];
  /** The StorageClasses made, with the module that knows each (k3s's own known to no module). */
  private readonly classes = new Map<string, RuleModule | undefined>(
    K3S_STORAGE_CLASSES.map((name) => [name, undefined]),
  );
  private readonly view: ClusterView = {
    k3sNodes: () => [...this.k3sNodes.values()],
    rbdPools: () => [...this.rbdStorages.values()].map((storage) => storage.pool),
    secretKeys: (where) => this.secrets.get(where),
  };

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

  /** A product's rules, for a StorageClass or chart of a user's (kind: storageclass) that the built-in modules do not know. */
  register(module: RuleModule): void {
    this.modules.push(module);
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
        return this.storageClass(inputs);
      case "kubernetes:helm.sh/v3:Release":
        return this.release(inputs);
      case "kubernetes:core/v1:Secret":
        this.secrets.set(
          `${inputs.metadata?.namespace}/${inputs.metadata?.name}`,
          Object.keys({ ...revealed(inputs.data), ...revealed(inputs.stringData) }),
        );
        return undefined;
      case "kubernetes:core/v1:PersistentVolumeClaim":
        return this.claim(name, inputs);
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
    if (/^k3s-node-\d+-vm$/.test(name)) {
      const longhornDisk = disks.find((disk) => disk.serial === "longhorn") ?? disks[0];
      this.k3sNodes.set(inputs.name, { name: inputs.name, longhornDiskBytes: Number(longhornDisk.size) * GiB });
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

  /** A StorageClass of a provisioner some module knows, by that module's rules. */
  private storageClass(inputs: Inputs): string | undefined {
    const module = this.modules.find((candidate) => candidate.provisioners.includes(inputs.provisioner));
    if (!module)
      return `provisioner ${inputs.provisioner}: no rule module knows it (test/helpers/strict-rules/): register one with the driver's rules`;
    const problem = module.storageClass?.(inputs, this.view);
    if (problem === undefined) this.classes.set(inputs.metadata?.name, module);
    return problem;
  }

  /** A Helm chart some module knows, by its rules; the classes it makes itself exist from then on. */
  private release(inputs: Inputs): string | undefined {
    const module = this.modules.find((candidate) => candidate.charts.includes(inputs.chart));
    if (!module)
      return `chart ${inputs.chart}: no rule module knows it (test/helpers/strict-rules/): register one with the chart's rules`;
    const problem = module.release?.(inputs, this.view);
    if (problem === undefined) for (const name of module.classesMadeBy?.(inputs) ?? []) this.classes.set(name, module);
    return problem;
  }

  /** A claim on a StorageClass that exists (else it stays Pending for ever), by its module's rules. */
  private claim(name: string, inputs: Inputs): string | undefined {
    const className = inputs.spec?.storageClassName;
    if (!this.classes.has(className))
      return `storageclass.storage.k8s.io "${className}" not found: the claim would stay Pending`;
    return this.classes.get(className)?.claim?.(inputs, className, this.view, `${this.stack}/${name}`);
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
