/* UNIT-SOURCES: arch/x86/insn.c */
/* The x86 decoder: lengths of instructions from every opcode map and prefix kind in 16-, 32- and
 * 64-bit code (checked against GNU objdump by hand), ModRM/SIB/displacement forms, truncated and
 * over-long input, undefined opcodes, and the MMIO forms Linux's xAPIC and I/O APIC accessors
 * compile to, with their register results. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <errno.h>
#include <stdio.h>
#include <cmocka.h>

#include <x86/insn.h>

struct vec {
    enum insn_mode mode;
    unsigned len;
    const char *bytes; /* hex */
};

static size_t unhex(const char *s, uint8_t *out)
{
    size_t n = 0;
    while (s[0] && s[1]) {
        if (s[0] == ' ') {
            s++;
            continue;
        }
        unsigned v;
        sscanf(s, "%2x", &v);
        out[n++] = (uint8_t)v;
        s += 2;
    }
    return n;
}

static const struct vec lengths[] = {
    /* 64-bit */
    { INSN_MODE_64, 1, "90" },                        /* nop */
    { INSN_MODE_64, 1, "f4" },                        /* hlt */
    { INSN_MODE_64, 2, "0fa2" },                      /* cpuid */
    { INSN_MODE_64, 2, "0f30" },                      /* wrmsr */
    { INSN_MODE_64, 3, "0f01c1" },                    /* vmcall */
    { INSN_MODE_64, 3, "0f01d9" },                    /* vmmcall */
    { INSN_MODE_64, 1, "ec" },                        /* in al,dx */
    { INSN_MODE_64, 2, "e670" },                      /* out 0x70,al */
    { INSN_MODE_64, 2, "66ef" },                      /* out dx,ax */
    { INSN_MODE_64, 2, "f36d" },                      /* rep insd */
    { INSN_MODE_64, 3, "0f22d8" },                    /* mov cr3,rax */
    { INSN_MODE_64, 4, "440f20c0" },                  /* mov rax,cr8 */
    { INSN_MODE_64, 10, "48b8efcdab8967452301" },     /* movabs rax,imm64 */
    { INSN_MODE_64, 5, "b878563412" },                /* mov eax,imm32 */
    { INSN_MODE_64, 4, "66b83412" },                  /* mov ax,imm16 */
    { INSN_MODE_64, 7, "8b0c25f000e0ff" },            /* mov ecx,[0xffffffffffe000f0] (SIB no base) */
    { INSN_MODE_64, 6, "8b05f8ffffff" },              /* mov eax,[rip-8] */
    { INSN_MODE_64, 10, "c705f0ffffff01000000" },     /* mov dword [rip-16],1 */
    { INSN_MODE_64, 3, "418b06" },                    /* mov eax,[r14] */
    { INSN_MODE_64, 4, "428b0408" },                  /* mov eax,[rax+r9] */
    { INSN_MODE_64, 4, "8b44240c" },                  /* mov eax,[rsp+0xc] */
    { INSN_MODE_64, 5, "e800000000" },                /* call rel32 */
    { INSN_MODE_64, 6, "66e800000000" },              /* call rel32 (66 ignored, Intel) */
    { INSN_MODE_64, 6, "0f8400000000" },              /* jz rel32 */
    { INSN_MODE_64, 2, "7400" },                      /* jz rel8 */
    { INSN_MODE_64, 3, "f60001" + 0 },                /* test byte [rax],1 */
    { INSN_MODE_64, 2, "f610" },                      /* not byte [rax] */
    { INSN_MODE_64, 6, "f70078563412" },              /* test dword [rax],imm32 */
    { INSN_MODE_64, 4, "c8100001" },                  /* enter 16,1 */
    { INSN_MODE_64, 3, "c21000" },                    /* ret 16 */
    { INSN_MODE_64, 4, "c5f828c1" },                  /* vmovaps xmm0,xmm1 */
    { INSN_MODE_64, 5, "c4e27918c1" },                /* vbroadcastss xmm0,xmm1 */
    { INSN_MODE_64, 6, "c4e3790fc101" },              /* vpalignr xmm0,xmm0,xmm1,1 */
    { INSN_MODE_64, 6, "62f17c4828c1" },              /* vmovaps zmm0,zmm1 */
    { INSN_MODE_64, 7, "62f17c48284001" },            /* vmovaps zmm0,[rax+0x40] (disp8*N) */
    { INSN_MODE_64, 5, "660f38dcc1" },                /* aesenc xmm0,xmm1 */
    { INSN_MODE_64, 4, "0f1f4000" },                  /* nopl [rax+0] */
    { INSN_MODE_64, 4, "0fbae005" },                  /* bt eax,5 */
    { INSN_MODE_64, 3, "0fae38" },                    /* clflush [rax]... */
    { INSN_MODE_64, 2, "cd80" },                      /* int 0x80 */
    { INSN_MODE_64, 2, "0f0b" },                      /* ud2 */
    { INSN_MODE_64, 7, "8b0425f0030000" },            /* mov eax,[0x3f0] */
    { INSN_MODE_64, 12, "48c784240001000078563412" }, /* mov qword [rsp+0x100],imm32 */
    { INSN_MODE_64, 7, "8b84c880000000" },            /* mov eax,[rax+rcx*8+0x80] */
    { INSN_MODE_64, 10, "48a1f000e0ffffffffff" },     /* movabs rax,[moffs64] */
    { INSN_MODE_64, 3, "f60001" },                    /* test byte [rax],1 */
    { INSN_MODE_64, 3, "66f7d0" },                    /* not ax */
    { INSN_MODE_64, 3, "c5f877" },                    /* vzeroupper: no ModRM */
    { INSN_MODE_64, 6, "660f3a0fc101" },              /* palignr xmm0,xmm1,1 */
    { INSN_MODE_64, 10, "662e0f1f840000000000" },     /* cs nopw [rax+rax+0] */
    { INSN_MODE_64, 5, "f0480fb111" },                /* lock cmpxchg [rcx],rdx */
    { INSN_MODE_64, 3, "0fb60a" },                    /* movzx ecx,byte [rdx] */
    { INSN_MODE_64, 3, "0fae38" },                    /* clflush [rax] */
    { INSN_MODE_64, 5, "8fe978c1c0" },                /* XOP map 9: ModRM, no immediate */
    { INSN_MODE_64, 2, "8fc0" },                      /* pop rax */    /* 32-bit */
    { INSN_MODE_32, 5, "a1f000e0fe" },                /* mov eax,[0xfee000f0] */
    { INSN_MODE_32, 6, "8b15f000e0fe" },              /* mov edx,[0xfee000f0] */
    { INSN_MODE_32, 1, "40" },                        /* inc eax */
    { INSN_MODE_32, 7, "9a785634120800" },            /* call far 0x8:0x12345678 */
    { INSN_MODE_32, 2, "c406" },                      /* les eax,[esi] */
    { INSN_MODE_32, 4, "668b4702" },                  /* mov ax,[edi+2] */
    { INSN_MODE_32, 4, "678b4702" },                  /* mov eax,[bx+2] */
    { INSN_MODE_32, 2, "d40a" },                      /* aam */
    { INSN_MODE_32, 5, "c4e17928c1" },                /* vmovapd xmm0,xmm1 (VEX: ModRM 11) */
    { INSN_MODE_32, 4, "66e90000" },                  /* jmp rel16 */
    /* 16-bit */
    { INSN_MODE_16, 3, "b80000" },                    /* mov ax,0 */
    { INSN_MODE_16, 6, "66b878563412" },              /* mov eax,imm32 */
    { INSN_MODE_16, 3, "8b4702" },                    /* mov ax,[bx+2] */
    { INSN_MODE_16, 3, "e80000" },                    /* call rel16 */
    { INSN_MODE_16, 4, "8b160010" },                  /* mov dx,[0x1000] */
    { INSN_MODE_16, 5, "ea00007c00" },                /* jmp far 0:0x7c00 */
    { INSN_MODE_16, 5, "67668b0424" },                /* mov eax,[esp] (SIB) */
};

