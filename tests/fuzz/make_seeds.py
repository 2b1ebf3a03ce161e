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
    # the output queue fills (bit 6): LSR busy, a THR write lost; then room again; loopback
    F = 0x40
    put("vuart", "queue-full", uart([(W | 0, ord("a")), (F | 5, 0), (W | F | 0, ord("b")),
                                     (5, 0), (W | 0, ord("c")), (W | 4, 0x10), (F | 5, 0),
                                     (W | F | 0, ord("d")), (0, 0)]))


def outq_write(k, data):
    # fuzz_outq.c: op (v << 3) | 0 writes v * 256 + the next byte bytes into source v % 3
    v = len(data) // 256
    while v % 3 != k:
        v += 1
    data = b"-" * max(0, v * 256 - len(data)) + data
    return bytes([(v << 3) | 0, len(data) - v * 256]) + data


def outq_seeds():
    def pump(per_call, budget):
        return bytes([(per_call << 3) | 3, budget])

    def flush(k):
        return bytes([(k << 3) | 7])

    message = bytes([6])
    put("outq", "lines", outq_write(0, b"hello\nworld\r\n") + outq_write(1, b"quiet\n") +
        pump(5, 40) + pump(1, 3) + message + pump(19, 255))
    put("outq", "newlines", outq_write(0, b"\n" * 200) + outq_write(2, b"x\n") + pump(16, 255) * 4 +
        flush(0))
    put("outq", "long", outq_write(1, bytes(range(32, 127)) * 5 + b"\n") + pump(3, 10) * 10 +
        flush(1))
    put("outq", "busy", outq_write(0, b"abc\n") + pump(0, 255) + message +
        outq_write(2, b"partial") + flush(2))
    put("outq", "full", outq_write(0, b"\n" * 4000) + outq_write(0, b"y" * 300 + b"\n") +
        pump(7, 255) * 3 + outq_write(0, b"z\n"))


def ops(triples):
    return b"".join(bytes([a & 0xff, b & 0xff, c & 0xff]) for a, b, c in triples)


def pic_seeds():
    # (port index << 3 | 0, value, 0) writes; | 2 reads; (irq << 3 | 5) pulses; 4 = INTA
    P = {0x20: 0, 0x21: 1, 0xa0: 2, 0xa1: 3, 0x4d0: 4, 0x4d1: 5}

    def w(port, v):
        return (P[port] << 3, v, 0)

    def r(port):
        return (P[port] << 3 | 2, 0, 0)

    init = [w(0x21, 0xff), w(0xa1, 0xff), w(0x20, 0x11), w(0x21, 0x30), w(0x21, 4), w(0x21, 1),
            w(0xa0, 0x11), w(0xa1, 0x38), w(0xa1, 2), w(0xa1, 1), w(0x21, 0xfa), w(0xa1, 0xee)]
    put("pic", "linux-init-timer", ops(init + [(0 << 3 | 5, 0, 0), (0, 0, 4), (4, 0, 0),
                                               w(0x20, 0x0b), r(0x20), w(0x20, 0x60), r(0x20)]))
    put("pic", "cascade-level", ops(init + [w(0x4d1, 0x10), (12 << 3 | 3, 1, 0), (4, 0, 0),
                                            w(0xa0, 0x64), w(0x20, 0x62), (4, 0, 0),
                                            (12 << 3 | 3, 0, 0), (4, 0, 0)]))
    put("pic", "aeoi-poll-rotate", ops(init[:5] + [w(0x21, 3), w(0x21, 0), w(0x20, 0x80),
                                                   (3 << 3 | 5, 0, 0), (5 << 3 | 5, 0, 0),
                                                   (4, 0, 0), w(0x20, 0x0c), r(0x20),
                                                   w(0x20, 0x68), w(0x20, 0xc3), (0, 0, 1)]))


