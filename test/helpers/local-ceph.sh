#!/bin/sh
# A real single-node Ceph from Debian's packages (ceph-mon, ceph-mgr, ceph-osd, ceph-common), for the tests of the
# rbd targets: one monitor, one manager, one BlueStore OSD on a sparse file, an `rbd` pool of size 1, cephx on.
# No systemd, no kernel module: the daemons run as this user, from files under DIR, on loopback.
#
#   local-ceph.sh start DIR   prints nothing on success; DIR/ceph.conf is then the cluster's configuration, with
#                             the keyrings of client.admin and of client.bench (rbd profile on the pool) beside it
#   local-ceph.sh stop DIR    stops the daemons (the OSD before the monitor, which it reports to) and removes DIR
#
# Pitfalls met building it: `bluestore block path` inside the OSD's directory makes BlueStore link the file to
# itself (leave it unset, with `bluestore block create`); HEALTH_OK shows before the placement groups are known
# (wait for every PG active+clean).
set -eu
action=${1:?usage: local-ceph.sh start|stop DIR}
dir=${2:?usage: local-ceph.sh start|stop DIR}

stop() {
  for daemon in osd.0 mgr.x mon.a; do
    pidfile="$dir/run/$daemon.pid"
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || continue
    # A daemon given SIGTERM exits within seconds; one that does not is killed.
    tries=0
    while kill -0 "$pid" 2>/dev/null; do
      tries=$((tries + 1))
      if [ "$tries" -gt 100 ]; then kill -9 "$pid" 2>/dev/null || true; fi
      sleep 0.1
    done
  done
  rm -rf "$dir"
}

if [ "$action" = stop ]; then
  stop
  exit 0
fi
[ "$action" = start ] || { echo "local-ceph.sh: unknown action $action: use start or stop" >&2; exit 2; }

mkdir -p "$dir/run" "$dir/log" "$dir/mon" "$dir/mgr" "$dir/osd"
# Whatever fails from here on leaves no daemon behind.
# shellcheck disable=SC2154 # status is assigned inside the trap's own text
trap 'status=$?; [ "$status" -eq 0 ] || { stop; exit "$status"; }' EXIT
fsid=$(cat /proc/sys/kernel/random/uuid)
# A free port, so that two runs on one machine do not meet.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
conf="$dir/ceph.conf"
cat >"$conf" <<EOF
[global]
fsid = $fsid
mon host = [v2:127.0.0.1:$port]
public addr = 127.0.0.1
cluster addr = 127.0.0.1
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
keyring = $dir/\$cluster.\$name.keyring
run dir = $dir/run
pid file = $dir/run/\$name.pid
admin socket = $dir/run/\$name.asok
log file = $dir/log/\$name.log
mon data = $dir/mon
mgr data = $dir/mgr
osd data = $dir/osd
osd objectstore = bluestore
bluestore block create = true
bluestore block size = 4294967296
osd memory target = 939524096
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
mon allow pool delete = true
auth allow insecure global id reclaim = false
mgr initial modules = 
EOF

ceph-authtool --create-keyring "$dir/mon.keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
ceph-authtool --create-keyring "$dir/ceph.client.admin.keyring" --gen-key -n client.admin \
  --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' --cap mds 'allow *' >/dev/null
ceph-authtool "$dir/mon.keyring" --import-keyring "$dir/ceph.client.admin.keyring" >/dev/null
monmaptool --create --addv a "[v2:127.0.0.1:$port]" --fsid "$fsid" "$dir/monmap" >/dev/null
ceph-mon -c "$conf" -i a --mkfs --monmap "$dir/monmap" --keyring "$dir/mon.keyring" 2>>"$dir/log/start.log"
ceph-mon -c "$conf" -i a 2>>"$dir/log/start.log"

ceph -c "$conf" auth get-or-create mgr.x mon 'allow profile mgr' osd 'allow *' mds 'allow *' -o "$dir/mgr/keyring"
ceph-mgr -c "$conf" -i x --keyring "$dir/mgr/keyring" 2>>"$dir/log/start.log"

uuid=$(cat /proc/sys/kernel/random/uuid)
secret=$(ceph-authtool --gen-print-key)
printf '{"cephx_secret": "%s"}' "$secret" >"$dir/osd-secret.json"
id=$(ceph -c "$conf" osd new "$uuid" -i "$dir/osd-secret.json")
rm "$dir/osd-secret.json"
[ "$id" = 0 ] || { echo "local-ceph.sh: the OSD got id $id, expected 0" >&2; exit 1; }
ceph-authtool --create-keyring "$dir/osd/keyring" --name osd.0 --add-key "$secret" >/dev/null
ceph-osd -c "$conf" -i 0 --mkfs --osd-uuid "$uuid" --keyring "$dir/osd/keyring" 2>>"$dir/log/start.log"
ceph-osd -c "$conf" -i 0 --keyring "$dir/osd/keyring" 2>>"$dir/log/start.log"

ceph -c "$conf" osd pool create rbd 8 8 >/dev/null 2>&1
ceph -c "$conf" osd pool set rbd size 1 --yes-i-really-mean-it >/dev/null 2>&1
rbd -c "$conf" pool init rbd
# A user with no more than the rbd profile, as a Proxmox storage or ceph-csi gets.
ceph -c "$conf" auth get-or-create client.bench mon 'profile rbd' osd 'profile rbd pool=rbd' mgr 'profile rbd pool=rbd' \
  -o "$dir/ceph.client.bench.keyring"

# Ready once every placement group is active+clean: HEALTH_OK alone comes before they are known.
tries=0
until ceph -c "$conf" pg stat --format json 2>/dev/null | python3 -c '
import json, sys
stat = json.load(sys.stdin)
states = stat.get("pg_summary", stat).get("num_pg_by_state", [])
total = sum(state["num"] for state in states)
clean = sum(state["num"] for state in states if state["name"] == "active+clean")
sys.exit(0 if total > 0 and clean == total else 1)'; do
  tries=$((tries + 1))
  [ "$tries" -lt 600 ] || { echo "local-ceph.sh: placement groups not active+clean after 60 s" >&2; exit 1; }
  sleep 0.1
done
