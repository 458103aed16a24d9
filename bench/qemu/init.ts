// The guest's /init (busybox sh, PID 1). It loads the virtio modules, names each data disk in /dev/disk/by-id as
// a Debian guest's udev does (systemd rules.d/60-persistent-storage.rules: `virtio-$attr{serial}` for virtio-blk;
// for SCSI `scsi-$ID_SERIAL` from Debian's own `scsi_id --export -g -d`, which reads VPD page 0x83; -g is
// --allowlisted since systemd 253, --whitelisted in Debian 12's), prints those names, runs the variants'
// scripts in order between markers on the serial console, and powers off.

export const GUEST_MARKER = "@@layerbench-guest";

/** Where the initramfs keeps Debian's scsi_id (the `udev` package's /usr/lib/udev/scsi_id). */
export const GUEST_SCSI_ID = "/lib/udev/scsi_id";

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
# write() returns once the console's tty holds the text; the serial driver sends it later, and a power-off drops what
# it still holds or prints its own line into it (seen in CI: a loaded host read the console slowly and lost the end
# of fio's JSON). stty sets the console with TCSADRAIN, which waits until all is sent.
power_off() {
  stty -F /dev/console -echo 2>/dev/null
  poweroff -f
}
echo "${GUEST_MARKER} ready"
if grep -q layerbench.probe /proc/cmdline; then power_off; fi
expected=$(wc -l < /layerbench/variants)
tries=0
while [ "$(ls -d /sys/block/vd* /sys/block/sd* 2>/dev/null | wc -l)" -lt "$expected" ]; do
  tries=$((tries + 1))
  if [ "$tries" -ge 100 ]; then echo "layerbench: only $(ls -d /sys/block/vd* /sys/block/sd* 2>/dev/null | wc -l) of $expected disks appeared" >&2; break; fi
  sleep 0.1
done
for disk in /sys/block/vd*; do
  [ -r "$disk/serial" ] && [ -n "$(cat "$disk/serial")" ] && ln -sf "/dev/\${disk##*/}" "/dev/disk/by-id/virtio-$(cat "$disk/serial")"
done
for disk in /sys/block/sd*; do
  [ -e "$disk" ] || continue
  ID_SERIAL=$(${GUEST_SCSI_ID} --export -g -d "/dev/\${disk##*/}" | sed -n 's/^ID_SERIAL=//p')
  [ -n "$ID_SERIAL" ] && ln -sf "/dev/\${disk##*/}" "/dev/disk/by-id/scsi-$ID_SERIAL"
done
for link in /dev/disk/by-id/*; do
  [ -e "$link" ] && echo "${GUEST_MARKER} by-id \${link##*/} $(readlink "$link")"
done
while read -r number variant; do
  echo "${GUEST_MARKER} variant $variant"
  sh "/layerbench/run-$number.sh"
done < /layerbench/variants
echo "${GUEST_MARKER} done"
power_off
`;
