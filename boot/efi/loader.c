/* Tessera's UEFI loader (BOOTX64.EFI, built with gnu-efi).
 *
 * Reads \tessera\tessera.elf and every other file in \tessera\ from its own boot volume, fills one
 * struct boot_info (the same handoff the Multiboot2 path produces), exits boot services and jumps to
 * the hypervisor's 64-bit entry with RDI = boot info. Nothing here survives the jump: the kernel
 * sees only boot_info. Nothing is printed after ExitBootServices. */
#include <efi.h>
#include <efilib.h>

#include "tessera/boot_info.h"

#define LOADER_NAME "Tessera BOOTX64.EFI"
#define TESSERA_DIR L"\\tessera"
#define KERNEL_FILE L"tessera.elf"
#define CMDLINE_FILE L"cmdline.txt"

#define PAGE_SIZE 4096ULL
#define BELOW_4G 0xFFFFFFFFULL
#define FATAL_WAIT_US 5000000
#define MAX_DIR_FILES 64    /* files considered in \tessera\ (modules are capped at BOOT_MAX_MODULES) */
#define MAX_FILE_NAME 256   /* FAT long names are at most 255 UCS-2 characters */
#define MAX_KERNEL_PHDRS 32
#define HANDOFF_STACK_SIZE (64 * 1024)
#define READ_CHUNK (1024 * 1024) /* some USB stacks dislike huge single reads */
#define EXIT_RETRIES 8

/* Pages to hold bytes; at least one, so an empty file still gets its own allocation. */
static UINT64 pages_for(UINT64 bytes)
{
    UINT64 pages = (bytes + PAGE_SIZE - 1) / PAGE_SIZE;
    return pages ? pages : 1;
}

/* ---- small helpers ------------------------------------------------------------------------- */

static void fatal_wait(void)
{
    uefi_call_wrapper(BS->Stall, 1, FATAL_WAIT_US);
}

static CHAR16 ascii_lower16(CHAR16 c)
{
    return (c >= 'A' && c <= 'Z') ? (CHAR16)(c - 'A' + 'a') : c;
}

/* FAT names are case-insensitive: compare the way the firmware's file system does (ASCII only). */
static int name_compare(const CHAR16 *a, const CHAR16 *b)
{
    while (*a && ascii_lower16(*a) == ascii_lower16(*b)) {
        a++;
        b++;
    }
    return (int)ascii_lower16(*a) - (int)ascii_lower16(*b);
}

static BOOLEAN name_ends_with(const CHAR16 *s, UINTN len, const CHAR16 *suffix)
{
    UINTN n = StrLen((CHAR16 *)suffix);
    if (len < n)
        return FALSE;
    for (UINTN i = 0; i < n; i++)
        if (ascii_lower16(s[len - n + i]) != ascii_lower16(suffix[i]))
            return FALSE;
    return TRUE;
}

/* UCS-2 to ASCII, NUL-terminated, truncated to cap-1 characters. Returns FALSE if truncated. */
static BOOLEAN ucs2_to_ascii(char *dst, UINTN cap, const CHAR16 *src, UINTN len)
{
    UINTN i;
    for (i = 0; i < len && i + 1 < cap; i++)
        dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? (char)src[i] : '?';
    dst[i] = '\0';
    return i == len;
}

static UINTN ascii_len(const char *s)
{
    UINTN n = 0;
    while (s[n])
        n++;
    return n;
}

static EFI_STATUS allocate_below_4g(UINT64 bytes, EFI_PHYSICAL_ADDRESS *addr)
{
    *addr = BELOW_4G;
    return uefi_call_wrapper(BS->AllocatePages, 4, AllocateMaxAddress, EfiLoaderData,
                             pages_for(bytes), addr);
}

/* ---- files --------------------------------------------------------------------------------- */

static EFI_STATUS open_tessera_dir(EFI_HANDLE image, EFI_FILE_HANDLE *dir)
{
    EFI_LOADED_IMAGE *loaded;
    EFI_FILE_IO_INTERFACE *fs;
    EFI_FILE_HANDLE root;
    EFI_STATUS st;

    st = uefi_call_wrapper(BS->HandleProtocol, 3, image, &LoadedImageProtocol, (void **)&loaded);
    if (EFI_ERROR(st)) {
        Print(L"FATAL: no LoadedImage protocol on our own image: %r\n", st);
        return st;
    }
    st = uefi_call_wrapper(BS->HandleProtocol, 3, loaded->DeviceHandle, &FileSystemProtocol,
                           (void **)&fs);
    if (EFI_ERROR(st)) {
        Print(L"FATAL: the boot device has no file system we can read: %r\n", st);
        return st;
    }
    st = uefi_call_wrapper(fs->OpenVolume, 2, fs, &root);
    if (EFI_ERROR(st)) {
        Print(L"FATAL: cannot open the boot volume: %r\n", st);
        return st;
    }
    st = uefi_call_wrapper(root->Open, 5, root, dir, TESSERA_DIR, EFI_FILE_MODE_READ, 0ULL);
    uefi_call_wrapper(root->Close, 1, root);
    if (EFI_ERROR(st))
        Print(L"FATAL: cannot open the directory \\tessera\\ on the boot volume: %r\n", st);
    return st;
}

