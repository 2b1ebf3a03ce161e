#!/bin/sh
# fetch.sh OUTDIR: the Linux guest of guests/linux.cfg, from Debian's archive (never committed).
#   OUTDIR/vmlinuz            the stock bzImage of the package linux-image-amd64 depends on
#   OUTDIR/initramfs.cpio.gz  busybox-static plus guests/linux/init (a newc cpio, gzipped) and
#                             /bin/tscmark (guests/linux/tscmark.c, built here with the host's cc)
# The .deb files are cached in OUTDIR/cache; a fresh machine needs `apt-get update` once, which
# this script runs (as root or through sudo) only when apt does not know the packages yet.
# Neither the download nor the unpacking needs root.
set -eu
out=$1
here=$(cd "$(dirname "$0")" && pwd)
cache=$out/cache
mkdir -p "$cache"
out=$(cd "$out" && pwd)
cache=$out/cache

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"
    elif command -v sudo >/dev/null 2>&1; then sudo "$@"
    else echo "fetch.sh: need root or sudo for: $*" >&2; exit 1
    fi
}

# The versioned kernel package, e.g. linux-image-6.1.0-57-amd64.
kernel_package() {
    apt-cache depends linux-image-amd64 2>/dev/null |
        sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n 1
}
pkg=$(kernel_package)
if [ -z "$pkg" ] || ! apt-cache show busybox-static >/dev/null 2>&1; then
    echo "fetch.sh: apt does not know linux-image-amd64 / busybox-static yet: apt-get update"
    as_root apt-get update -q
    pkg=$(kernel_package)
fi
[ -n "$pkg" ] || { echo "fetch.sh: no linux-image-amd64 in the apt sources" >&2; exit 1; }

# Downloads package $1 into the cache unless some version of it is there already.
download() {
    if ! ls "$cache/$1"_*.deb >/dev/null 2>&1; then
        echo "fetch.sh: downloading $1" >&2
        (cd "$cache" && apt-get download -q "$1" >&2)
    fi
    ls "$cache/$1"_*.deb | tail -n 1
}
kdeb=$(download "$pkg")
bdeb=$(download busybox-static)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dpkg-deb -x "$kdeb" "$tmp/kernel"
cp "$tmp"/kernel/boot/vmlinuz-* "$out/vmlinuz.tmp"
mv "$out/vmlinuz.tmp" "$out/vmlinuz"

dpkg-deb -x "$bdeb" "$tmp/busybox"
root=$tmp/root
mkdir -p "$root/bin" "$root/sbin" "$root/proc" "$root/sys" "$root/dev" "$root/etc" "$root/tmp"
cp "$tmp/busybox/bin/busybox" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
cp "$here/init" "$root/init"
# tscmark: a static x86-64 program without libc (make bench reads its TSC line)
${CC:-cc} -Os -static -nostdlib -ffreestanding -fno-pie -no-pie -fno-stack-protector \
    -fno-asynchronous-unwind-tables -mgeneral-regs-only -Wall -Wextra -Werror \
    -o "$root/bin/tscmark" "$here/tscmark.c"
chmod 755 "$root/init" "$root/bin/busybox" "$root/bin/tscmark"
# A file of known content: init prints its checksum, the test compares it.
printf 'tessera linux guest check file\n' >"$root/etc/tessera-check"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$tmp/initramfs.cpio"
# The kernel gives init its stdin/out/err by opening /dev/console, before anything is mounted:
# the archive must hold that node. mknod needs root, so its newc entry (SVR4 "070701" header, 13
# hex fields, name, NUL-padded to 4 bytes) is written here and appended as a second archive,
# which the kernel's unpacker accepts after the first one's trailer.
newc_entry() { # name mode rdevmajor rdevminor
    printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
        4242 "$2" 0 0 1 0 0 0 0 "$3" "$4" $((${#1} + 1)) 0
    printf '%s\0' "$1"
    pad=$(( (4 - (110 + ${#1} + 1) % 4) % 4 ))
    [ "$pad" -eq 0 ] || head -c "$pad" /dev/zero
}
{ newc_entry dev/console $((0020600)) 5 1; newc_entry 'TRAILER!!!' 0 0 0; } >>"$tmp/initramfs.cpio"
gzip -9 -n -c "$tmp/initramfs.cpio" >"$out/initramfs.cpio.gz.tmp"
mv "$out/initramfs.cpio.gz.tmp" "$out/initramfs.cpio.gz"
echo "fetch.sh: $out/vmlinuz ($pkg), $out/initramfs.cpio.gz"
