#!/bin/sh
# Installs what layerbench needs (fio; QEMU, a static busybox and udev's scsi_id for local VM targets; the ssh client for
# `layerbench plan --check`) and what its tests need (shellcheck; an OpenSSH server, which the tests start on
# loopback as a stand-in Proxmox node) with the system's package manager, when missing; through sudo only when
# not already root. Nothing is started or enabled. With --tests, also the browser the tests of report.html drive
# (Debian's chromium), a Ceph for the tests of RBD targets (its daemons, started by the tests, and its client tools)
# and what builds the real Debian guest of npm run test:guest (mmdebstrap, genisoimage).
set -eu
missing=""
if [ "${1:-}" = "--tests" ]; then
  command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || missing="$missing chromium"
  # The tests of RBD targets start a real single-node Ceph (test/helpers/local-ceph.sh): monitor, manager, one OSD.
  # RBD targets themselves need Ceph's client tools (rbd, ceph) and QEMU's rbd driver, which `run` asks for.
  for tool in ceph-mon ceph-mgr ceph-osd; do
    command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
  done
  command -v rbd >/dev/null 2>&1 || missing="$missing ceph-common"
  # The real Debian 13 guest (npm run test:guest): its image from Debian's packages, its NoCloud drive.
  command -v mmdebstrap >/dev/null 2>&1 || missing="$missing mmdebstrap"
  command -v genisoimage >/dev/null 2>&1 || missing="$missing genisoimage"
  [ -e /usr/lib/x86_64-linux-gnu/qemu/block-rbd.so ] || [ -e /usr/lib64/qemu/block-rbd.so ] || missing="$missing qemu-block-extra"
elif [ -n "${1:-}" ]; then
  echo "layerbench: unknown option $1: use --tests, or nothing" >&2
  exit 2
fi
for tool in fio shellcheck; do
  command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
command -v qemu-system-x86_64 >/dev/null 2>&1 || missing="$missing qemu-system-x86"
# qcow2 images of local VM targets (format=qcow2), made as pve-storage makes them.
command -v qemu-img >/dev/null 2>&1 || missing="$missing qemu-utils"
# The local guest names its SCSI disks with udev's scsi_id, as a Debian guest does (nothing of udev is started).
[ -x /usr/lib/udev/scsi_id ] || [ -x /lib/udev/scsi_id ] || missing="$missing udev"
command -v ssh >/dev/null 2>&1 || missing="$missing openssh-client"
[ -x /usr/sbin/sshd ] || missing="$missing openssh-server"
# The guest's busybox is copied into its initramfs: it must be the static one.
if ! command -v busybox >/dev/null 2>&1 || ldd "$(command -v busybox)" >/dev/null 2>&1; then missing="$missing busybox-static"; fi
if [ -n "$missing" ]; then
  as_root=""
  if [ "$(id -u)" -ne 0 ]; then as_root="sudo"; fi
  if command -v apt-get >/dev/null 2>&1; then
    $as_root apt-get update -qq
    # shellcheck disable=SC2086 # $missing is a list of package names
    DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq $missing >/dev/null
  elif command -v dnf >/dev/null 2>&1; then
    # Fedora's names for the same packages.
    missing=$(printf '%s' "$missing" | sed 's/openssh-client /openssh-clients /; s/openssh-client$/openssh-clients/; s/busybox-static/busybox/; s/qemu-block-extra/qemu-block-rbd/; s/qemu-utils/qemu-img/')
    # shellcheck disable=SC2086
    $as_root dnf install -y $missing
  else
    echo "layerbench: install$missing with your package manager, then run this again" >&2
    exit 1
  fi
fi
fio --version