/* Size of an open regular file; EFI_ACCESS_DENIED for a directory. */
static EFI_STATUS file_size(EFI_FILE_HANDLE fh, UINT64 *size)
{
    EFI_FILE_INFO *info = LibFileInfo(fh);
    if (!info)
        return EFI_DEVICE_ERROR;
    BOOLEAN is_dir = (info->Attribute & EFI_FILE_DIRECTORY) != 0;
    *size = info->FileSize;
    FreePool(info);
    return is_dir ? EFI_ACCESS_DENIED : EFI_SUCCESS;
}

/* Read exactly `size` bytes from the current position; a short read is an error. */
static EFI_STATUS read_exact(EFI_FILE_HANDLE fh, void *buf, UINT64 size)
{
    UINT8 *p = buf;
    while (size > 0) {
        UINTN chunk = size > READ_CHUNK ? READ_CHUNK : (UINTN)size;
        UINTN got = chunk;
        EFI_STATUS st = uefi_call_wrapper(fh->Read, 3, fh, &got, p);
        if (EFI_ERROR(st))
            return st;
        if (got == 0)
            return EFI_END_OF_FILE; /* file shorter than its directory entry says */
        p += got;
        size -= got;
    }
    return EFI_SUCCESS;
}

/* Whole file into fresh EfiLoaderData pages below 4 GiB. */
static EFI_STATUS read_file(EFI_FILE_HANDLE dir, const CHAR16 *name, EFI_PHYSICAL_ADDRESS *addr,
                            UINT64 *size)
{
    EFI_FILE_HANDLE fh;
    EFI_STATUS st;

    st = uefi_call_wrapper(dir->Open, 5, dir, &fh, (CHAR16 *)name, EFI_FILE_MODE_READ, 0ULL);
    if (EFI_ERROR(st))
        return st;
    st = file_size(fh, size);
    if (!EFI_ERROR(st) && *size >= BELOW_4G)
        st = EFI_BAD_BUFFER_SIZE;
    if (!EFI_ERROR(st))
        st = allocate_below_4g(*size, addr);
    if (!EFI_ERROR(st)) {
        st = read_exact(fh, (void *)(UINTN)*addr, *size);
        if (EFI_ERROR(st)) {
            uefi_call_wrapper(BS->FreePages, 2, *addr, pages_for(*size));
        }
    }
    uefi_call_wrapper(fh->Close, 1, fh);
    return st;
}

/* ---- the hypervisor ELF -------------------------------------------------------------------- */