def pit_seeds():
    # two header bytes (TSC rate index, start), then (op | port << 3, value, width) triples
    def w(port, v):
        return ((port - 0x40) << 3, v, 0)

    def r(port):
        return ((port - 0x40) << 3 | 2, 0, 0)

    def wait(v, shift):
        return (5 | shift << 3, v, 0)

    adv, to_deadline, p61w, p61r = (6, 0, 0), (7, 0, 0), (3, 0x01, 0), (4, 0, 0)
    put("pit", "linux-periodic", bytes([1, 3]) + ops(
        [w(0x43, 0x34), w(0x40, 0xa9), w(0x40, 0x04)] + [to_deadline] * 6 +
        [wait(200, 20), adv, w(0x43, 0x00), r(0x40), r(0x40), to_deadline]))
    put("pit", "linux-oneshot-shutdown", bytes([0, 0]) + ops(
        [w(0x43, 0x38), w(0x40, 0x40), w(0x40, 0x00), to_deadline, w(0x40, 0x10), w(0x40, 0),
         wait(1, 12), adv, w(0x43, 0x30), w(0x40, 0), w(0x40, 0), to_deadline, to_deadline]))
    put("pit", "calibrate-channel2", bytes([0, 7]) + ops(
        [p61r, p61w, w(0x43, 0xb0), w(0x42, 0x9b), w(0x42, 0x2e), p61r, wait(1, 14), p61r,
         wait(1, 16), p61r, w(0x43, 0xb0), w(0x42, 0xff), w(0x42, 0xff), r(0x42), r(0x42),
         wait(1, 10), r(0x42), r(0x42), w(0x43, 0xe8), r(0x42), r(0x42), r(0x42)]))
    put("pit", "square-gate-bcd", bytes([2, 0]) + ops(
        [w(0x43, 0x36), w(0x40, 7), (0, 0, 1), to_deadline, w(0x43, 0xb7), w(0x42, 0x99),
         w(0x42, 0x09), p61w, wait(3, 8), (3, 0, 0), wait(3, 8), p61w, w(0x43, 0x92), w(0x41, 5),
         w(0x43, 0xc2 | 0x0c), r(0x41), r(0x41), r(0x41), r(0x43)]))


def rtc_seeds():
    # one rate byte, five bytes of seconds, then (op | port << 3, value, extra) triples
    start = bytes([0]) + (1717236000).to_bytes(5, "big")  # 2024-06-01 10:00:00

    def w(index, v):
        return [(0, index, 0), (1 << 3, v, 0)]

    def r(index):
        return [(0, index, 0), (2 | 1 << 3, 0, 0)]

    def wait(v, shift):
        return [(3 | shift << 4, v, 0)]

    get_time = r(0) + r(0x0a) + r(0) + r(2) + r(4) + r(7) + r(8) + r(9) + r(0x32) + r(0x0b) + \
        r(0x0a) + r(0)
    put("rtc", "linux-get-time", start + ops(get_time + wait(250, 10) + get_time + r(0x0c) +
                                             r(0x0d)))
    put("rtc", "linux-set-time", start + ops(
        w(0x0b, 0x82) + w(0x0a, 0x76) + w(9, 0x25) + w(8, 0x12) + w(7, 0x31) + w(4, 0x23) +
        w(2, 0x59) + w(0, 0x58) + w(0x32, 0x20) + w(0x0b, 0x02) + w(0x0a, 0x26) + wait(40, 10) +
        get_time))
    put("rtc", "binary-12h-nmi-ram", start + ops(
        w(0x0b, 0x04) + get_time + w(0x0b, 0x00) + r(4) + w(4, 0x87) + [(0, 0x8f, 0)] +
        [(1 << 3, 0x5a, 0)] + [(4, 0x40, 0x33)] + r(0x40) + w(0x02, 0x5a) + r(0x0c)))
    deadline, advance = [(7, 0, 0)], [(6, 0, 0)]
    put("rtc", "interrupts", start + ops(
        w(0x0b, 0x12) + deadline * 3 + r(0x0c) + deadline + r(0x0c) + w(0x0b, 0x42) +
        w(0x0a, 0x2f) + r(0x0c) + deadline * 3 + r(0x0c) + wait(9, 12) + advance + r(0x0c) +
        w(0x0b, 0x92) + deadline + w(0x0b, 0x52) + w(0x0a, 0x23) + deadline * 4 + r(0x0c)))
    put("rtc", "alarm", start + ops(
        w(1, 0x05) + w(3, 0x00) + w(5, 0x10) + w(0x0b, 0x22) + deadline + r(0x0c) + deadline +
        w(1, 0xff) + w(3, 0xc0) + r(0x0c) + deadline * 2 + r(0x0c) + w(0x0b, 0x20) + w(5, 0x90) +
        w(3, 0x00) + w(1, 0x00) + deadline + r(0x0c) + w(1, 0x5a) + deadline))
