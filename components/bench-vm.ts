import { createHash } from "node:crypto";
import * as proxmoxve from "@muhlba91/pulumi-proxmoxve";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { stringify } from "yaml";
import type { NodeNames } from "../bench/config/node-names.js";
import type { VmSettings } from "../bench/config/vm-settings.js";
import { guestAddressScript, restartVmScript } from "../bench/remote/node-scripts.js";
import { diskStorageId, type StorageSettings } from "../bench/storage/placement.js";
import { diskSlots, type VmDiskVariant } from "../bench/variants/vm-variants.js";
import { dataDisk, scsiHardware } from "./disks.js";

/** What a guest is for: what cloud-init installs and starts, and what must hold before it is used. */
export interface GuestRole {
  description: string;
  packages: string[];
  /** systemd units enabled and started by cloud-init. */
  services: string[];
  /** Shell lines run after cloud-init, each failing with a message that says what is missing. */
  checks: string[];
  /** More cloud-config, e.g. a data disk's file system and mount. */
  cloudConfig?: Record<string, unknown>;
}

/** The bench VM: fio and the guest agent. */
export const FIO_GUEST: GuestRole = {
  description: "layerbench bench VM: one data disk per VirtIO variant (serial = variant id). Managed by Pulumi.",
  packages: ["fio", "qemu-guest-agent"],
  services: ["qemu-guest-agent"],
  checks: [
    'command -v fio >/dev/null || { echo "layerbench: fio is missing in the guest: cloud-init could not install it (network or apt mirror?)" >&2; exit 1; }',
    "fio --version",
  ],
};

export interface BenchVmArgs {
  node: string;
  settings: VmSettings;
  variants: VmDiskVariant[];
  role: GuestRole;
  /** Disks besides the boot disk and the variants' (e.g. the k3s nodes' disk for Longhorn). */
  extraDisks?: proxmoxve.types.input.VmLegacyDisk[];
  names: NodeNames;
  /** A new run id looks the guest's address up again (a DHCP lease may have changed in between). */
  runId: string;
  /** The cloud image (a download.File id), shared by every VM of the stack. */
  image: pulumi.Input<string>;
  /** The node: the guest is reached through it, so the guest's network need not be routable from here. */
  nodeConnection: pulumi.Input<command.types.input.remote.ConnectionArgs>;
  privateKey: pulumi.Input<string>;
  /** The storages the data disks live on; the VM goes before them on destroy. */
  storages: pulumi.Resource[];
  /** The storages the stack names (Ceph's, layerbench:storages), for variants whose disk lives there. */
  placement?: StorageSettings;
  /** What must be done before the VM is made, e.g. measurements its boot would disturb. */
  after?: pulumi.Resource[];
}

/**
 * The cloud image a node's VMs boot, downloaded to its file datastore (`local` is each node's own), kept as it is
 * on later updates.
 */
export function guestImage(
  name: string,
  args: { node: string; fileDatastore: string; imageUrl: string; names: NodeNames },
  opts: pulumi.CustomResourceOptions,
): proxmoxve.download.File {
  return new proxmoxve.download.File(
    name,
    {
      nodeName: args.node,
      datastoreId: args.fileDatastore,
      contentType: "import",
      url: args.imageUrl,
      fileName: args.names.imageFile(args.imageUrl),
      overwrite: false,
    },
    opts,
  );
}

/** cloud-init user data: the login user with the bench key, the role's packages and services. */
export function cloudInitUserData(settings: VmSettings, role: GuestRole): string {
  const userData = {
    hostname: settings.name,
    users: [
      {
        name: settings.user,
        sudo: "ALL=(ALL) NOPASSWD:ALL",
        shell: "/bin/bash",
        ssh_authorized_keys: [settings.sshPublicKey],
      },
    ],
    package_update: true,
    packages: role.packages,
    runcmd: role.services.map((service) => ["systemctl", "enable", "--now", service]),
    ...role.cloudConfig,
  };
  // lineWidth 0: keys stay on one line, as in authorized_keys, however long.
  return `#cloud-config\n${stringify(userData, { lineWidth: 0 })}`;
}

/**
 * Waits for cloud-init, then the role's checks; cloud-init's exit 2 is "done, with warnings" and still usable. It
 * runs as the cloud-init user, whose PATH from sshd has no sbin on Debian 13 (/usr/local/bin:/usr/bin:/bin:
 * /usr/games, sshd's compiled default for users other than root), where mount.nfs4 and modinfo live: the checks
 * get sbin too.
 */
export function guestReadyScript(role: GuestRole): string {
  return [
    "set -u",
    'PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"',
    "cloud-init status --wait >/dev/null",
    "status=$?",
    'if [ "$status" -ne 0 ] && [ "$status" -ne 2 ]; then echo "layerbench: cloud-init failed in the guest (exit $status): see /var/log/cloud-init-output.log" >&2; exit 1; fi',
    ...role.checks,
    "",
  ].join("\n");
}

