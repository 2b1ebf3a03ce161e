#!/bin/bash
# bench_linux.sh: the Linux row of `make bench`. Debian's stock kernel and the busybox initramfs
# (guests/linux/fetch.sh) with guests/linux.cfg's command line, booted twice on the same Bochs
# model (corei7_skylake_x, 25 MHz: BOCHS_IPS as the Linux test runs it):
#  - in a VM: the [vm linux] section of guests/linux.cfg alone on CPU 0 (no other VM's time is
#    counted), mitigations=off as the rest of the main table. Start: the TSC of the VM's first
#    entry (the summary's "first entry of vm linux at tsc=N"; Tessera sets no TSC offset).
#  - bare: the same vmlinuz, initramfs and command line through GRUB's linux/initrd commands.
#    Start: Bochs's tick counter (which its TSC equals) when the CPU first fetches the kernel's
#    64-bit entry point, load address + 0x200, where Tessera enters it (a physical breakpoint in
#    Bochs's debugger; the 32-bit entry at the load address is checked to come first).
# End, both: the TSC that /bin/tscmark, the first command of /init, prints. Method and error:
# docs/benchmarks.md "Linux in a VM". Logs: build/bench/bench_linux/.
set -u
TEST_OUT=${BENCH_OUT:-$(cd "$(dirname "$0")/../.." && pwd)/build/bench}
. "$(dirname "$0")/lib.sh" # sets ROOT, BUILD, T (scratch dir, emptied)
L=$BUILD/linux
MODEL=corei7_skylake_x
LOAD_ADDR=0x1000000 # the bzImage's pref_address, where both GRUB and Tessera put it
SECONDS_MAX=${LINUX_BENCH_TIMEOUT:-3000}
export BOCHS_IPS=25000000
errors=0
problem() { echo "bench_linux.sh: $*" >&2; errors=$((errors + 1)); }

[ -f "$BUILD/tessera.elf" ] || { echo "bench_linux.sh: $BUILD/tessera.elf missing (make)" >&2; exit 1; }
if [ ! -f "$L/vmlinuz" ] || [ ! -f "$L/initramfs.cpio.gz" ]; then
    echo "bench: fetching the Linux guest (make linux-guest)"
    make -C "$ROOT" --no-print-directory linux-guest >"$T/fetch.log" 2>&1 || {
        echo "bench: Linux row skipped: could not fetch the Linux guest: $(tail -n 1 "$T/fetch.log")"
        exit 0
    }
fi

# The [vm linux] section of guests/linux.cfg and its command line.
awk '/^\[vm / { on = ($0 == "[vm linux]") } on' "$ROOT/guests/linux.cfg" >"$T/linux.cfg"
cmdline=$(sed -n 's/^cmdline = "\(.*\)"$/\1/p' "$T/linux.cfg")
[ -n "$cmdline" ] || { echo "bench_linux.sh: no cmdline in guests/linux.cfg's [vm linux]" >&2; exit 1; }

# ---- images --------------------------------------------------------------------------------------
mkdir -p "$T/cfgdir"
cp "$T/linux.cfg" "$T/cfgdir/tessera.cfg"
# end=poweroff (with_end): the run ends with the VM; without it the monitor stays (make run)
"$ROOT/tests/tools/mkiso.sh" "$T/vm.iso" "$BUILD/tessera.elf" "$(with_end mitigations=off)" "$L/vmlinuz" \
    "$L/initramfs.cpio.gz" "$T/cfgdir/tessera.cfg" || { echo "bench_linux.sh: cannot build vm.iso" >&2; exit 1; }
stage=$T/bare-iso
mkdir -p "$stage/boot/grub"
cp "$L/vmlinuz" "$L/initramfs.cpio.gz" "$stage/boot/"
cat >"$stage/boot/grub/grub.cfg" <<EOF_CFG
set timeout=0
set default=0
menuentry "Linux bare" {
    linux /boot/vmlinuz $cmdline
    initrd /boot/initramfs.cpio.gz
    boot
}
EOF_CFG
grub-mkrescue -d /usr/lib/grub/i386-pc -o "$T/bare.iso" "$stage" >"$T/mkrescue.log" 2>&1 ||
    { cat "$T/mkrescue.log" >&2; exit 1; }

