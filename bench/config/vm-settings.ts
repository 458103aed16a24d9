import type { VmDiskVariant } from "../variants/vm-variants.js";

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