/** The VM as bpg's provider takes it: a boot disk imported from the image, the variants' disks, cloud-init. */
function vmLegacyArgs(
  args: BenchVmArgs,
  dataDisks: proxmoxve.types.input.VmLegacyDisk[],
  userDataFileId: pulumi.Input<string>,
): proxmoxve.VmLegacyArgs {
  const { settings, node } = args;
  return {
    nodeName: node,
    vmId: settings.vmId,
    name: settings.name,
    description: args.role.description,
    tags: ["layerbench"],
    agent: { enabled: true },
    cpu: { cores: settings.cores, type: "host" },
    memory: { dedicated: settings.memoryMb },
    operatingSystem: { type: "l26" },
    scsiHardware: scsiHardware(args.variants),
    disks: [
      {
        interface: "virtio0",
        datastoreId: settings.bootDatastore,
        importFrom: args.image,
        size: settings.bootSizeGb,
        iothread: true,
        discard: "on",
      },
      ...dataDisks,
    ],
    networkDevices: [{ bridge: settings.bridge, model: "virtio" }],
    initialization: {
      datastoreId: settings.bootDatastore,
      ipConfigs: [
        {
          ipv4: settings.ip === "dhcp" ? { address: "dhcp" } : { address: settings.ip, gateway: settings.gateway },
        },
      ],
      userDataFileId,
    },
    started: true,
    onBoot: false,
    stopOnDestroy: true,
  };
}

/** SSH to the guest as its cloud-init user, through the node: a secret, for it holds the private key. */
function guestConnection(
  address: pulumi.Output<string>,
  args: BenchVmArgs,
): pulumi.Output<command.types.input.remote.ConnectionArgs> {
  return pulumi.secret(
    pulumi.all([address, args.privateKey, args.nodeConnection]).apply(([host, privateKey, proxy]) => ({
      host,
      user: args.settings.user,
      privateKey,
      proxy: proxy as command.types.input.remote.ProxyConnectionArgs,
      // The guest boots and installs packages first: keep dialling for several minutes.
      dialErrorLimit: 60,
      perDialTimeout: 10,
    })),
  );
}

/** One VM whose data disks are the variants, each with its own options and a serial naming it. */
export class BenchVm extends pulumi.ComponentResource {
  readonly vm: proxmoxve.VmLegacy;
  readonly address: pulumi.Output<string>;
  readonly connection: pulumi.Output<command.types.input.remote.ConnectionArgs>;
  /** Done when cloud-init has finished and the role's checks pass. */
  readonly ready: command.remote.Command;

  constructor(name: string, args: BenchVmArgs, opts?: pulumi.ComponentResourceOptions) {
    super("layerbench:proxmox:BenchVm", name, {}, opts);
    const { settings, node } = args;
    const userDataText = cloudInitUserData(settings, args.role);
    // Named by its content: a new snippet never has the old one's path, so deleting the old one after the
    // replacement (Pulumi's default order) cannot delete the file the VM boots with.
    const userData = new proxmoxve.FileLegacy(
      `${name}-user-data`,
      {
        nodeName: node,
        datastoreId: settings.fileDatastore,
        contentType: "snippets",
        sourceRaw: { data: userDataText, fileName: args.names.snippetFile(settings.vmId, userDataText) },
      },
      { parent: this },
    );
    const interfaces = diskSlots(args.variants);
    const dataDisks = [
      ...args.variants.map((variant) =>
        dataDisk(
          variant,
          interfaces.get(variant.id) ?? "",
          diskStorageId(variant, args.names, args.placement ?? { storages: {} }),
        ),
      ),
      ...(args.extraDisks ?? []),
    ];
    this.vm = new proxmoxve.VmLegacy(
      `${name}-vm`,
      vmLegacyArgs(args, dataDisks, userData.id),
      // The vmId is fixed and Proxmox refuses a second VM with it, while Pulumi's default replacement creates the
      // new VM before deleting the old one: a change of user data (user_data_file_id is ForceNew in bpg's
      // proxmoxtf/resource/vm/vm.go) would fail. Delete first.
      { parent: this, dependsOn: [...args.storages, ...(args.after ?? [])], deleteBeforeReplace: true },
    );
    // Nothing on creation (the VM boots with all its disks); when the data disks change, the VM is stopped and
    // started so that each disk runs with its own options and serial (restartVmScript says why).
    const diskSet = pulumi
      .output(dataDisks)
      .apply((disks) => createHash("sha256").update(JSON.stringify(disks)).digest("hex").slice(0, 16));
    const restarted = new command.remote.Command(
      `${name}-disks`,
      {
        connection: args.nodeConnection,
        create: "true",
        update: restartVmScript(settings.vmId),
        environment: { LAYERBENCH_DISKS: diskSet },
      },
      { parent: this, dependsOn: [this.vm], customTimeouts: { update: "20m" } },
    );
    // Asked of the agent through the node once per run id, not taken from the VM's ipv4Addresses: those change
    // on a refresh, and every Command connecting to the guest would then be replaced, re-running its measurement.
    this.address =
      settings.ip === "dhcp"
        ? new command.remote.Command(
            `${name}-address`,
            {
              connection: args.nodeConnection,
              create: guestAddressScript(settings.vmId),
              // A restart may bring a new DHCP lease: asked again when the disks change, as for a new run id.
              triggers: [args.runId, diskSet],
            },
            { parent: this, dependsOn: [this.vm, restarted], customTimeouts: { create: "20m" } },
          ).stdout.apply((stdout) => stdout.trim().split("\n").pop() ?? "")
        : pulumi.output(settings.ip.split("/")[0]);
    this.connection = guestConnection(this.address, args);
    this.ready = new command.remote.Command(
      `${name}-ready`,
      { connection: this.connection, create: guestReadyScript(args.role) },
      { parent: this, dependsOn: [this.vm, restarted], customTimeouts: { create: "20m" } },
    );
    this.registerOutputs({ address: this.address });
  }
}