# ---- runs ----------------------------------------------------------------------------------------
# run_until NAME ISO MEGS RC PATTERN: Bochs (its debugger reading RC) until the serial log has a
# line matching PATTERN and, for the VM, the run's last line; then it is stopped.
run_until() {
    local name=$1 iso=$2 megs=$3 rc=$4 pattern=$5 dir=$T/$1 start=$SECONDS pid
    mkdir -p "$dir"
    bochs_config "$dir/bochsrc" "cdrom:$iso" "$dir/serial.log" "$dir/bochs.log" "$megs" "$MODEL" 1
    # Bare, the CPU model's missing MSRs reach the kernel directly: its 32-bit entry's verify_cpu
    # reads IA32_MISC_ENABLE (0x1a0), which Bochs's corei7_skylake_x lacks (a #GP there, before
    # any IDT, is a triple fault). Bochs then returns 0 for unknown MSRs, as Tessera answers
    # reads of the MSRs it does not know (docs/benchmarks.md).
    [ "$name" = vm ] || sed -i 's/ignore_bad_msrs=0/ignore_bad_msrs=1/' "$dir/bochsrc"
    printf '%s' "$rc" >"$dir/dbg.rc"
    (cd "$dir" && exec bochs -q -f bochsrc -rc dbg.rc </dev/null >"$dir/stdout" 2>&1) &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        if grep -aqE "$pattern" "$dir/serial.log" 2>/dev/null; then
            sleep 1
            kill "$pid" 2>/dev/null
            break
        fi
        if [ $((SECONDS - start)) -gt "$SECONDS_MAX" ]; then
            problem "run '$name' did not reach /$pattern/ within $SECONDS_MAX s"
            kill "$pid" 2>/dev/null
            break
        fi
        sleep 2
    done
    wait "$pid" 2>/dev/null
    sed -i 's/\r$//' "$dir/serial.log" 2>/dev/null
    echo "bench: Bochs run 'linux $name' took $((SECONDS - start)) s"
}
entry64=$(printf '0x%x' $((LOAD_ADDR + 0x200)))
# Linear breakpoints (Bochs's debugger) on the kernel's load address and its 64-bit entry: the
# guest runs identity-mapped there in both runs, and the hypervisor never executes at those
# addresses. Each hit prints "(0) Breakpoint N, ..." and "Next at t=TICKS"; a breakpoint is
# deleted once its last expected hit is past, so later code at the same address is not counted.
#  VM:   the decompressor's 64-bit entry (first guest instruction), then the kernel proper's
#        startup_64 at the load address (the decompressor's output).
#  bare: the decompressor's 32-bit entry, its 64-bit entry, then the kernel proper's startup_64.
VM_RC="lb $entry64
lb $LOAD_ADDR
c
d 1
c
d 2
c
quit
"
BARE_RC="lb $LOAD_ADDR
lb $entry64
c
c
d 2
c
d 1
c
quit
"
echo "bench: two Linux boots under Bochs at 25 MHz (several minutes each, run side by side)"
RUNS=${LINUX_BENCH_RUNS:-vm bare} # one of them alone while working on the other
vm_job=
bare_job=
case " $RUNS " in *" vm "*)
    run_until vm "$T/vm.iso" 256 "$VM_RC" '^tessera: end status=' &
    vm_job=$! ;;
esac
case " $RUNS " in *" bare "*)
    run_until bare "$T/bare.iso" 128 "$BARE_RC" '^TESSERA-LINUX-TSC tsc=[0-9]+' &
    bare_job=$! ;;
esac
wait $vm_job $bare_job