/* Minimal ELF64 definitions: the loader includes no libc header. */
struct elf64_ehdr {
    UINT8 ident[16];
    UINT16 type, machine;
    UINT32 version;
    UINT64 entry, phoff, shoff;
    UINT32 flags;
    UINT16 ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf64_phdr {
    UINT32 type, flags;
    UINT64 offset, vaddr, paddr, filesz, memsz, align;
};

#define ELF_PT_LOAD 1
#define ELF_ET_EXEC 2
#define ELF_EM_X86_64 62

static struct elf64_phdr kernel_phdrs[MAX_KERNEL_PHDRS];

static EFI_STATUS elf_reject(const CHAR16 *why)
{
    Print(L"FATAL: \\tessera\\tessera.elf is not a loadable x86-64 ELF: %s\n", why);
    return EFI_LOAD_ERROR;
}

/* Validate the ELF header against the file size. */
static EFI_STATUS elf_check(const struct elf64_ehdr *eh, UINT64 file_size)
{
    if (eh->ident[0] != 0x7f || eh->ident[1] != 'E' || eh->ident[2] != 'L' || eh->ident[3] != 'F')
        return elf_reject(L"bad magic");
    if (eh->ident[4] != 2 || eh->ident[5] != 1)
        return elf_reject(L"not 64-bit little-endian");
    if (eh->type != ELF_ET_EXEC || eh->machine != ELF_EM_X86_64)
        return elf_reject(L"not an x86-64 executable");
    if (eh->phentsize != sizeof(struct elf64_phdr) || eh->phnum == 0 ||
        eh->phnum > MAX_KERNEL_PHDRS)
        return elf_reject(L"bad program header table");
    if (eh->phoff > file_size || (UINT64)eh->phnum * eh->phentsize > file_size - eh->phoff)
        return elf_reject(L"program headers past end of file");
    return EFI_SUCCESS;
}

/* Validate the loadable segments; compute the page-aligned physical span to claim. */
static EFI_STATUS segments_check(const struct elf64_ehdr *eh, UINT64 file_size, UINT64 *lo,
                                 UINT64 *hi)
{
    BOOLEAN any = FALSE, entry_ok = FALSE;
    *lo = ~0ULL;
    *hi = 0;
    for (UINT16 i = 0; i < eh->phnum; i++) {
        const struct elf64_phdr *ph = &kernel_phdrs[i];
        if (ph->type != ELF_PT_LOAD || ph->memsz == 0)
            continue;
        if (ph->filesz > ph->memsz)
            return elf_reject(L"segment file size larger than memory size");
        if (ph->offset > file_size || ph->filesz > file_size - ph->offset)
            return elf_reject(L"segment data past end of file");
        if (ph->paddr >= BELOW_4G || ph->memsz > BELOW_4G - ph->paddr)
            return elf_reject(L"segment not below 4 GiB");
        if (ph->vaddr != ph->paddr)
            return elf_reject(L"segment not identity-linked (vaddr != paddr)");
        if (ph->paddr < *lo)
            *lo = ph->paddr;
        if (ph->paddr + ph->memsz > *hi)
            *hi = ph->paddr + ph->memsz;
        if (eh->entry >= ph->vaddr && eh->entry < ph->vaddr + ph->memsz)
            entry_ok = TRUE;
        any = TRUE;
    }
    if (!any)
        return elf_reject(L"no loadable segment");
    if (!entry_ok)
        return elf_reject(L"entry point outside every loadable segment");
    *lo &= ~(PAGE_SIZE - 1);
    *hi = (*hi + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    return EFI_SUCCESS;
}

/* Load tessera.elf at its physical addresses. Segments are read straight from the file into
 * place; the whole span is claimed with one AllocateAddress so segments sharing a page work. */
static EFI_STATUS load_kernel(EFI_FILE_HANDLE dir, UINT64 *entry)
{
    struct elf64_ehdr eh;
    EFI_FILE_HANDLE fh;
    UINT64 size, lo, hi;
    EFI_PHYSICAL_ADDRESS base;
    EFI_STATUS st;

    st = uefi_call_wrapper(dir->Open, 5, dir, &fh, KERNEL_FILE, EFI_FILE_MODE_READ, 0ULL);
    if (EFI_ERROR(st)) {
        Print(L"FATAL: cannot read the hypervisor \\tessera\\tessera.elf: %r\n", st);
        return st;
    }
    st = file_size(fh, &size);
    if (EFI_ERROR(st)) {
        Print(L"FATAL: cannot read the hypervisor \\tessera\\tessera.elf: %r\n", st);
        goto out;
    }
    if (size < sizeof(eh)) {
        st = elf_reject(L"file too small");
        goto out;
    }
    st = read_exact(fh, &eh, sizeof(eh));
    if (!EFI_ERROR(st) && EFI_ERROR(elf_check(&eh, size))) {
        st = EFI_LOAD_ERROR;
        goto out;
    }
    if (!EFI_ERROR(st))
        st = uefi_call_wrapper(fh->SetPosition, 2, fh, eh.phoff);
    if (!EFI_ERROR(st))
        st = read_exact(fh, kernel_phdrs, (UINT64)eh.phnum * sizeof(struct elf64_phdr));
    if (EFI_ERROR(st)) {
        Print(L"FATAL: cannot read the hypervisor \\tessera\\tessera.elf: %r\n", st);
        goto out;
    }
    st = segments_check(&eh, size, &lo, &hi);
    if (EFI_ERROR(st))
        goto out;

    base = lo;
    st = uefi_call_wrapper(BS->AllocatePages, 4, AllocateAddress, EfiLoaderData,
                           pages_for(hi - lo), &base);
    if (EFI_ERROR(st)) {
        Print(L"FATAL: physical memory 0x%lx-0x%lx needed by tessera.elf is not free (%r)\n", lo,
              hi, st);
        goto out;
    }
    /* Zero everything first: covers bss and gaps between segments. */
    ZeroMem((void *)(UINTN)lo, hi - lo);
    for (UINT16 i = 0; i < eh.phnum && !EFI_ERROR(st); i++) {
        const struct elf64_phdr *ph = &kernel_phdrs[i];
        if (ph->type != ELF_PT_LOAD || ph->memsz == 0 || ph->filesz == 0)
            continue;
        st = uefi_call_wrapper(fh->SetPosition, 2, fh, ph->offset);
        if (!EFI_ERROR(st))
            st = read_exact(fh, (void *)(UINTN)ph->paddr, ph->filesz);
    }
    if (EFI_ERROR(st)) {
        Print(L"FATAL: cannot read the hypervisor \\tessera\\tessera.elf: %r\n", st);
        uefi_call_wrapper(BS->FreePages, 2, base, pages_for(hi - lo));
        goto out;
    }
    *entry = eh.entry;
    Print(L"tessera.elf: %ld bytes, loaded at 0x%lx-0x%lx, entry 0x%lx\n", size, lo, hi, eh.entry);
out:
    uefi_call_wrapper(fh->Close, 1, fh);
    return st;
}

/* ---- modules ------------------------------------------------------------------------------- */

static CHAR16 dir_names[MAX_DIR_FILES][MAX_FILE_NAME];
/* EFI_FILE_INFO is 80 bytes before its name: 128 leaves room. */
static UINT64 dir_info_buf[(128 + MAX_FILE_NAME * sizeof(CHAR16)) / 8];

/* Regular files in \tessera\, sorted by name so the module order does not depend on the
 * directory's on-disk order. */
static UINTN list_dir(EFI_FILE_HANDLE dir)
{
    UINTN count = 0;
    BOOLEAN warned = FALSE;

    uefi_call_wrapper(dir->SetPosition, 2, dir, 0ULL);
    for (;;) {
        UINTN size = sizeof(dir_info_buf);
        EFI_FILE_INFO *info = (EFI_FILE_INFO *)dir_info_buf;
        EFI_STATUS st = uefi_call_wrapper(dir->Read, 3, dir, &size, info);
        if (EFI_ERROR(st)) {
            Print(L"cannot list \\tessera\\: %r; loading the files found so far\n", st);
            break;
        }
        if (size == 0)
            break;
        if (info->Attribute & EFI_FILE_DIRECTORY)
            continue;
        if (!name_compare(info->FileName, KERNEL_FILE) || !name_compare(info->FileName, CMDLINE_FILE))
            continue;
        if (count == MAX_DIR_FILES) {
            if (!warned)
                Print(L"more than %d files in \\tessera\\: ignoring %s and later ones\n",
                      MAX_DIR_FILES, info->FileName);
            warned = TRUE;
            continue;
        }
        StrnCpy(dir_names[count], info->FileName, MAX_FILE_NAME - 1);
        dir_names[count][MAX_FILE_NAME - 1] = 0;
        /* insertion sort */
        UINTN j = count++;
        while (j > 0 && name_compare(dir_names[j - 1], dir_names[j]) > 0) {
            CHAR16 tmp[MAX_FILE_NAME];
            CopyMem(tmp, dir_names[j], sizeof(tmp));
            CopyMem(dir_names[j], dir_names[j - 1], sizeof(tmp));
            CopyMem(dir_names[j - 1], tmp, sizeof(tmp));
            j--;
        }
    }
    return count;
}

static void load_modules(EFI_FILE_HANDLE dir, struct boot_info *bi)
{
    UINTN count = list_dir(dir);

    for (UINTN i = 0; i < count; i++) {
        const CHAR16 *name = dir_names[i];
        UINTN len = StrLen((CHAR16 *)name);
        EFI_PHYSICAL_ADDRESS addr;
        UINT64 size;

        if (bi->module_count == BOOT_MAX_MODULES) {
            Print(L"cannot load \\tessera\\%s: more than %d modules; booting without it\n", name,
                  BOOT_MAX_MODULES);
            continue;
        }
        if (len >= BOOT_NAME_MAX) {
            Print(L"cannot load \\tessera\\%s: name longer than %d characters; booting without it\n",
                  name, BOOT_NAME_MAX - 1);
            continue;
        }
        EFI_STATUS st = read_file(dir, name, &addr, &size);
        if (EFI_ERROR(st)) {
            Print(L"cannot read \\tessera\\%s: %r; booting without it\n", name, st);
            continue;
        }
        struct boot_module *m = &bi->modules[bi->module_count++];
        m->addr = addr;
        m->size = size;
        ucs2_to_ascii(m->name, sizeof(m->name), name, len);
        Print(L"module %a: %ld bytes at 0x%lx\n", m->name, size, addr);
    }
}

/* ---- command line -------------------------------------------------------------------------- */

/* Appends src[0..len) to bi->cmdline; returns FALSE when it had to truncate. */
static BOOLEAN cmdline_append(struct boot_info *bi, const CHAR16 *src, UINTN len)
{
    UINTN used = ascii_len(bi->cmdline);
    if (used > 0 && len > 0) {
        if (used + 1 >= BOOT_CMDLINE_MAX)
            return FALSE;
        bi->cmdline[used++] = ' ';
        bi->cmdline[used] = '\0';
    }
    return ucs2_to_ascii(bi->cmdline + used, BOOT_CMDLINE_MAX - used, src, len);
}

/* Raw LoadOptions are only a command line when they are printable UCS-2: a boot manager entry
 * may carry binary data (edk2's auto-created entries carry a GUID). */
static BOOLEAN load_options_text(const EFI_LOADED_IMAGE *li, const CHAR16 **text, UINTN *len)
{
    const CHAR16 *p = li->LoadOptions;
    UINTN n = li->LoadOptionsSize / sizeof(CHAR16), i;
    BOOLEAN any = FALSE;

    if (!p || n == 0)
        return FALSE;
    for (i = 0; i < n && p[i]; i++) {
        if (p[i] != '\t' && (p[i] < 0x20 || p[i] > 0x7e))
            return FALSE;
        if (p[i] != ' ' && p[i] != '\t')
            any = TRUE;
    }
    *text = p;
    *len = i;
    return any;
}

static BOOLEAN is_space16(CHAR16 c)
{
    return c == ' ' || c == '\t';
}

/* From raw LoadOptions: drop a leading program path ("FS0:\EFI\BOOT\BOOTX64.EFI ...") that a
 * shell or a boot entry may put first, then trim blanks. */
static BOOLEAN cmdline_from_load_options(struct boot_info *bi, const CHAR16 *p, UINTN n)
{
    UINTN start = 0, end;
    while (start < n && is_space16(p[start]))
        start++;
    end = start;
    while (end < n && !is_space16(p[end]))
        end++;
    if (name_ends_with(p + start, end - start, L".efi"))
        start = end;
    while (start < n && is_space16(p[start]))
        start++;
    while (n > start && is_space16(p[n - 1]))
        n--;
    if (start == n)
        return FALSE;
    if (!cmdline_append(bi, p + start, n - start))
        Print(L"command line longer than %d characters: truncated\n", BOOT_CMDLINE_MAX - 1);
    return TRUE;
}

/* First line of \tessera\cmdline.txt. */
static BOOLEAN cmdline_from_file(EFI_FILE_HANDLE dir, struct boot_info *bi)
{
    EFI_PHYSICAL_ADDRESS addr;
    UINT64 size;
    EFI_STATUS st = read_file(dir, CMDLINE_FILE, &addr, &size);

    if (st == EFI_NOT_FOUND)
        return FALSE;
    if (EFI_ERROR(st)) {
        Print(L"cannot read \\tessera\\cmdline.txt: %r; booting with an empty command line\n", st);
        return FALSE;
    }
    const char *text = (const char *)(UINTN)addr;
    UINTN n = 0, out = 0;
    while (n < size && text[n] != '\n' && text[n] != '\r')
        n++;
    BOOLEAN truncated = n >= BOOT_CMDLINE_MAX;
    for (UINTN i = 0; i < n && out + 1 < BOOT_CMDLINE_MAX; i++)
        bi->cmdline[out++] = (text[i] >= 0x20 && text[i] < 0x7f) ? text[i] : ' ';
    while (out > 0 && bi->cmdline[out - 1] == ' ')
        out--;
    bi->cmdline[out] = '\0';
    if (truncated)
        Print(L"\\tessera\\cmdline.txt: first line longer than %d characters: truncated\n",
              BOOT_CMDLINE_MAX - 1);
    uefi_call_wrapper(BS->FreePages, 2, addr, pages_for(size));
    return TRUE;
}

static void collect_cmdline(EFI_HANDLE image, EFI_FILE_HANDLE dir, struct boot_info *bi)
{
    EFI_LOADED_IMAGE *li;
    CHAR16 **argv;
    const CHAR16 *text;
    UINTN len;
    const CHAR16 *source = L"none";

    bi->cmdline[0] = '\0';
    /* Started from the UEFI shell: argv[0] is the program name. */
    INTN argc = GetShellArgcArgv(image, &argv);
    if (argc > 1) {
        BOOLEAN ok = TRUE;
        for (INTN i = 1; i < argc; i++)
            ok = cmdline_append(bi, argv[i], StrLen(argv[i])) && ok;
        if (!ok)
            Print(L"command line longer than %d characters: truncated\n", BOOT_CMDLINE_MAX - 1);
        source = L"shell arguments";
    } else if (argc <= 0 &&
               !EFI_ERROR(uefi_call_wrapper(BS->HandleProtocol, 3, image, &LoadedImageProtocol,
                                            (void **)&li)) &&
               load_options_text(li, &text, &len) && cmdline_from_load_options(bi, text, len)) {
        source = L"load options";
    } else if (cmdline_from_file(dir, bi)) {
        source = L"\\tessera\\cmdline.txt";
    }
    Print(L"cmdline: \"%a\" (from %s)\n", bi->cmdline, source);
}

/* ---- ACPI and framebuffer ------------------------------------------------------------------ */

static void find_rsdp(struct boot_info *bi)
{
    EFI_GUID acpi20 = ACPI_20_TABLE_GUID, acpi10 = ACPI_TABLE_GUID;
    void *rsdp10 = NULL, *rsdp20 = NULL;

    for (UINTN i = 0; i < ST->NumberOfTableEntries; i++) {
        EFI_CONFIGURATION_TABLE *t = &ST->ConfigurationTable[i];
        if (!CompareGuid(&t->VendorGuid, &acpi20))
            rsdp20 = t->VendorTable;
        else if (!CompareGuid(&t->VendorGuid, &acpi10))
            rsdp10 = t->VendorTable;
    }
    UINT8 *rsdp = rsdp20 ? rsdp20 : rsdp10;
    if (!rsdp || CompareMem(rsdp, "RSD PTR ", 8) != 0) {
        Print(L"ACPI: no RSDP in the firmware's configuration table\n");
        return;
    }
    bi->rsdp = (UINT64)(UINTN)rsdp;
    bi->rsdp_revision = rsdp[15];
    Print(L"ACPI: RSDP at 0x%lx, revision %d\n", bi->rsdp, bi->rsdp_revision);
}

static void mask_to_field(UINT32 mask, UINT8 *pos, UINT8 *size)
{
    UINT8 p = 0, s = 0;
    if (mask) {
        while (!(mask & 1)) {
            mask >>= 1;
            p++;
        }
        while (mask & 1) {
            mask >>= 1;
            s++;
        }
    }
    *pos = p;
    *size = s;
}

static void find_framebuffer(struct boot_info *bi)
{
    EFI_GRAPHICS_OUTPUT_PROTOCOL *gop;
    struct boot_framebuffer *fb = &bi->fb;

    fb->type = BOOT_FB_NONE;
    if (EFI_ERROR(LibLocateProtocol(&GraphicsOutputProtocol, (void **)&gop)) || !gop ||
        !gop->Mode || !gop->Mode->Info) {
        Print(L"framebuffer: none\n");
        return;
    }
    EFI_GRAPHICS_OUTPUT_MODE_INFORMATION *info = gop->Mode->Info;
    switch (info->PixelFormat) {
    case PixelRedGreenBlueReserved8BitPerColor:
        fb->red_pos = 0, fb->green_pos = 8, fb->blue_pos = 16;
        fb->red_size = fb->green_size = fb->blue_size = 8;
        break;
    case PixelBlueGreenRedReserved8BitPerColor:
        fb->blue_pos = 0, fb->green_pos = 8, fb->red_pos = 16;
        fb->red_size = fb->green_size = fb->blue_size = 8;
        break;
    case PixelBitMask:
        mask_to_field(info->PixelInformation.RedMask, &fb->red_pos, &fb->red_size);
        mask_to_field(info->PixelInformation.GreenMask, &fb->green_pos, &fb->green_size);
        mask_to_field(info->PixelInformation.BlueMask, &fb->blue_pos, &fb->blue_size);
        break;
    default: /* PixelBltOnly: no linear framebuffer to hand over */
        Print(L"framebuffer: none (GOP mode is blit-only)\n");
        return;
    }
    fb->addr = gop->Mode->FrameBufferBase;
    fb->width = info->HorizontalResolution;
    fb->height = info->VerticalResolution;
    fb->pitch = info->PixelsPerScanLine * 4;
    fb->bpp = 32;
    fb->type = BOOT_FB_RGB;
    Print(L"framebuffer: %dx%d at 0x%lx, pitch %d\n", fb->width, fb->height, fb->addr, fb->pitch);
}

/* ---- memory map and exit ------------------------------------------------------------------- */

static UINT32 boot_mem_type(UINT32 efi_type)
{
    switch (efi_type) {
    case EfiConventionalMemory:
    case EfiBootServicesCode:
    case EfiBootServicesData:
        return BOOT_MEM_USABLE;
    case EfiLoaderCode:
    case EfiLoaderData:
        return BOOT_MEM_LOADER;
    case EfiACPIReclaimMemory:
        return BOOT_MEM_ACPI_RECLAIM;
    case EfiACPIMemoryNVS:
        return BOOT_MEM_ACPI_NVS;
    case EfiRuntimeServicesCode:
    case EfiRuntimeServicesData:
        return BOOT_MEM_FIRMWARE;
    case EfiMemoryMappedIO:
    case EfiMemoryMappedIOPortSpace:
        return BOOT_MEM_MMIO;
    case EfiUnusableMemory:
        return BOOT_MEM_BAD;
    default:
        return BOOT_MEM_RESERVED;
    }
}

static EFI_MEMORY_DESCRIPTOR *map_entry(void *map, UINTN desc_size, UINTN i)
{
    return (EFI_MEMORY_DESCRIPTOR *)((UINT8 *)map + i * desc_size);
}

static void swap_bytes(UINT8 *a, UINT8 *b, UINTN n)
{
    for (UINTN i = 0; i < n; i++) {
        UINT8 t = a[i];
        a[i] = b[i];
        b[i] = t;
    }
}

/* Sort the firmware's map by address (the spec does not promise order) and normalise it into
 * bi->mem, merging neighbours of equal type. Pure: safe after ExitBootServices. Past
 * BOOT_MAX_MEM_REGIONS the tail is folded into the last region as RESERVED, which can only lose
 * usable memory, never invent it. Returns the number of regions needed without folding. */
static UINTN convert_memory_map(void *map, UINTN map_size, UINTN desc_size, struct boot_info *bi)
{
    UINTN n = map_size / desc_size, needed = 0;

    for (UINTN i = 1; i < n; i++)
        for (UINTN j = i; j > 0 && map_entry(map, desc_size, j - 1)->PhysicalStart >
                                       map_entry(map, desc_size, j)->PhysicalStart;
             j--)
            swap_bytes((UINT8 *)map_entry(map, desc_size, j - 1),
                       (UINT8 *)map_entry(map, desc_size, j), desc_size);

    bi->mem_region_count = 0;
    for (UINTN i = 0; i < n; i++) {
        EFI_MEMORY_DESCRIPTOR *d = map_entry(map, desc_size, i);
        UINT64 base = d->PhysicalStart, len = d->NumberOfPages * PAGE_SIZE;
        UINT32 type = boot_mem_type(d->Type);
        struct boot_mem_region *last =
            bi->mem_region_count ? &bi->mem[bi->mem_region_count - 1] : NULL;

        if (len == 0)
            continue;
        if (last && last->type == type && last->base + last->length == base) {
            last->length += len;
            continue;
        }
        needed++;
        if (bi->mem_region_count == BOOT_MAX_MEM_REGIONS) {
            if (base + len > last->base + last->length)
                last->length = base + len - last->base;
            last->type = BOOT_MEM_RESERVED;
            continue;
        }
        struct boot_mem_region *r = &bi->mem[bi->mem_region_count++];
        r->base = base;
        r->length = len;
        r->type = type;
        r->reserved = 0;
    }
    return needed;
}

/* The last GetMemoryMap before ExitBootServices must have nothing that allocates after it: the
 * buffer is sized with slack up front, and a stale key (EFI_INVALID_PARAMETER) is retried with
 * only GetMemoryMap in between, as UEFI 2.x section 7.4 (ExitBootServices) requires. */
static EFI_STATUS exit_boot_services(EFI_HANDLE image, struct boot_info *bi, UINT64 entry)
{
    UINTN map_size = 0, key, desc_size, cap;
    UINT32 desc_version;
    EFI_PHYSICAL_ADDRESS buf;
    EFI_STATUS st;

    st = uefi_call_wrapper(BS->GetMemoryMap, 5, &map_size, NULL, &key, &desc_size, &desc_version);
    if (st != EFI_BUFFER_TOO_SMALL || desc_size < sizeof(EFI_MEMORY_DESCRIPTOR)) {
        Print(L"FATAL: GetMemoryMap failed: %r\n", st);
        return EFI_ERROR(st) ? st : EFI_DEVICE_ERROR;
    }
    /* Slack: our own allocation and later firmware activity add entries. */
    cap = map_size + 64 * desc_size + 2 * PAGE_SIZE;
    st = allocate_below_4g(cap, &buf);
    if (EFI_ERROR(st)) {
        Print(L"FATAL: cannot allocate %ld bytes for the memory map: %r\n", (UINT64)cap, st);
        return st;
    }
    void *map = (void *)(UINTN)buf;

    /* Preview, so problems are reported while we can still print. */
    map_size = cap;
    st = uefi_call_wrapper(BS->GetMemoryMap, 5, &map_size, map, &key, &desc_size, &desc_version);
    if (EFI_ERROR(st)) {
        Print(L"FATAL: GetMemoryMap failed: %r\n", st);
        return st;
    }
    UINTN needed = convert_memory_map(map, map_size, desc_size, bi);
    Print(L"memory map: %ld firmware entries, %ld regions\n", (UINT64)(map_size / desc_size),
          (UINT64)needed);
    if (needed > BOOT_MAX_MEM_REGIONS)
        Print(L"memory map has %ld regions, more than %d: the excess is folded into reserved "
              L"memory\n",
              (UINT64)needed, BOOT_MAX_MEM_REGIONS);
    Print(L"exiting boot services; kernel entry 0x%lx, boot info at 0x%lx\n", entry,
          (UINT64)(UINTN)bi);

#ifdef LOADER_TEST_STALE_KEY
    Print(L"test build: the first ExitBootServices gets a stale map key\n");
#endif
    for (int attempt = 0; attempt < EXIT_RETRIES; attempt++) {
        map_size = cap;
        st = uefi_call_wrapper(BS->GetMemoryMap, 5, &map_size, map, &key, &desc_size,
                               &desc_version);
        if (EFI_ERROR(st))
            break;
#ifdef LOADER_TEST_STALE_KEY
        /* Test-only: change the map behind the key's back so the retry path runs. */
        EFI_PHYSICAL_ADDRESS stale;
        if (attempt == 0 && EFI_ERROR(allocate_below_4g(PAGE_SIZE, &stale)))
            break;
#endif
        st = uefi_call_wrapper(BS->ExitBootServices, 2, image, key);
        if (st == EFI_SUCCESS) {
            convert_memory_map(map, map_size, desc_size, bi);
            return EFI_SUCCESS;
        }
        if (st != EFI_INVALID_PARAMETER)
            break;
    }
    /* Boot services may be partly gone: printing is best effort. */
    Print(L"FATAL: ExitBootServices failed: %r\n", st);
    return st;
}

typedef void (*kernel_entry_fn)(struct boot_info *);

/* Switch to a stack we own (the firmware's is boot-services memory, which the kernel may reuse),
 * and call the SysV entry with RDI = boot info, interrupts off. Never returns. */
static void __attribute__((noreturn)) jump_to_kernel(UINT64 entry, struct boot_info *bi,
                                                     UINT64 stack_top)
{
    __asm__ volatile("cli\n\t"
                     "mov %0, %%rsp\n\t"
                     "xor %%ebp, %%ebp\n\t"
                     "call *%1\n\t"
                     "1: cli\n\t"
                     "hlt\n\t"
                     "jmp 1b"
                     :
                     : "r"(stack_top), "r"(entry), "D"(bi)
                     : "memory");
    __builtin_unreachable();
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
    EFI_FILE_HANDLE dir;
    EFI_PHYSICAL_ADDRESS bi_addr, stack;
    UINT64 entry = 0;
    EFI_STATUS st;

    InitializeLib(image, systab);
    /* The boot manager arms a 5-minute watchdog; a large load over slow USB must not trip it. */
    uefi_call_wrapper(BS->SetWatchdogTimer, 4, 0, 0, 0, NULL);
    Print(L"\n" LOADER_NAME L": loading Tessera from \\tessera\\\n");

    st = allocate_below_4g(sizeof(struct boot_info), &bi_addr);
    if (!EFI_ERROR(st))
        st = allocate_below_4g(HANDOFF_STACK_SIZE, &stack);
    if (EFI_ERROR(st)) {
        Print(L"FATAL: cannot allocate the boot information: %r\n", st);
        fatal_wait();
        return st;
    }
    struct boot_info *bi = (struct boot_info *)(UINTN)bi_addr;
    ZeroMem(bi, sizeof(*bi));
    bi->magic = BOOT_INFO_MAGIC;
    bi->version = BOOT_INFO_VERSION;
    bi->path = BOOT_PATH_UEFI;
    bi->firmware = BOOT_FIRMWARE_UEFI;
    CopyMem(bi->loader_name, LOADER_NAME, sizeof(LOADER_NAME));

    st = open_tessera_dir(image, &dir);
    if (EFI_ERROR(st)) {
        fatal_wait();
        return st;
    }
    st = load_kernel(dir, &entry);
    if (EFI_ERROR(st)) {
        uefi_call_wrapper(dir->Close, 1, dir);
        fatal_wait();
        return st;
    }
    load_modules(dir, bi);
    collect_cmdline(image, dir, bi);
    uefi_call_wrapper(dir->Close, 1, dir);
    find_rsdp(bi);
    find_framebuffer(bi);

    st = exit_boot_services(image, bi, entry);
    if (EFI_ERROR(st)) {
        fatal_wait();
        return st;
    }
    jump_to_kernel(entry, bi, stack + HANDOFF_STACK_SIZE);
}
