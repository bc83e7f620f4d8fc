#!/bin/sh
# Installs what berth needs on a fresh Debian 12 machine: the OCI runtimes (crun, berth's default
# where the host's cgroups let it run, and runc), the shim,
# busybox-static (for the test image), an init for --init, ps for `top`, tmux (the TTY e2e
# tests drive real terminals with it), setcap/getcap (libcap2-bin: the file-capability tests),
# musl-tools (berth-logwriter is built static against musl: a ~90 kB process per rotating log),
# docker-registry, apache2-utils (htpasswd), zstd (the registry tests: test/helpers/registry.ts);
# zlib1g-dev, libzstd-dev, libssl-dev (the native layer extractor: gunzip, unzstd, sha256);
# debootstrap (the Debian test images, test/helpers/images.ts), nftables (networks: NAT, port maps,
# isolation), curl (the network tests reach published ports with it);
# golang-github-containers-common (podman's seccomp.json, compared with berth's default profile);
# skopeo and wrk (berth registry: its client tests, and bench/registry.ts beside docker-registry);
# docker-compose (Debian's 1.29, python: test/e2e/docker-compose-v1.test.ts drives berthd with it);
# iptables (dockerd's DOCKER-USER chain: network/dockerUser.ts, test/e2e/docker-network-coexist.test.ts);
# gcc (test/e2e/docker-seccomp-effect.test.ts builds its x86_64 and i386 syscall probes);
# libseccomp-dev (test/integration/seccomp-compile.test.ts compiles profiles with libseccomp as runc does);
# adduser and passwd (userns-remap `default` makes the dockremap user and its subordinate ids, as dockerd);
# then npm packages; last, scripts/host-cgroups.sh (a hybrid cgroup host's cgroup2 controllers
# as v1 hierarchies, so that crun can run).
set -eu
cd "$(dirname "$0")/.."
need=""
for pkg in crun runc conmon busybox-static tini procps iproute2 util-linux tar tmux python3-docker openssl libcap2-bin musl-tools debootstrap docker-registry apache2-utils zstd zlib1g-dev libzstd-dev libssl-dev nftables curl golang-github-containers-common skopeo wrk docker-compose iptables gcc libseccomp-dev adduser passwd; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need="$need $pkg"
done
if [ -n "$need" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $need >/dev/null
fi
command -v docker >/dev/null 2>&1 || {
  echo "note: no docker CLI on PATH; installing Debian's docker-cli for the e2e tests" >&2
  apt-get install -y -qq --no-install-recommends docker-cli >/dev/null || apt-get install -y -qq --no-install-recommends docker.io >/dev/null
}
[ -d node_modules ] && [ node_modules -nt package-lock.json ] || npm ci --no-audit --no-fund --loglevel=error
npm run build --silent
sh scripts/host-cgroups.sh
