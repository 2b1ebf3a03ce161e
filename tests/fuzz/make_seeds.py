#!/usr/bin/env python3
"""Writes the committed seed corpora under tests/fuzz/corpus/NAME/ (run from the repository root;
rerun after changing it and commit the result). Valid inputs built from the unit tests' data
(tests/unit/data) and the config examples, plus a few nasty ones. Inputs found by fuzzing stay in
build/fuzz/work/ unless copied here by hand."""
import os
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus")


def put(name, file, data):
    d = os.path.join(CORPUS, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, file), "wb") as f:
        f.write(data)


def hexfile(name):
    out = bytearray()
    with open(os.path.join(ROOT, "tests", "unit", "data", name + ".hex")) as f:
        for line in f:
            if not line.startswith("#"):
                out += bytes(int(x, 16) for x in line.split())
    return out


def fix(t, at, n=None):
    n = len(t) if n is None else n
    t[at] = 0
    t[at] = (-sum(t[:n])) & 0xff


def table(sig, rev, body):
    t = bytearray(sig + struct.pack("<IBB", 36 + len(body), rev, 0) + b"TSTOEMTSTTABLE" +
                  b"\0" * 12) + body
    fix(t, 9)
    return t


# ---- ACPI: one flags byte, then memory at 0x10000 with the RSDP first (see fuzz_acpi.c) ----------
BASE = 0x10000


def acpi_image(tables, rev=2, rsdp_len=36, use_rsdt=True, use_xsdt=True):
    mem = bytearray(0x40)  # RSDP area
    at = {}
    for name, t in tables:
        while len(mem) % 16:
            mem.append(0)
        at[name] = BASE + len(mem)
        mem += t
    return mem, at


def rsdp(mem, rev, rsdt, xsdt, length=36):
    mem[0:8] = b"RSD PTR "
    mem[9:15] = b"TSTOEM"
    mem[15] = rev
    mem[16:20] = struct.pack("<I", rsdt)
    if rev >= 2:
        mem[20:24] = struct.pack("<I", length)
        mem[24:32] = struct.pack("<Q", xsdt)
    fix(mem, 8, 20)
    if rev >= 2 and length <= len(mem):
        fix(mem, 32, length)


def acpi_system(fadt, madt, dsdt, rev=2):
    """Places DSDT, FADT (pointing at the DSDT), MADT, then XSDT and RSDT listing them."""
    mem = bytearray(0x40)

    def place(t):
        while len(mem) % 16:
            mem.append(0)
        a = BASE + len(mem)
        mem.extend(t)
        return a

    d = place(dsdt)
    fadt = bytearray(fadt)
    fadt[40:44] = struct.pack("<I", d)
    if len(fadt) >= 148:
        fadt[140:148] = struct.pack("<Q", d)
    fix(fadt, 9)
    f = place(fadt)
    m = place(madt)
    x = place(table(b"XSDT", 1, struct.pack("<QQ", f, m)))
    r = place(table(b"RSDT", 1, struct.pack("<II", f, m)))
    rsdp(mem, rev, r, x)
    return mem


def pm_fadt(gpe0_len=4, pm1_evt_len=4, x_gpe0=0):
    """An ACPI 2 FADT with the PIIX4-style PM blocks of Bochs/QEMU (PM base 0xb000)."""
    f = bytearray(244 - 36)
    body = f

    def w32(off, v):
        body[off - 36:off - 32] = struct.pack("<I", v)

    w32(48, 0xb2)
    body[52 - 36] = 0xf1
    w32(56, 0xb000)  # PM1a_EVT
    w32(64, 0xb004)  # PM1a_CNT
    w32(76, 0xb008)  # PM_TMR
    w32(80, 0xafe0)  # GPE0
    body[88 - 36] = pm1_evt_len
    body[89 - 36] = 2
    body[91 - 36] = 4
    body[92 - 36] = gpe0_len
    body[116 - 36:128 - 36] = bytes([1, 8, 0, 1]) + struct.pack("<Q", 0xcf9)
    body[128 - 36] = 6
    body[112 - 36:116 - 36] = struct.pack("<I", 1 << 10)
    if x_gpe0:
        body[220 - 36:232 - 36] = bytes([1, 8, 0, 1]) + struct.pack("<Q", x_gpe0)
    return table(b"FACP", 3, bytes(body))