def acpi_pm_seeds():
    # setup byte, then (op | port index << 3, size code << 0 | shift << 2, value32) operations
    P = {0x600: 0, 0x601: 1, 0x602: 2, 0x603: 3, 0x604: 4, 0x605: 5, 0x608: 6, 0x60a: 8,
         0xcf8: 10, 0xcf9: 11, 0x505: 14}
    SIZE = {1: 1, 2: 2, 4: 3}

    def op(kind, port=0x600, size=1, value=0, shift=0):
        return bytes([kind | P[port] << 3, SIZE[size] | shift << 2]) + value.to_bytes(4, "little")

    def w(port, size, value):
        return op(0, port, size, value)

    def r(port, size):
        return op(1, port, size)

    def wait(v, shift):
        return op(2, value=v, shift=shift)

    advance, deadline, button, take = op(3), op(4), op(5), op(6)
    # Linux's S5: PM1 status cleared, SLP_TYP, then SLP_TYP | SLP_EN
    put("acpi_pm", "linux-s5", bytes([5]) + r(0x604, 2) + w(0x600, 2, 0xffff) +
        w(0x604, 2, 0x1401) + w(0x604, 2, 0x3401) + take + r(0x604, 2))
    # reboot: the PCI probe at 0xcf8, then reboot=pci and ACPI's 0x06
    put("acpi_pm", "reset-pci-probe", bytes([1]) + w(0xcf8, 4, 0x80000000) + r(0xcf8, 4) +
        w(0xcf9, 1, 0x02) + r(0xcf9, 1) + w(0xcf9, 1, 0x06) + take + w(0x505, 1, 1) + take)
    # the PM timer's status and the SCI: TMR_EN, deadlines, write-1-to-clear, 24-bit wrap
    put("acpi_pm", "timer-sci", bytes([1]) + w(0x602, 2, 1) + deadline + r(0x600, 2) +
        w(0x600, 2, 1) + deadline + r(0x608, 4) + w(0x600, 4, 0x00010001) + wait(0xffff, 20) +
        advance + r(0x60a, 2) + r(0x608, 1) + op(7, value=1000) + r(0x608, 4))
    put("acpi_pm", "timer-32-button", bytes([6]) + w(0x602, 2, 0x101) + button + r(0x601, 1) +
        w(0x601, 1, 1) + deadline + w(0x603, 1, 0) + r(0x602, 2) + wait(0xffffffff, 30) +
        advance + r(0x608, 4) + w(0x605, 1, 0x34) + take)


def vlapic_op(kind, pred=lambda o: True):
    """The first opcode byte fuzz_vlapic.c decodes as `kind` (op % 12) with pred(op) true."""
    return next(o for o in range(256) if o % 12 == kind and pred(o))


