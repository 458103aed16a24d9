import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";

// The cloud-init drive Proxmox VE makes for a VM with cloud-init (qemu-server src/PVE/QemuServer/Cloudinit.pm at
// e6352be, the NoCloud format that Linux guests get): the user data is the snippet the VM names (cicustom user=,
// the provider's user_data_file_id) as it is, the network config comes from ipconfigN and the NIC's MAC
// (nocloud_network), the meta data is the SHA-1 of both as instance-id (nocloud_gen_metadata), the vendor data
// is empty, all four on an ISO labelled cidata (commit_cloudinit_disk's genisoimage).

const run = promisify(execFile);

/** A NIC as the VM declares it and the ipconfig line the provider writes for it. */
export interface NocloudInterface {
  mac: string;
  ipv4: "dhcp" | { address: string; netmask: string; gateway?: string };
}

/** Cloudinit.pm nocloud_network: version 1, one physical eth<N> per NIC by its lower-case MAC. */
export function nocloudNetwork(interfaces: NocloudInterface[]): string {
  let content = "version: 1\nconfig:\n";
  for (const [id, nic] of interfaces.entries()) {
    content += `    - type: physical\n      name: eth${id}\n      mac_address: '${nic.mac.toLowerCase()}'\n      subnets:\n`;
    if (nic.ipv4 === "dhcp") content += "        - type: dhcp4\n";
    else {
      content += `        - type: static\n          address: '${nic.ipv4.address}'\n          netmask: '${nic.ipv4.netmask}'\n`;
      if (nic.ipv4.gateway) content += `          gateway: '${nic.ipv4.gateway}'\n`;
    }
  }
  return content;
}

/** Cloudinit.pm nocloud_gen_metadata. */
export function nocloudMetadata(userData: string, networkConfig: string): string {
  return `instance-id: ${createHash("sha1")
    .update(userData + networkConfig)
    .digest("hex")}\n`;
}

/** The cidata ISO with the four files, made as commit_cloudinit_disk makes it. */
export async function nocloudIso(dir: string, userData: string, interfaces: NocloudInterface[]): Promise<string> {
  const networkConfig = nocloudNetwork(interfaces);
  const files: Record<string, string> = {
    "user-data": userData,
    "network-config": networkConfig,
    "meta-data": nocloudMetadata(userData, networkConfig),
    "vendor-data": "",
  };
  const source = join(dir, "cidata");
  await fs.mkdir(source, { recursive: true });
  for (const [name, content] of Object.entries(files)) await fs.writeFile(join(source, name), content);
  const iso = join(dir, "cloudinit.iso");
  await run("genisoimage", ["-quiet", "-iso-level", "3", "-J", "-R", "-V", "cidata", "-o", iso, source]);
  return iso;
}