static void check_len(enum insn_mode mode, const char *hex, unsigned want)
{
    uint8_t b[32];
    size_t n = unhex(hex, b);
    struct insn in;
    int err = insn_decode(&in, b, n, mode);
    if (err || in.length != want)
        fail_msg("mode %u %s: err %d length %u, want %u", mode, hex, err, err ? 0 : in.length,
                 want);
    /* every shorter prefix of it is "need more", never a wrong answer */
    for (size_t k = 0; k < want; k++)
        assert_int_equal(insn_decode(&in, b, k, mode), -EAGAIN);
}

static void test_lengths(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++)
        check_len(lengths[i].mode, lengths[i].bytes, lengths[i].len);
}

static void test_modrm_fields(void **state)
{
    (void)state;
    uint8_t b[16];
    struct insn in;
    /* mov r9d,[r12+r13*4+0x10]: REX.WRXB=0x47 without W */
    size_t n = unhex("478b4cac10", b);
    assert_int_equal(insn_decode(&in, b, n, INSN_MODE_64), 0);
    assert_int_equal(in.length, 5);
    assert_int_equal(in.reg, 9);
    assert_int_equal(in.base, 12);
    assert_int_equal(in.index, 13);
    assert_int_equal(in.scale, 4);
    assert_int_equal(in.disp, 0x10);
    assert_int_equal(in.operand_size, 4);
    assert_true(in.mem);
    /* mov eax,[rip-8] */
    n = unhex("8b05f8ffffff", b);
    assert_int_equal(insn_decode(&in, b, n, INSN_MODE_64), 0);
    assert_true(in.rip_relative);
    assert_int_equal(in.disp, -8);
    assert_int_equal(in.base, INSN_NO_REG);
    /* the same bytes in 32-bit code: absolute */
    assert_int_equal(insn_decode(&in, b, n, INSN_MODE_32), 0);
    assert_false(in.rip_relative);
    /* [rsp]: SIB with index 100 = none */
    n = unhex("8b0424", b);
    assert_int_equal(insn_decode(&in, b, n, INSN_MODE_64), 0);
    assert_int_equal(in.base, 4);
    assert_int_equal(in.index, INSN_NO_REG);
    /* REX.X makes index 100 r12 */
    n = unhex("428b0424", b);
    assert_int_equal(insn_decode(&in, b, n, INSN_MODE_64), 0);
    assert_int_equal(in.index, 12);
    /* a REX followed by a legacy prefix does not count */
    n = unhex("48668b00", b);
    assert_int_equal(insn_decode(&in, b, n, INSN_MODE_64), 0);
    assert_int_equal(in.rex, 0);
    assert_int_equal(in.operand_size, 2);
    /* segment override and 16-bit addressing */
    n = unhex("268b4702", b);
    assert_int_equal(insn_decode(&in, b, n, INSN_MODE_16), 0);
    assert_int_equal(in.segment, INSN_SEG_ES);
    assert_int_equal(in.base, 3);
    assert_int_equal(in.index, INSN_NO_REG);
    assert_int_equal(in.address_size, 2);
}