def vlapic_seeds():
    def rd(off, size=4):
        log = {1: 0, 2: 1, 4: 2, 8: 3}[size]
        return bytes([vlapic_op(0, lambda o: o >> 6 == log)]) + struct.pack("<H", off)

    def wr(off, value):
        return bytes([vlapic_op(1, lambda o: not o & 0xc0)]) + struct.pack("<HI", off, value)

    def msr_rd(reg):
        return bytes([vlapic_op(2), reg & 0xff])

    def msr_wr(reg, value):
        return bytes([vlapic_op(3, lambda o: not o & 0x80), reg & 0xff]) + struct.pack("<I", value)

    def apic_base(flags):
        return bytes([vlapic_op(4, lambda o: not o & 0x80)]) + struct.pack("<H", flags)

    def deadline(delta):
        return bytes([vlapic_op(5, lambda o: o >> 6 == 0)]) + struct.pack("<I", delta)[:3]

    def wait(ticks):
        return bytes([vlapic_op(6, lambda o: (o >> 4) & 0xf == 0)]) + struct.pack("<H", ticks)

    def accept(vector, level=False):
        return bytes([vlapic_op(7, lambda o: bool(o & 0x80) == level), vector])

    def ack(vector=0):
        return bytes([vlapic_op(8), vector])

    def eoi():
        return bytes([vlapic_op(9)])

    irr_isr = b"".join(rd(0x200 + i * 0x10) + rd(0x100 + i * 0x10) for i in range(8))
    boot = (bytes([0x08]) + rd(0xf0) + wr(0xf0, 0x0ff) + rd(0x30) + rd(0x20) + wr(0x80, 0) +
            irr_isr + wr(0xe0, 0xffffffff) + wr(0xd0, 0x01000000) + wr(0xf0, 0x3ff) +
            wr(0x350, 0x700) + wr(0x360, 0x400) + wr(0x280, 0) + rd(0x280) + wr(0x370, 0xfe) +
            wr(0x280, 0) + rd(0x280) + wr(0x320, 0x100ec) + wr(0x3e0, 3) +
            wr(0x380, 0xffffffff) + wait(5000) + rd(0x390) + wr(0x320, 0x200ec) +
            wr(0x380, 1000) + wait(20000) + ack() + rd(0x100 + 7 * 0x10) + wr(0xb0, 0) +
            wait(16000) + ack() + eoi() + wr(0x320, 0x000ec) + wr(0x380, 50) + wait(900) +
            ack() + eoi() + wr(0x350, 0x10700))
    put("vlapic", "linux-xapic-boot", boot)
    put("vlapic", "tsc-deadline", bytes([0x09]) + wr(0x320, 0x400ec) + wr(0x380, 100) +
        deadline(3000) + wait(2999) + wait(1) + ack() + eoi() + deadline(0) + deadline(500) +
        wr(0x320, 0xec) + wait(1000) + wr(0x320, 0x400ec) + deadline(10) + ack() + eoi())
    put("vlapic", "x2apic", bytes([0x0c]) + apic_base(0xd00) + msr_rd(0x02) + msr_rd(0x03) +
        msr_rd(0x0d) + msr_wr(0x08, 0x20) + msr_wr(0x0f, 0x1ff) + msr_wr(0x3f, 0x40) +
        msr_wr(0x3f, 0x30) + ack() + msr_wr(0x0b, 0) + msr_wr(0x30, 0x40041) + msr_wr(0x30, 0x500) +
        msr_wr(0x3e, 0xb) + msr_wr(0x32, 0x200ef) + msr_wr(0x38, 777) + wait(5000) + ack() +
        msr_wr(0x0b, 0) + b"".join(msr_rd(r) for r in range(0x40)) + msr_wr(0x28, 1) +
        msr_wr(0x02, 5) + apic_base(0x900) + apic_base(0x000) + apic_base(0xd00) +
        apic_base(0x800) + rd(0x30))
    storm = bytes([0x08]) + wr(0x370, 0xfe)
    for i, v in enumerate([0x31, 0x45, 0x92, 0x93, 0x20, 0xef, 0x61, 0x05, 0x10, 0xff]):
        storm += accept(v, level=bool(i & 1))
        if i % 3 == 2:
            storm += ack() + ack(0x45)
    storm += wr(0x80, 0x50) + ack() + eoi() + wr(0x80, 0) + b"".join(ack() for _ in range(6))
    storm += b"".join(eoi() for _ in range(8)) + wr(0x300, 0x40050) + wr(0x300, 0x4000c)
    storm += wr(0x310, 0x05000000) + wr(0x300, 0x51) + wr(0xf0, 0xff) + accept(0x70)
    put("vlapic", "accept-ack-eoi", storm)
    put("vlapic", "odd-accesses", bytes([0x03]) + rd(0x31, 1) + rd(0x32, 2) + rd(0x34, 4) +
        rd(0x3f, 8) + rd(0x40) + rd(0xff8, 8) + rd(0x1000) +
        bytes([vlapic_op(1, lambda o: o & 0xc0 == 0xc0)]) + struct.pack("<HI", 0x81, 0x55) +
        wr(0x3f0, 0x40) + wr(0x280, 0) + rd(0x280))


def ioapic_op(kind, pred=lambda o: True):
    """The first opcode byte fuzz_ioapic.c decodes as `kind` (op % 6) with pred(op) true."""
    return next(o for o in range(256) if o % 6 == kind and pred(o))


