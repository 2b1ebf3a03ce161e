#!/bin/sh
# Installs the Debian/Ubuntu packages Tessera needs to build, boot and test, if any is missing.
# Used by `make run`, `make test` and `make bench`; safe to run again (it only checks then).
set -eu
PACKAGES="gcc make binutils nasm gnu-efi grub-pc-bin grub-efi-amd64-bin grub-common xorriso
mtools gdisk dosfstools qemu-system-x86 ovmf seabios bochs bochsbios vgabios libcmocka-dev
clang libclang-rt-dev cpio"
# clang builds the libFuzzer harnesses (tests/fuzz). libFuzzer and the sanitizer runtimes
# (libclang_rt.fuzzer) come in libclang-rt-N-dev, which clang only recommends: the
# llvm-defaults package libclang-rt-dev pulls in the one matching the default clang. cpio packs
# the Linux guest's initramfs (guests/linux/fetch.sh).

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

echo "tessera: installing missing packages:$missing"
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "tessera: need root or sudo to install:$missing" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