/* MOV to/from CRn (0F 22 / 0F 20), which the SVM backend decodes for a CR4 write without decode
 * assists: mod is ignored (always a register operand, no displacement), REX.R extends the CR
 * and REX.B the register, LOCK is AMD's way to CR8 (the caller adds 8), prefixes count, and a
 * REX byte is INC/DEC outside 64-bit code. */
static void test_mov_cr(void **state)
{
    (void)state;
    uint8_t b[20];
    struct insn in;
    size_t n = unhex("0f22e0", b); /* mov cr4, rax */
    assert_int_equal(insn_decode(&in, b, n, INSN_MODE_64), 0);
    assert_int_equal(in.map, INSN_MAP_0F);
    assert_int_equal(in.opcode, 0x22);
    assert_int_equal(in.reg, 4);
    assert_int_equal(in.rm, 0);
    assert_int_equal(in.length, 3);
    n = unhex("0f20e3", b); /* mov rbx, cr4 */
    assert_int_equal(insn_decode(&in, b, n, INSN_MODE_64), 0);
    assert_int_equal(in.opcode, 0x20);
    assert_int_equal(in.reg, 4);
    assert_int_equal(in.rm, 3);
    n = unhex("0f2205", b); /* mod 00 rm 101: still a register (rbp), no disp32 */
    assert_int_equal(insn_decode(&in, b, n, INSN_MODE_64), 0);
    assert_int_equal(in.length, 3);
    assert_false(in.mem);
    assert_int_equal(in.rm, 5);
    n = unhex("0f2224", b); /* mod 00 rm 100: no SIB */
    assert_int_equal(insn_decode(&in, b, n, INSN_MODE_32), 0);
    assert_int_equal(in.length, 3);
    n = unhex("410f22e4", b); /* mov cr4, r12 */
    assert_int_equal(insn_decode(&in, b, n, INSN_MODE_64), 0);
    assert_int_equal(in.reg, 4);
    assert_int_equal(in.rm, 12);
    assert_int_equal(in.length, 4);
    n = unhex("440f22c0", b); /* mov cr8, rax */
    assert_int_equal(insn_decode(&in, b, n, INSN_MODE_64), 0);
    assert_int_equal(in.reg, 8);
    assert_int_equal(insn_decode(&in, b, n, INSN_MODE_32), 0); /* inc esp */
    assert_int_equal(in.length, 1);
    n = unhex("f00f22c0", b); /* AMD: lock mov cr0, eax is mov cr8, eax */
    assert_int_equal(insn_decode(&in, b, n, INSN_MODE_32), 0);
    assert_true(in.lock);
    assert_int_equal(in.reg, 0);
    assert_int_equal(in.length, 4);
    n = unhex("2e660f22e1", b);
    assert_int_equal(insn_decode(&in, b, n, INSN_MODE_64), 0);
    assert_int_equal(in.length, 5);
    assert_int_equal(in.rm, 1);
    n = unhex("0f22", b);
    assert_int_equal(insn_decode(&in, b, n, INSN_MODE_64), -EAGAIN);
    memset(b, 0x66, sizeof(b)); /* 14 prefixes + 3 bytes: 17, too long */
    b[14] = 0x0f, b[15] = 0x22, b[16] = 0xe0;
    assert_int_equal(insn_decode(&in, b, 17, INSN_MODE_64), -EINVAL);
    b[12] = 0x0f, b[13] = 0x22, b[14] = 0xe0; /* exactly 15 */
    assert_int_equal(insn_decode(&in, b, sizeof(b), INSN_MODE_64), 0);
    assert_int_equal(in.length, 15);
}