def ioapic_seeds():
    def reg(index, value):  # raw index (bit 7 set)
        return bytes([ioapic_op(2, lambda o: o & 0x80), index]) + struct.pack("<I", value)

    def mmio_wr(off, size, value):  # one-byte offset form
        log = {1: 0, 2: 1, 4: 2, 8: 3}[size]
        return bytes([ioapic_op(1, lambda o: not o & 0x80 and (o >> 5) & 3 == log), off]) + \
            struct.pack("<I", value)

    def entry(pin, low, high=0):
        return reg(0x11 + 2 * pin, high) + reg(0x10 + 2 * pin, low)

    def level(pin, on):
        return bytes([ioapic_op(3, lambda o: bool(o & 0x80) == on), pin])

    def eoi(vector):
        return bytes([ioapic_op(4), vector])

    def pulse(pin):
        return bytes([ioapic_op(5), pin])

    def rd(off, size=4):
        log = {1: 0, 2: 1, 4: 2, 8: 3}[size]
        return bytes([ioapic_op(0, lambda o: not o & 0x80 and (o >> 5) & 3 == log), off])

    boot = mmio_wr(0x00, 4, 1) + rd(0x10)  # version
    for pin in range(24):
        boot += entry(pin, 0x10000 | (0x30 + pin))
    boot += entry(2, 0x30) + entry(9, 0xa039) + level(9, True) + entry(4, 0x34)
    boot += pulse(0) + pulse(2) + pulse(2) + level(9, False) + eoi(0x39) + level(9, True)
    boot += eoi(0x39) + pulse(4) + entry(9, 0x1a039) + entry(9, 0x10039) + entry(9, 0xa039)
    put("ioapic", "linux-boot", boot)
    put("ioapic", "level-redelivery", entry(10, 0x803a) + level(10, True) + eoi(0x3a) +
        eoi(0x3a) + entry(11, 0x803a) + level(11, True) + level(10, False) + eoi(0x3a) +
        entry(12, 0x803a, 0x01000000) + level(12, True) + entry(12, 0x803a, 0xff000000) +
        entry(13, 0x883a, 0x02000000) + level(13, True) + entry(13, 0x8400) + eoi(0x3a))
    put("ioapic", "odd-accesses", mmio_wr(0x00, 2, 0x10) + mmio_wr(0x10, 1, 0x30) +
        rd(0x12, 1) + rd(0x11, 2) + rd(0x14) + rd(0x10, 8) + rd(0x00, 8) +
        bytes([ioapic_op(1, lambda o: o & 0x80 and (o >> 5) & 3 == 2), 0x40, 0x00]) +
        struct.pack("<I", 0xffffffff) + reg(0x00, 0xffffffff) + reg(0x01, 0) + reg(0x02, 0) +
        reg(0x3f, 0xffffffff) + reg(0xff, 1) + mmio_wr(0x11, 4, 5))


def irq_router_seeds():
    # fuzz_irq_router.c: 3 bytes of active-low mask, then op % 8 selects the operation
    def line(gsi, on):
        return bytes([0x80 if on else 0x00, gsi])

    def pulse(gsi):
        return bytes([1, gsi])

    def ioreg(index, value):
        return bytes([0x82, index]) + struct.pack("<I", value)

    def entry(pin, low, high=0):
        return ioreg(0x11 + 2 * pin, high) + ioreg(0x10 + 2 * pin, low)

    def lapic(off, value):
        return bytes([3, off >> 4]) + struct.pack("<I", value)

    take, eoi = bytes([4]), bytes([5])

    def wait(ticks):
        return bytes([6]) + struct.pack("<H", ticks)

    low9 = struct.pack("<I", 1 << 9)[:3]
    boot = (low9 + lapic(0x80, 0) + lapic(0x350, 0x10700) + lapic(0xf0, 0x1ff) +
            entry(2, 0x30) + entry(9, 0xa039) + entry(4, 0x34) + entry(1, 0x31) +
            pulse(0) + take + eoi + pulse(0) + pulse(1) + take + take + eoi + eoi +
            line(9, True) + take + line(4, True) + take + eoi + eoi + take + line(9, False) + eoi +
            wait(1000) + lapic(0x320, 0x200ef) + lapic(0x3e0, 0xb) + lapic(0x380, 1000) +
            wait(5000) + take + eoi + line(4, False) + pulse(2) + pulse(23) + pulse(16))
    put("irq_router", "linux-ioapic", boot)
    put("irq_router", "pic-mode", b"\0\0\0" + b"".join(pulse(i) for i in (0, 1, 4, 8, 12, 14)) +
        line(3, True) + line(5, True) + line(3, False) + take + eoi)
    put("irq_router", "x2apic-eoi", low9 + entry(9, 0xa039) + line(9, True) +
        bytes([0x87]) + struct.pack("<H", 0xd00) + take + bytes([7]) + take + line(9, False) +
        bytes([7]) + bytes([0x87]) + struct.pack("<H", 0x100) + take)