MADT2 = table(b"APIC", 5, struct.pack("<II", 0xfee00000, 1) +
              bytes([0, 8, 0, 0, 1, 0, 0, 0, 0, 8, 1, 1, 1, 0, 0, 0]) +
              bytes([1, 12, 2, 0]) + struct.pack("<II", 0xfec00000, 0))
S5 = bytes([0x08, ord("_"), ord("S"), ord("5"), ord("_"), 0x12, 0x06, 0x04, 0, 0, 0, 0])


def acpi_seeds():
    fc = acpi_system(hexfile("fc-FACP"), hexfile("fc-APIC"), hexfile("fc-DSDT"))
    put("acpi", "firecracker", bytes([1]) + fc)
    put("acpi", "firecracker-copy36", bytes([3]) + fc)
    bochs = acpi_system(pm_fadt(), MADT2, table(b"DSDT", 1, S5))
    put("acpi", "piix4-pm", bytes([1]) + bochs)
    put("acpi", "gpe0-64-bytes", bytes([1]) + acpi_system(pm_fadt(gpe0_len=0x40), MADT2,
                                                          table(b"DSDT", 1, S5)))
    put("acpi", "x-gpe0-pm1-85", bytes([1]) + acpi_system(
        pm_fadt(gpe0_len=0x40, pm1_evt_len=85, x_gpe0=0xffe0), MADT2, table(b"DSDT", 1, S5)))
    v1 = acpi_system(pm_fadt(), MADT2, table(b"DSDT", 1, S5), rev=0)
    put("acpi", "rsdp-v1", bytes([1]) + v1)
    long_rsdp = bytearray(bochs)
    long_rsdp[20:24] = struct.pack("<I", 4096)  # longer than the memory and any boot copy
    put("acpi", "rsdp-length-4096", bytes([1]) + long_rsdp)
    put("acpi", "unrepaired", bytes([0]) + bochs)


# ---- Multiboot2 info blocks -----------------------------------------------------------------------
def mb2(tags):
    out = bytearray(8)
    for ttype, body in tags:
        out += struct.pack("<II", ttype, 8 + len(body)) + body
        while len(out) % 8:
            out.append(0)
    out += struct.pack("<II", 0, 8)
    out[0:4] = struct.pack("<I", len(out))
    return bytes(out)


def mmap(entries, size=24):
    b = struct.pack("<II", size, 0)
    for base, length, typ in entries:
        b += struct.pack("<QQII", base, length, typ, 0) + b"\0" * (size - 24)
    return b


def rsdp_bytes(rev, length=36):
    m = bytearray(length if rev >= 2 else 20)
    rsdp(m, rev, 0x7fe0000, 0x7fe1000, length)
    return bytes(m)


def mb2_seeds():
    bios = [(0, 0x9fc00, 1), (0x9fc00, 0x400, 2), (0xf0000, 0x10000, 2),
            (0x100000, 0x7ee0000, 1), (0x7fe0000, 0x20000, 3), (0xfffc0000, 0x40000, 2)]
    put("multiboot2", "grub-bios", mb2([
        (1, b"exit=qemu log=debug\0"), (2, b"GRUB 2.06-13+deb12u1\0"),
        (3, struct.pack("<II", 0x200000, 0x200180) + b"/boot/tessera.cfg\0"),
        (3, struct.pack("<II", 0x201000, 0x203456) + b"/boot/guests/hello64.elf args\0"),
        (6, mmap(bios)), (14, rsdp_bytes(0)),
        (8, struct.pack("<QIIIBBH", 0xb8000, 160, 80, 25, 16, 2, 0))]))
    put("multiboot2", "grub-uefi", mb2([
        (12, struct.pack("<Q", 0x7f000000)), (6, mmap(bios)), (15, rsdp_bytes(2)),
        (14, rsdp_bytes(0)),
        (8, struct.pack("<QIIIBBH", 0xfd000000, 4096, 1024, 768, 32, 1, 0) +
         bytes([16, 8, 8, 8, 0, 8]))]))
    put("multiboot2", "rsdp-tag-100-bytes", mb2([(6, mmap(bios)), (15, rsdp_bytes(2, 100))]))
    put("multiboot2", "no-end-tag", mb2([(6, mmap(bios))])[:-8])
    put("multiboot2", "bad-mmap-entry-size", mb2([(6, mmap(bios[:2], 28)[:-4])]))


