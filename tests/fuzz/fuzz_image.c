/* Guest image probe and load. The input is the image (in a buffer of exactly its size); the
 * input's length modulo 4 picks the guest RAM size (2 MiB, 1 MiB + 64 KiB, 64 KiB, 3 MiB); a
 * command line and one module are passed (but to a boot sector, which takes neither; a Linux
 * bzImage gets the module's bytes as its initrd and an RSDP address instead). Guest RAM
 * sits between two guard zones that ASan treats as poisoned (a write there stops at once with a
 * stack trace) and that must still hold their fill pattern afterwards: every byte the loader
 * writes lies inside the VM's RAM. When a load succeeds, the start state points inside RAM too.
 * FUZZ-SOURCES: kernel/image/probe.c kernel/image/load.c kernel/image/linux.c kernel/mm/guest_mem.c kernel/lib/printf.c kernel/lib/string.c */
#include <sanitizer/asan_interface.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tessera/image.h>

#define GUARD 0x10000u
#define RAM_MAX (3u << 20)
#define FILL 0xa5

static const uint64_t ram_sizes[4] = { 2u << 20, (1u << 20) + 0x10000, 0x10000, 3u << 20 };

static void check_guard(const uint8_t *g)
{
    ASAN_UNPOISON_MEMORY_REGION(g, GUARD);
    for (unsigned i = 0; i < GUARD; i++)
        if (g[i] != FILL)
            abort(); /* written outside guest RAM */
}

/* [addr, addr + len) inside RAM */
static int inside(uint64_t addr, uint64_t len, uint64_t ram)
{
    return addr <= ram && len <= ram - addr;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t *buf;
    static uint8_t module_data[3000];
    static const struct image_module module = { module_data, sizeof(module_data), "mod.bin" };
    struct image_info info;
    struct guest_boot_state st;
    char reason[160];
    uint64_t ram_size = ram_sizes[size % 4];

    if (!buf) {
        buf = malloc(GUARD + RAM_MAX + GUARD + 0x10000);
        if (!buf)
            abort();
        memset(module_data, 0x3c, sizeof(module_data));
    }
    uint8_t *image = malloc(size ? size : 1);
    if (!image)
        abort();
    memcpy(image, data, size);

    reason[0] = 0;
    if (image_probe(image, size, &info, reason, sizeof(reason)) != 0) {
#ifdef FUZZ_VERBOSE
        fprintf(stderr, "image_probe: %s\n", reason);
#endif
        if (reason[0] == 0)
            abort(); /* a refusal says why */
        free(image);
        return 0;
    }
    if (info.segment_count > IMAGE_MAX_SEGMENTS)
        abort();
    for (unsigned i = 0; i < info.segment_count; i++) {
        const struct image_segment *s = &info.segments[i];
        if (s->file_size > s->mem_size || s->file_offset > size ||
            s->file_size > size - s->file_offset)
            abort(); /* probe promised the segment's bytes are in the file */
    }

    uint8_t *lo = buf, *ram = buf + GUARD, *hi = buf + GUARD + ram_size;
    memset(lo, FILL, GUARD);
    memset(ram, 0, ram_size);
    memset(hi, FILL, GUARD);
    ASAN_POISON_MEMORY_REGION(lo, GUARD);
    ASAN_POISON_MEMORY_REGION(hi, GUARD);
    reason[0] = 0;
    /* a boot sector takes no modules or command line (refused), Linux an initrd instead of
     * modules: pass each what it takes */
    int boot_sector = info.format == IMAGE_FORMAT_BOOTSECTOR;
    int is_linux = info.format == IMAGE_FORMAT_LINUX;
    const struct vcpu_memory mem = { (uint64_t)(uintptr_t)ram, ram_size };
    const struct image_linux_args linux_args = { &module, 0xe0000 };
    int err = image_load(&info, image, size, &mem, boot_sector ? NULL : "console=com1 x=1",
                         &module, !boot_sector && !is_linux, is_linux ? &linux_args : NULL, &st,
                         reason, sizeof(reason));
    check_guard(lo);
    check_guard(hi);
#ifdef FUZZ_VERBOSE /* -DFUZZ_VERBOSE: what each input did, to check seeds */
    fprintf(stderr, "image_load %d mode %u rip 0x%llx: %s\n", err, st.mode,
            (unsigned long long)st.rip, reason);
#endif
    if (err) {
        if (reason[0] == 0)
            abort();
    } else {
        switch (st.mode) {
        case GUEST_MODE_REAL16:
            if (!inside((uint64_t)st.cs_selector * 16 + st.rip, 1, ram_size))
                abort();
            break;
        case GUEST_MODE_LONG64:
            if (!inside(st.cr3, IMAGE_PAGE_TABLES_END - IMAGE_PAGE_TABLES, ram_size) ||
                !inside(st.rdi, 1, ram_size))
                abort();
            if (is_linux) {
                /* zero page in RAM, and everything it points at: command line, initrd */
                if (!inside(st.rsi, LINUX_ZP_SIZE, ram_size))
                    abort();
                const uint8_t *zp = ram + st.rsi;
                uint64_t cmd = zp[LINUX_CMD_LINE_PTR] | (uint64_t)zp[LINUX_CMD_LINE_PTR + 1] << 8 |
                               (uint64_t)zp[LINUX_CMD_LINE_PTR + 2] << 16 |
                               (uint64_t)zp[LINUX_CMD_LINE_PTR + 3] << 24;
                uint64_t rd = 0, rd_size = 0;
                memcpy(&rd, zp + LINUX_RAMDISK_IMAGE, 4);
                memcpy(&rd_size, zp + LINUX_RAMDISK_SIZE, 4);
                if (!inside(cmd, strlen("console=com1 x=1") + 1, ram_size) ||
                    rd_size != sizeof(module_data) || !inside(rd, rd_size, ram_size) ||
                    memcmp(ram + rd, module_data, rd_size) != 0 ||
                    rd < info.linux_hdr.load_addr + info.linux_hdr.init_size ||
                    st.rip != info.linux_hdr.load_addr + LINUX_ENTRY64_OFFSET ||
                    !inside(info.linux_hdr.load_addr, info.linux_hdr.init_size, ram_size))
                    abort();
            }
            /* fall through */
        case GUEST_MODE_PROT32:
            if (!inside(st.rip, 1, ram_size) || st.rsp > ram_size ||
                !inside(st.gdt_base, (uint64_t)st.gdt_limit + 1, ram_size))
                abort();
            if (st.mode == GUEST_MODE_PROT32 && !inside(st.rbx, 1, ram_size))
                abort();
            break;
        default:
            abort();
        }
    }
    free(image);
    return 0;
}