def hypercall_seeds():
    """fuzz_hypercall: 34-byte calls (nr, arg1, arg2, arg3, flags = 64-bit | CPL << 1, console
    budget / 17)."""
    def call(nr, a1=0, a2=0, a3=0, wide=True, cpl=0, budget=255):
        return struct.pack("<QQQQBB", nr, a1, a2, a3, (1 if wide else 0) | (cpl << 1), budget)
    ram = 64 * 1024
    put("hypercall", "every-call", call(1, 0x100, 32) + call(2) + call(3) + call(4) +
        call(6, 5000) + call(6, 0) + call(6, 1) + call(5, 3))
    put("hypercall", "console-edges", call(1, ram - 1, 1) + call(1, ram - 1, 2) +
        call(1, ram, 0) + call(1, 0, 4097) + call(1, 0, 4096, budget=3) +
        call(1, (1 << 64) - 8, 16) + call(1, 0xfffffff0, 0x20, wide=False))
    put("hypercall", "ring3", call(1, 0x100, 32, cpl=3) + call(5, 77, cpl=3) +
        call(1, 0x100, 32, wide=False, cpl=1) + call(6, 5000, cpl=2))
    put("hypercall", "bad-numbers", call(0) + call(7) + call(0xffff) + call((1 << 64) - 1) +
        call((1 << 32) + 1, wide=False) + call(6, 5000000 * 3600 + 1))


def insn_seeds():
    """Mode byte (0: 16-bit, 1: 32-bit, 2: 64-bit) then instruction bytes: the MMIO forms,
    instructions from every map and prefix kind, and edge cases (15 bytes, truncated)."""
    m16, m32, m64 = b"\x00", b"\x01", b"\x02"
    h = bytes.fromhex
    put("insn", "mmio-load-rip", m64 + h("8b05f8ffffff"))
    put("insn", "mmio-store-imm", m64 + h("c780b000000000000000"))
    put("insn", "mmio-store-high-byte", m64 + h("8820"))
    put("insn", "mmio-movzx", m64 + h("0fb7 00".replace(" ", "")))
    put("insn", "mmio-movsx-rex", m64 + h("480fbe00"))
    put("insn", "mmio-moffs32", m32 + h("a1f000e0fe"))
    put("insn", "mmio-16bit", m16 + h("268b4702"))
    put("insn", "sib-rex", m64 + h("478b4cac10"))
    put("insn", "movabs", m64 + h("48b8efcdab8967452301"))
    put("insn", "vex3", m64 + h("c4e3790fc101"))
    put("insn", "evex", m64 + h("62f17c48284001"))
    put("insn", "xop", m64 + h("8fe978c1c0"))
    put("insn", "enter", m64 + h("c8100001"))
    put("insn", "far-call32", m32 + h("9a785634120800"))
    put("insn", "fifteen", m64 + b"\x66" * 14 + b"\x90")
    put("insn", "sixteen", m64 + b"\x66" * 15 + b"\x90")
    put("insn", "truncated", m64 + h("48c78424000100"))
    put("insn", "vmcall", m64 + h("0f01c1"))