# ---- numbers -------------------------------------------------------------------------------------
# hits STDOUT: "ADDRESS TICKS" per breakpoint hit, in order
hits() {
    grep -a -A2 -E '^\(0\) Breakpoint [0-9]+,' "$1" |
        sed -n 's/^Next at t=\([0-9]*\).*/\1/p; s/^(0) \[0x0*\([0-9a-f]*\)\].*/0x\1/p' |
        paste -d' ' - - | awk '{ print $2, $1 }'
}
vlog=$T/vm/serial.log
vm_first=$(sed -n 's/^tessera: first entry of vm linux at tsc=\([0-9]*\)$/\1/p' "$vlog" | head -n 1)
vm_mark=$(sed -n 's/^\[linux\] TESSERA-LINUX-TSC tsc=\([0-9]*\)$/\1/p' "$vlog" | head -n 1)
vm_row=$(grep -a -m1 '^tessera:   linux ' "$vlog")
grep -aq '^tessera: vm linux exited with status 0' "$vlog" || problem "the Linux VM did not exit with status 0 ($vlog)"
bare_mark=$(sed -n 's/^TESSERA-LINUX-TSC tsc=\([0-9]*\)$/\1/p' "$T/bare/serial.log" | head -n 1)
read -r va vm_entry vb vm_kernel _ <<<"$(hits "$T/vm/stdout" | tr '\n' ' ')"
read -r ba bare_entry32 bb bare_entry bc bare_kernel _ <<<"$(hits "$T/bare/stdout" | tr '\n' ' ')"
# the debugger shows the physical address: the VM's RAM starts at host-physical HOST_BASE
host_base=$(sed -n 's/^tessera: vm linux: guest-physical 0x0-0x[0-9a-f]* -> host-physical \(0x[0-9a-f]*\)-.*/\1/p' "$vlog" | head -n 1)
want_vm="$(printf '0x%x/0x%x' $((${host_base:-0} + entry64)) $((${host_base:-0} + LOAD_ADDR)))"
[ -n "$host_base" ] && [ "${va:-}/${vb:-}" = "$want_vm" ] ||
    problem "VM: expected breakpoint hits at $want_vm (guest $entry64 then $LOAD_ADDR), got '${va:-}' '${vb:-}' ($T/vm/stdout)"
[ "${ba:-}/${bb:-}/${bc:-}" = "$LOAD_ADDR/$entry64/$LOAD_ADDR" ] ||
    problem "bare: expected hits at $LOAD_ADDR, $entry64, $LOAD_ADDR, got '${ba:-}' '${bb:-}' '${bc:-}' ($T/bare/stdout)"
for k in vm_first vm_mark vm_entry vm_kernel bare_mark bare_entry32 bare_entry bare_kernel; do
    case ${!k:-} in '' | *[!0-9]*) problem "no valid number for $k (got '${!k:-}')" ;; esac
done
commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -z "$(git -C "$ROOT" status --porcelain -- kernel arch drivers boot guests 2>/dev/null)" ] ||
    commit="$commit+local changes"
echo
echo "Linux to /init: instructions from the kernel's entry to /init's TSC marker (Bochs $MODEL, 25 MHz, commit $commit)"
echo "  command line: $cmdline"
if [ "$errors" -eq 0 ]; then
    vm_n=$((vm_mark - vm_first))
    bare_n=$((bare_mark - bare_entry))
    ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "x%.4f", a / b }'; }
    printf '  %-34s %14s   bare %14s   %s\n' "kernel entry -> /init marker" "$vm_n" "$bare_n" \
        "$(ratio "$vm_n" "$bare_n") (target <= x1.10)"
    printf '  %-34s %14s   bare %14s   %s\n' "  decompressor (-> kernel proper)" \
        "$((vm_kernel - vm_first))" "$((bare_kernel - bare_entry))" \
        "$(ratio "$((vm_kernel - vm_first))" "$((bare_kernel - bare_entry))")"
    printf '  %-34s %14s   bare %14s   %s\n' "  kernel proper (-> /init marker)" \
        "$((vm_mark - vm_kernel))" "$((bare_mark - bare_kernel))" \
        "$(ratio "$((vm_mark - vm_kernel))" "$((bare_mark - bare_kernel))")"
    echo "  VM: first entry (hypervisor's TSC) $vm_first, first guest instruction (Bochs) $vm_entry:" \
        "$((vm_entry - vm_first)) ticks of entry path; marker $vm_mark"
    echo "  bare: 32-bit entry $bare_entry32, 64-bit entry $bare_entry ($((bare_entry - bare_entry32)) ticks" \
        "of startup_32, not counted), marker $bare_mark"
    echo "  VM's exits (mitigations=off, alone on CPU 0): ${vm_row#tessera:   }"
fi
echo "logs: $T/vm/ $T/bare/"
[ "$errors" -eq 0 ] || { echo "bench_linux.sh: $errors problem(s), see above"; exit 1; }
exit 0
