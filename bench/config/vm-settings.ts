import { z } from "zod";
import type { VmDiskVariant } from "../variants/vm-variants.js";
import { NAME, validCidr } from "./schema-parts.js";

/** The guests' image: Debian 13, the release of Proxmox VE 9 (its fio is the host's). */
const DEBIAN_CLOUD_IMAGE = "https://cloud.debian.org/images/cloud/trixie/latest/debian-13-genericcloud-amd64.qcow2";

/** layerbench:vm: the VM that holds the variants' disks (and what the k3s VMs start from). */
export const VmSchema = z
  .object({
    vmId: z.number().int().min(100).max(999_999_999).default(9100),
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9-]*$/, "use letters, digits and '-'")
      .default("layerbench"),
    cores: z.number().int().min(1).default(4),
    memoryMb: z.number().int().min(512).default(4096),
    bootDatastore: z.string().regex(NAME).default("local-zfs"),
    bootSizeGb: z.number().int().min(4).default(8),
    fileDatastore: z.string().regex(NAME).default("local"),
    imageUrl: z
      .url()
      .refine(
        (value) => /\.(qcow2|raw|vmdk)$/.test(new URL(value).pathname),
        "Proxmox imports .qcow2, .raw or .vmdk disk images (a Debian genericcloud .qcow2, say)",
      )
      // Proxmox VE 9 runs on Debian 13: the guests install the same fio as the host (on 8.4, Debian 12's image).
      .default(DEBIAN_CLOUD_IMAGE),
    bridge: z.string().regex(NAME).default("vmbr0"),
    ip: z
      .string()
      .refine(
        (value) => value === "dhcp" || validCidr(value),
        "use dhcp or an IPv4 address with prefix length, e.g. 192.168.1.50/24",
      )
      .default("dhcp"),
    gateway: z.ipv4().optional(),
    user: z
      .string()
      .regex(/^[a-z_][a-z0-9_-]*$/, "use a Linux user name")
      .default("layerbench"),
    sshPublicKey: z
      .string()
      .regex(/^(ssh-|ecdsa-)\S+ \S+/, "use an OpenSSH public key line, e.g. ssh-ed25519 AAAA... you@host"),
  })
  .strict();

/** A VM of the stack: layerbench:vm, or the k3s VMs' settings built from it. */
export interface VmSettings {
  vmId: number;
  name: string;
  cores: number;
  memoryMb: number;
  /** Storage of the boot disk (any type). */
  bootDatastore: string;
  bootSizeGb: number;
  /** Directory storage that takes the cloud image ("import" content) and the cloud-init snippet ("snippets"). */
  fileDatastore: string;
  imageUrl: string;
  bridge: string;
  /** "dhcp", or an address with prefix length such as 192.168.1.50/24 (the next VMs take the next addresses). */
  ip: string;
  gateway?: string;
  user: string;
  sshPublicKey: string;
}

/** The settings of the index-th of several VMs: next vmId, numbered name, next static address. */
export function nthVmSettings(settings: VmSettings, index: number, count: number): VmSettings {
  if (count === 1) return settings;
  const ip =
    settings.ip === "dhcp"
      ? "dhcp"
      : settings.ip.replace(
          /^(\d+\.\d+\.\d+\.)(\d+)/,
          (_, prefix: string, last: string) => `${prefix}${Number(last) + index}`,
        );
  return { ...settings, vmId: settings.vmId + index, name: `${settings.name}-${index + 1}`, ip };
}

/** The settings of the VM that holds a group of variants: the index-th VM, at the size its variants ask for. */
export function groupVmSettings(
  settings: VmSettings,
  variants: Array<Pick<VmDiskVariant, "memoryMb" | "cores">>,
  index: number,
  count: number,
): VmSettings {
  const nth = nthVmSettings(settings, index, count);
  const [first] = variants;
  return { ...nth, memoryMb: first?.memoryMb ?? nth.memoryMb, cores: first?.cores ?? nth.cores };
}