# ---- config ---------------------------------------------------------------------------------------
def config_seeds():
    for name in ("guests/tessera.cfg", "tests/integration/configs/errors.cfg"):
        p = os.path.join(ROOT, name)
        if os.path.exists(p):
            with open(p, "rb") as f:
                put("config", os.path.basename(os.path.dirname(name)) + "-" +
                    os.path.basename(name), f.read())
    put("config", "every-key", b"""# every key once
[vm hello]
image = hello64.elf      # ELF64
memory = 16M
cpu = 0
weight = 2
ports = 0x2f8-0x2ff, 0x80
on_fail = restart
cmdline = "verbose x=1"
module = data.bin
module = more.bin
time_limit = 30s
sha256 = 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
""")
    put("config", "nasty", b"[vm a]\r\nimage=\"x\nports = 0xffff-0x0\n[vm a]\n[vm " + b"b" * 40 +
        b"]\nmemory = 18446744073709551615M\ntime_limit = 99999999999999999999ms\n\0[vm c\n" +
        b"cmdline = \"" + b"y" * 300 + b"\"\n")


# ---- images: tiny ELF64, Multiboot 1 (ELF32 and a.out kludge), boot sector ------------------------
def elf64(entry=0x100000, paddr=0x100000, code=b"\xf4" * 16, memsz=None):
    ehdr = struct.pack("<4sBBBBB7sHHIQQQIHHHHHH", b"\x7fELF", 2, 1, 1, 0, 0, b"\0" * 7, 2, 62,
                       1, entry, 64, 0, 0, 64, 56, 1, 0, 0, 0)
    off = 64 + 56
    phdr = struct.pack("<IIQQQQQQ", 1, 7, off, paddr, paddr, len(code),
                       memsz if memsz else len(code), 0x1000)
    return ehdr + phdr + code


def mb1_header(flags, extra=b""):
    magic = 0x1BADB002
    return struct.pack("<III", magic, flags, (-(magic + flags)) & 0xffffffff) + extra


def elf32_mb1():
    code = mb1_header(0x3) + b"\xf4" * 16
    off = 52 + 32
    ehdr = struct.pack("<4sBBBBB7sHHIIIIIHHHHHH", b"\x7fELF", 1, 1, 1, 0, 0, b"\0" * 7, 2, 3, 1,
                       0x100000 + 12, 52, 0, 0, 52, 32, 1, 0, 0, 0)
    phdr = struct.pack("<IIIIIIII", 1, off, 0x100000, 0x100000, len(code), len(code) + 4096, 7,
                       0x1000)
    return ehdr + phdr + code


def aout_kludge():
    load = 0x100000
    hdr = mb1_header(0x10003, struct.pack("<IIIII", load, load, 0, load + 0x2000, load + 32))
    return hdr + b"\x90" * 32 + b"\xf4"


