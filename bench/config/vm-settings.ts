import type { VmDiskVariant } from "../variants/vm-variants.js";
import type { VmSettings } from "./stack-config.js";

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
