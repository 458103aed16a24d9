#!/bin/sh
# The README's Ceph example as written, on a machine without Ceph: a single-node cluster of Debian's packages
# (test/helpers/local-ceph.sh), a second configuration of it with librbd's cache off, the four targets measured, and
# the cluster stopped and removed afterwards, on Ctrl-C too. Arguments go to `layerbench run` after the example's
# own (`--runtime 1 --out DIR`: a later option wins).
#
#   sh bench/examples/ceph-local.sh [RUN OPTIONS...]
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=$(mktemp -d "${TMPDIR:-/tmp}/layerbench-ceph.XXXXXX")
stop() { sh "$root/test/helpers/local-ceph.sh" stop "$dir"; }
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
echo "layerbench: starting a single-node Ceph in $dir (about 15 s)" >&2
sh "$root/test/helpers/local-ceph.sh" start "$dir"
# Every Ceph tool and librbd reads the cluster from here: the targets without conf= use it.
CEPH_CONF="$dir/ceph.conf"
export CEPH_CONF
# The same cluster with librbd's cache off. Ceph finds a keyring by the configuration file's name
# ($cluster.$name.keyring, $cluster being "nocache" here), so the copy names ceph.conf's keyrings itself.
sed "s|^keyring = .*|keyring = $dir/ceph.\$name.keyring|" "$CEPH_CONF" >"$dir/nocache.conf"
printf '[client]\nrbd cache = false\n' >>"$dir/nocache.conf"
cd "$root"
npx layerbench run --profile ars --runtime 5 --size 32m --repeat 2 \
  --target "ceph-nocache=rbd:rbd/lb-a:id=bench:conf=$dir/nocache.conf" \
  --target 'ceph-cache=rbd:rbd/lb-b:id=bench' \
  --target 'vm-none=vm:bus=virtio-blk,cache=none,rbd=rbd/lb-c,id=bench' \
  --target 'vm-wb=vm:bus=virtio-blk,cache=writeback,rbd=rbd/lb-d,id=bench' \
  "$@"
