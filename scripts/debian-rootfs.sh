#!/bin/sh
# Builds the Debian test layers into $1 (default /var/cache/berth-test), once:
#   debian-base.tar  a `debootstrap --variant=minbase bookworm` root (the debian image's layer)
#   nginx-diff.tar   what `apt-get install nginx-light` adds on top of it (the nginx layer)
# Both are plain tars with numeric owners. The mirror is the one the machine's apt sources name.
# Safe to run from several test files at once: the build holds a lock and renames into place.
set -eu
cache=${1:-/var/cache/berth-test}
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
[ -s "$cache/debian-base.tar" ] && [ -s "$cache/nginx-diff.tar" ] && exit 0

command -v debootstrap >/dev/null || { echo "debootstrap is not installed (apt-get install debootstrap)" >&2; exit 1; }
mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $3 ~ /^bookworm/ { print $2; exit }' /etc/apt/sources.list 2>/dev/null)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian

work=$(mktemp -d "$cache/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
base=$work/base
debootstrap --variant=minbase bookworm "$base" "$mirror" >"$work/debootstrap.log" 2>&1 || { cat "$work/debootstrap.log" >&2; exit 1; }
rm -rf "$base"/var/cache/apt/archives/*.deb "$base"/var/lib/apt/lists/*_Packages
tar --numeric-owner --xattrs -C "$base" -cf "$work/debian-base.tar" .

# nginx on top: a copy of the base, nginx-light installed in a chroot (services kept from
# starting), and the layer is every path whose ctime moved past the stamp (dpkg keeps the
# packages' mtimes).
ng=$work/nginx
cp -a "$base" "$ng"
touch "$work/stamp"
sleep 1
cp -p "$ng/etc/resolv.conf" "$work/resolv.conf.orig" 2>/dev/null || true
cp /etc/resolv.conf "$ng/etc/resolv.conf"
printf '#!/bin/sh\nexit 101\n' >"$ng/usr/sbin/policy-rc.d"
chmod +x "$ng/usr/sbin/policy-rc.d"
chroot "$ng" sh -c 'export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq --no-install-recommends nginx-light >/dev/null 2>&1 && apt-get clean && rm -rf /var/lib/apt/lists/*' \
  || { echo "apt-get install nginx-light in the chroot failed" >&2; exit 1; }
rm -f "$ng/usr/sbin/policy-rc.d"
if [ -f "$work/resolv.conf.orig" ]; then cp -p "$work/resolv.conf.orig" "$ng/etc/resolv.conf"; else rm -f "$ng/etc/resolv.conf"; fi
# nginx logs to files under /var/log/nginx: send them to the container's stdout/stderr as the
# official image does.
ln -sf /dev/stdout "$ng/var/log/nginx/access.log"
ln -sf /dev/stderr "$ng/var/log/nginx/error.log"
(cd "$ng" && find . -cnewer "$work/stamp" ! -path . | LC_ALL=C sort) >"$work/changed"
tar --numeric-owner --xattrs --no-recursion -C "$ng" -cf "$work/nginx-diff.tar" -T "$work/changed"

mv "$work/debian-base.tar" "$cache/debian-base.tar"
mv "$work/nginx-diff.tar" "$cache/nginx-diff.tar"
