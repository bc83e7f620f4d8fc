#!/bin/sh
# Sets up berth on this machine, starts berthd, makes a busybox image through the image
# API (docker import of a rootfs from busybox-static) and runs a container with it.
# install-deps.sh ends with scripts/host-cgroups.sh, so that crun (the default runtime where it
# can run) finds the host's cgroups as it needs them; berthd uses runc where it cannot.
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh
export BERTH_HOST=unix:///run/berth/berth.sock
if ! bin/berth version >/dev/null 2>&1; then
  mkdir -p /var/log
  nohup bin/berthd >/var/log/berthd.log 2>&1 &
  for _ in $(seq 1 100); do bin/berth version >/dev/null 2>&1 && break; sleep 0.1; done
fi
tar=$(mktemp)
sh scripts/busybox-rootfs.sh "$tar"
bin/berth import -c 'CMD ["sh"]' "$tar" busybox:latest >/dev/null
rm -f "$tar"
bin/berth run --rm busybox sh -c 'echo "Hello from a berth container! hostname $(hostname), PID $$, kernel $(uname -r)"'
echo "berthd is running (log: /var/log/berthd.log); try: DOCKER_HOST=$BERTH_HOST docker run --rm -it busybox sh"
