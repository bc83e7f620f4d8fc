#!/bin/sh
# Makes a hybrid cgroup host usable by crun (berth's default runtime where it can run): crun 1.8
# refuses every container while the cgroup2 hierarchy at /sys/fs/cgroup/unified holds a
# controller. systemd's hybrid mode leaves there each controller no v1 hierarchy took (hugetlb,
# misc...); each one that cgroup2 does not use (not in its root's cgroup.subtree_control) is
# mounted as a v1 hierarchy at /sys/fs/cgroup/<name>, as Debian's cgroupfs-mount does. A
# controller moves to the new hierarchy only while cgroup2 does not use it, and stays there
# until the next boot: run this at boot (install-deps.sh and quickstart.sh run it). Idempotent;
# does nothing on a unified (cgroup v2 only) or a v1-only host. `--check` only says what it
# would do (exit 1 if something is to do).
set -eu
root=/sys/fs/cgroup
unified=$root/unified
check=false
[ "${1:-}" = --check ] && check=true

fstype() { stat -f -c %T "$1" 2>/dev/null || echo none; }

[ "$(fstype "$root")" = cgroup2fs ] && exit 0          # unified: crun is fine
[ "$(fstype "$unified")" = cgroup2fs ] || exit 0       # v1 only: crun is fine
controllers=$(cat "$unified/cgroup.controllers")
[ -n "$controllers" ] || exit 0
used=" $(cat "$unified/cgroup.subtree_control") "
todo=""
for c in $controllers; do
  case "$used" in *" $c "*) echo "host-cgroups: $c is in use on cgroup2 ($unified/cgroup.subtree_control): not moved" >&2 ;; *) todo="$todo $c" ;; esac
done
[ -n "$todo" ] || exit 0
if $check; then echo "host-cgroups: would mount as v1 hierarchies:$todo"; exit 1; fi
remount=false
for c in $todo; do
  dir=$root/$c
  if ! mkdir -p "$dir" 2>/dev/null; then
    # systemd mounts the tmpfs at /sys/fs/cgroup read-only
    mount -o remount,rw "$root"
    remount=true
    mkdir -p "$dir"
  fi
  if mountpoint -q "$dir" || mount -t cgroup -o "$c" cgroup "$dir"; then
    echo "host-cgroups: mounted $c at $dir"
  else
    echo "host-cgroups: could not mount $c at $dir" >&2 # said again below; berthd then uses runc
  fi
done
$remount && mount -o remount,ro "$root"
if [ -n "$(cat "$unified/cgroup.controllers")" ]; then
  echo "host-cgroups: $unified still holds $(cat "$unified/cgroup.controllers"): crun cannot run here, berthd uses runc" >&2
fi
exit 0