static void test_refused(void **state)
{
    (void)state;
    uint8_t b[32];
    struct insn in;
    /* 15 bytes are fine, 16 are not: 14 prefixes + nop; 15 prefixes + nop */
    memset(b, 0x66, sizeof(b));
    b[14] = 0x90;
    assert_int_equal(insn_decode(&in, b, 15, INSN_MODE_64), 0);
    assert_int_equal(in.length, 15);
    b[14] = 0x66;
    b[15] = 0x90;
    assert_int_equal(insn_decode(&in, b, 16, INSN_MODE_64), -EINVAL);
    assert_int_equal(insn_decode(&in, b, 32, INSN_MODE_64), -EINVAL);
    /* an immediate running past 15 bytes */
    memset(b, 0x2e, 12);
    memcpy(b + 12, "\x48\xb8\x00\x00\x00\x00\x00\x00\x00\x00", 10);
    assert_int_equal(insn_decode(&in, b, 22, INSN_MODE_64), -EINVAL);
    /* undefined in 64-bit mode, fine in 32-bit mode */
    static const char *const only32[] = { "06", "27", "60", "ce", "d40a", "9a785634120800",
                                          "82c001" };
    for (size_t i = 0; i < sizeof(only32) / sizeof(only32[0]); i++) {
        size_t n = unhex(only32[i], b);
        assert_int_equal(insn_decode(&in, b, n, INSN_MODE_32), 0);
        assert_int_equal(insn_decode(&in, b, n, INSN_MODE_64), -EINVAL);
    }
    /* undefined everywhere */
    size_t n = unhex("d6", b);
    assert_int_equal(insn_decode(&in, b, n, INSN_MODE_32), -EINVAL);
    n = unhex("0f04", b);
    assert_int_equal(insn_decode(&in, b, n, INSN_MODE_64), -EINVAL);
    /* VEX after a 66 prefix is #UD */
    n = unhex("66c5f828c1", b);
    assert_int_equal(insn_decode(&in, b, n, INSN_MODE_64), -EINVAL);
    /* a bad mode */
    assert_int_equal(insn_decode(&in, b, n, (enum insn_mode)8), -EINVAL);
    /* empty input */
    assert_int_equal(insn_decode(&in, b, 0, INSN_MODE_64), -EAGAIN);
}