def gpt_walk_seeds():
    """CR0 CR3 CR4 EFER PDPTE0-3 (u64), misc (CPL, AC bit 2, CR3-in-RAM bit 7), MAXPHYADDR,
    linear address (u64), access (bit 0 write, bit 1 fetch), then RAM."""
    def head(cr0, cr3, cr4, efer, la, access=0, pdpte=(0, 0, 0, 0), misc=0, maxphy=39):
        return struct.pack("<QQQQQQQQBBQB", cr0, cr3, cr4, efer, *pdpte, misc, maxphy, la,
                           access)
    pg, wp, pe = 1 << 31, 1 << 16, 1
    pae, pse = 1 << 5, 1 << 4
    lma = (1 << 8) | (1 << 10) | (1 << 11)

    def ram(entries, size=0x6000):
        r = bytearray(size)
        for gpa, v, width in entries:
            r[gpa:gpa + width] = v.to_bytes(width, "little")
        return bytes(r)
    la = 0xffffffff81234567
    four = ram([(0x1000 + ((la >> 39) & 0x1ff) * 8, 0x2003, 8),
                (0x2000 + ((la >> 30) & 0x1ff) * 8, 0x3003, 8),
                (0x3000 + ((la >> 21) & 0x1ff) * 8, 0x4003, 8),
                (0x4000 + ((la >> 12) & 0x1ff) * 8, 0x5003, 8)])
    put("gpt_walk", "long-4k", head(pg | wp | pe, 0x1000, pae, lma, la, 2) + four)
    put("gpt_walk", "long-4k-write", head(pg | wp | pe, 0x1000, pae, lma, la, 1, misc=3) + four)
    put("gpt_walk", "paging-off", head(pe, 0, 0, 0, 0xfee000f0))
    la32 = 0xc0101234
    put("gpt_walk", "32bit-4k", head(pg | pe, 0x1000, 0, 0, la32) +
        ram([(0x1000 + (la32 >> 22) * 4, 0x2003, 4), (0x2000 + ((la32 >> 12) & 0x3ff) * 4, 0x3003, 4)]))
    put("gpt_walk", "32bit-4m", head(pg | pe, 0x1000, pse, 0, la32) +
        ram([(0x1000 + (la32 >> 22) * 4, 0x400083 | (1 << 13), 4)]))
    put("gpt_walk", "pae", head(pg | pe, 0, pae, 0, 0xc0345678, pdpte=(0, 0, 0, 0x3001)) +
        ram([(0x3000 + ((0xc0345678 >> 21) & 0x1ff) * 8, 0x4003, 8),
             (0x4000 + ((0xc0345678 >> 12) & 0x1ff) * 8, 0x5003, 8)]))
    put("gpt_walk", "la57", head(pg | pe, 0x1000, pae | (1 << 12), lma, 0xff12345678901234) + four)
def monitor_seeds():
    # fuzz_monitor.c: the bytes are typed on the serial console and, as scan codes, on a keyboard
    put("monitor", "commands", b"help\rlist\rstats hello\rregs echo\rconsole linux\rcpus\rmem\r")
    put("monitor", "bad-lines", b"bogus\rlist x\rstats\rstop nosuch\rli\x02st\r" + b"y" * 130 + b"\r")
    put("monitor", "editing", b"stats hlo\x1b[D\x1b[De\x1b[Cl\r\x1b[A\x1b[A\x1b[B\x15x\x7f\x03"
        b"\x1bOH\x1b[3~\x1b[1;5D\x1b[200~\r\n")
    put("monitor", "scancodes", bytes([0x26, 0xa6, 0x17, 0x97, 0x1f, 0x9f, 0x14, 0x94, 0x1c, 0x9c,
                                       0x2a, 0x1e, 0xaa, 0x1d, 0x1b, 0x9d, 0xe0, 0x48, 0xe0, 0x4b,
                                       0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5, 0x3a, 0x1e, 0x1c]))


if __name__ == "__main__":
    acpi_seeds()
    mb2_seeds()
    config_seeds()
    image_seeds()
    cmdline_seeds()
    vuart_seeds()
    pic_seeds()
    pit_seeds()
    rtc_seeds()
    vlapic_seeds()
    acpi_pm_seeds()
    ioapic_seeds()
    irq_router_seeds()
    outq_seeds()
    hypercall_seeds()
    insn_seeds()
    gpt_walk_seeds()
    monitor_seeds()
