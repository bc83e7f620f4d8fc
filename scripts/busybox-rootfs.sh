#!/bin/sh
# Writes a busybox root filesystem as a tar stream to stdout (or to $1), from Debian's
# busybox-static: the static binary plus one symlink per applet. Used by the quickstart
# and the tests to make the `busybox` image through the image API (docker import).
set -eu
out=${1:--}
bb=$(command -v busybox || true)

[ -x "$bb" ] || { echo "busybox-static is not installed (apt-get install busybox-static)" >&2; exit 1; }
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/etc" "$root/root" "$root/tmp" "$root/proc" "$root/sys" "$root/dev" "$root/home" "$root/var/tmp" "$root/usr/bin" "$root/sbin"
chmod 1777 "$root/tmp" "$root/var/tmp"
chmod 700 "$root/root"
cp "$bb" "$root/bin/busybox"
for applet in $("$bb" --list); do
  [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done
cat > "$root/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
P
cat > "$root/etc/group" <<'G'
root:x:0:
daemon:x:1:
nogroup:x:65534:
G
tar --numeric-owner --owner=0 --group=0 -C "$root" -cf "$out" .