def bzimage(version=0x020f, pref=0x100000, init_size=0x80000, align=0x100000, reloc=1,
            xlf=0x7f, loadflags=1, cmdline_size=2047, initrd_max=0x7fffffff, kernel=0x400,
            tail=0):
    """A Linux bzImage: boot sector + 1 setup sector with the setup header (boot.rst), then the
    protected-mode kernel. tail extra bytes pick the harness's RAM size (length mod 4)."""
    b = bytearray(0x400 + kernel + tail)
    b[0x1f1] = 1                                    # setup_sects
    struct.pack_into("<H", b, 0x1fe, 0xaa55)
    b[0x200:0x202] = b"\xeb\x6a"                     # header ends at 0x26c
    b[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", b, 0x206, version)
    b[0x211] = loadflags
    struct.pack_into("<IIBBHI", b, 0x22c, initrd_max, align, reloc, 0, xlf, cmdline_size)
    struct.pack_into("<QI", b, 0x258, pref, init_size)
    for i in range(0x400, 0x400 + kernel):
        b[i] = 0xf4
    return bytes(b)


def image_seeds():
    put("image", "linux", bzimage())                            # loads in 2 MiB
    put("image", "linux-3m-initrd-max", bzimage(initrd_max=0x2fffff, tail=3))
    put("image", "linux-fixed", bzimage(reloc=0, pref=0x180000, tail=4))
    put("image", "linux-2.11", bzimage(version=0x020b))
    put("image", "linux-no-64", bzimage(xlf=0))
    put("image", "linux-too-big", bzimage(init_size=0x1000000))
    put("image", "linux-short-cmdline", bzimage(cmdline_size=4))
    put("image", "linux-align", bzimage(pref=0x123456, align=0x1000, tail=3))
    put("image", "elf64", elf64())
    put("image", "elf64-bss", elf64(memsz=0x1000))
    put("image", "elf64-high", elf64(entry=0x1f0000, paddr=0x1f0000))
    put("image", "multiboot1-elf32", elf32_mb1())
    put("image", "multiboot1-aout", aout_kludge())
    put("image", "bootsector", b"\xfa\xf4" + b"\0" * 508 + b"\x55\xaa")
    put("image", "bootsector-8k", b"\xf4" + b"\0" * 509 + b"\x55\xaa" + b"\0" * (0x2000 - 512))
    put("image", "elf64-huge-memsz", elf64(memsz=0xffffffffffff0000))


# ---- command line, vUART --------------------------------------------------------------------------
def cmdline_seeds():
    put("cmdline", "value", b"\x20console\0/boot/tessera.elf console=serial,fb log=debug")
    put("cmdline", "number", b"\x10tsc_khz\0tsc_khz=0x1c9c380 quiet")
    put("cmdline", "flag", b"\x04quiet\0a=1 quiet\tb=2")
    put("cmdline", "max-u64", b"\x40n\0" + b"18446744073709551615")
    put("cmdline", "overflow-u64", b"\x40n\0n=18446744073709551616 0x10000000000000000")
    put("cmdline", "tiny-buffer", b"\x01key\0key=long-value key")


def uart(ops):
    return bytes(b for op in ops for b in op)


def vuart_seeds():
    W = 0x80
    # Linux 8250 probe: scratch, loopback with RTS|OUT2, FIFO enable, then some output
    put("vuart", "linux-probe", uart([(W | 7, 0xa5), (7, 0), (W | 4, 0x1a), (6, 0), (W | 4, 0),
                                      (W | 2, 0xc7), (2, 0), (W | 3, 0x83), (W | 0, 1),
                                      (W | 1, 0), (W | 3, 0x03), (W | 1, 0x02), (2, 0),
                                      (W | 0, ord("h")), (5, 0), (W | 0, ord("i"))]))
    put("vuart", "loopback-overrun", uart([(W | 4, 0x10)] + [(W | 0, i) for i in range(20)] +
                                          [(5, 0), (0, 0), (W | 2, 1)] +
                                          [(W | 0, i) for i in range(20)] + [(0, 0)] * 18))
    put("vuart", "interrupts", uart([(W | 4, 0x08), (W | 1, 0x0f), (2, 0), (6, 0), (W | 4, 0x1f),
                                     (6, 0), (W | 4, 0x08), (6, 0), (2, 0), (W | 9, 1), (12, 0)]))


if __name__ == "__main__":
    acpi_seeds()
    mb2_seeds()
    config_seeds()
    image_seeds()
    cmdline_seeds()
    vuart_seeds()