static void mmio_of(const char *hex, enum insn_mode mode, struct insn_mmio *m, int want)
{
    uint8_t b[16];
    struct insn in;
    size_t n = unhex(hex, b);
    assert_int_equal(insn_decode(&in, b, n, mode), 0);
    assert_int_equal(in.length, n);
    assert_int_equal(insn_mmio(&in, m), want);
}

/* The instructions Linux 6.1's native_apic_mem_read/write, io_apic_read/write and readl/writel
 * compile to, and the other MMIO forms. */
static void test_mmio_forms(void **state)
{
    (void)state;
    struct insn_mmio m;
    /* mov eax,[rip+disp] -> load 4 into rax */
    mmio_of("8b05f8ffffff", INSN_MODE_64, &m, 0);
    assert_int_equal(m.kind, INSN_MMIO_LOAD);
    assert_int_equal(m.size, 4);
    assert_int_equal(m.reg, 0);
    assert_int_equal(insn_mmio_load_result(&m, 0xffffffffffffffffull, 0x12345678), 0x12345678);
    /* mov [rdi],esi (writel) */
    mmio_of("8937", INSN_MODE_64, &m, 0);
    assert_int_equal(m.kind, INSN_MMIO_STORE);
    assert_int_equal(m.size, 4);
    assert_int_equal(m.reg, 6);
    assert_int_equal(insn_mmio_store_value(&m, 0xaaaaaaaa11223344ull), 0x11223344);
    /* mov [r8+0x10],r9 (writeq) */
    mmio_of("4d894810", INSN_MODE_64, &m, 0);
    assert_int_equal(m.size, 8);
    assert_int_equal(m.reg, 9);
    /* mov dword [rax+0xb0],0 (apic EOI) */
    mmio_of("c780b000000000000000", INSN_MODE_64, &m, 0);
    assert_int_equal(m.kind, INSN_MMIO_STORE);
    assert_true(m.from_imm);
    assert_int_equal(insn_mmio_store_value(&m, 0), 0);
    /* mov qword [rax],-1 (imm32 sign-extended) */
    mmio_of("48c700ffffffff", INSN_MODE_64, &m, 0);
    assert_int_equal(m.size, 8);
    assert_int_equal(insn_mmio_store_value(&m, 0), 0xffffffffffffffffull);
    /* mov byte [rax],0x80 */
    mmio_of("c60080", INSN_MODE_64, &m, 0);
    assert_int_equal(m.size, 1);
    assert_int_equal(insn_mmio_store_value(&m, 0), 0x80);
    /* mov [rax],ah (high byte) and with REX: spl */
    mmio_of("8820", INSN_MODE_64, &m, 0);
    assert_true(m.high_byte);
    assert_int_equal(m.reg, 0);
    assert_int_equal(insn_mmio_store_value(&m, 0xbeef), 0xbe);
    mmio_of("408820", INSN_MODE_64, &m, 0);
    assert_false(m.high_byte);
    assert_int_equal(m.reg, 4);
    /* mov bh,[rax]: only bits 15:8 change */
    mmio_of("8a38", INSN_MODE_64, &m, 0);
    assert_true(m.high_byte);
    assert_int_equal(m.reg, 3);
    assert_int_equal(insn_mmio_load_result(&m, 0x1122334455667788ull, 0xab), 0x112233445566ab88ull);
    /* mov ax,[rax]: upper bits kept */
    mmio_of("668b00", INSN_MODE_64, &m, 0);
    assert_int_equal(m.size, 2);
    assert_int_equal(insn_mmio_load_result(&m, 0x1122334455667788ull, 0xabcd), 0x112233445566abcdull);
    /* movzx eax,word [rax] and movsx rax,byte [rax] */
    mmio_of("0fb700", INSN_MODE_64, &m, 0);
    assert_int_equal(m.size, 2);
    assert_int_equal(m.reg_size, 4);
    assert_int_equal(insn_mmio_load_result(&m, ~0ull, 0xfffff234), 0xf234);
    mmio_of("480fbe00", INSN_MODE_64, &m, 0);
    assert_int_equal(m.size, 1);
    assert_int_equal(m.reg_size, 8);
    assert_true(m.sign_extend);
    assert_int_equal(insn_mmio_load_result(&m, 0, 0x80), 0xffffffffffffff80ull);
    /* movsx ax,byte [eax] in 32-bit code */
    mmio_of("660fbe00", INSN_MODE_32, &m, 0);
    assert_int_equal(m.reg_size, 2);
    assert_int_equal(insn_mmio_load_result(&m, 0xffff0000u, 0xff), 0xffffffffu);
    /* mov eax,[moffs32] in 32-bit code, mov [moffs],al */
    mmio_of("a1f000e0fe", INSN_MODE_32, &m, 0);
    assert_int_equal(m.kind, INSN_MMIO_LOAD);
    assert_int_equal(m.size, 4);
    mmio_of("a2f000e0fe", INSN_MODE_32, &m, 0);
    assert_int_equal(m.kind, INSN_MMIO_STORE);
    assert_int_equal(m.size, 1);
    /* refused: register forms, other instructions, LOCK, VEX */
    mmio_of("89c0", INSN_MODE_64, &m, -ENOTSUP);     /* mov eax,eax */
    mmio_of("0300", INSN_MODE_64, &m, -ENOTSUP);     /* add eax,[rax] */
    mmio_of("8700", INSN_MODE_64, &m, -ENOTSUP);     /* xchg [rax],eax */
    mmio_of("f00fb111", INSN_MODE_64, &m, -ENOTSUP); /* lock cmpxchg */
    mmio_of("c70800000000", INSN_MODE_64, &m, -ENOTSUP); /* c7 /1 */
    mmio_of("c5f92800", INSN_MODE_64, &m, -ENOTSUP); /* vmovapd xmm0,[rax] */
    mmio_of("f3a5", INSN_MODE_64, &m, -ENOTSUP);     /* rep movsd */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lengths),
        cmocka_unit_test(test_modrm_fields),
        cmocka_unit_test(test_mov_cr),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_mmio_forms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
