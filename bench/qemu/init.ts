// The guest's /init (busybox sh, PID 1). It loads the virtio modules, names each data disk by its serial in
// /dev/disk/by-id as udev would (so the fio script is the one the Proxmox guest runs), runs the variants'
// scripts in order between markers on the serial console, and powers off.

export const GUEST_MARKER = "@@layerbench-guest";

export const GUEST_INIT = `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/disk/by-id /tmp
for module in $(cat /layerbench/modules); do
  insmod "/lib/modules/$module.ko" || echo "layerbench: insmod $module failed" >&2
done
echo "${GUEST_MARKER} ready"
if grep -q layerbench.probe /proc/cmdline; then poweroff -f; fi
expected=$(wc -l < /layerbench/variants)
tries=0
while :; do
  for disk in /sys/block/vd*; do
    [ -r "$disk/serial" ] && ln -sf "/dev/\${disk##*/}" "/dev/disk/by-id/virtio-$(cat "$disk/serial")"
  done
  for disk in /sys/block/sd*; do
    # VPD page 0x80: a 4-byte header, then the serial.
    [ -r "$disk/device/vpd_pg80" ] && ln -sf "/dev/\${disk##*/}" "/dev/disk/by-id/scsi-0QEMU_QEMU_HARDDISK_$(tail -c +5 "$disk/device/vpd_pg80" | tr -d '\\000 ')"
  done
  [ "$(ls /dev/disk/by-id | wc -l)" -ge "$expected" ] && break
  tries=$((tries + 1))
  if [ "$tries" -ge 100 ]; then echo "layerbench: only $(ls /dev/disk/by-id | wc -l) of $expected disks appeared" >&2; break; fi
  sleep 0.1
done
while read -r number variant; do
  echo "${GUEST_MARKER} variant $variant"
  sh "/layerbench/run-$number.sh"
done < /layerbench/variants
echo "${GUEST_MARKER} done"
poweroff -f
`;
