# Shared helpers for integration tests (bash). Source it from tests/integration/test_*.sh.
# Each test works in its own scratch directory $T and ends with `finish`.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
TEST_NAME=${TEST_NAME:-$(basename "$0" .sh)}
# Which virtualization backend the VM tests exercise: vmx (Bochs 2.7 with VT-x, the default) or
# svm (QEMU TCG -cpu max with AMD-V and nested paging). test_svm_*.sh set it and run the same
# test script; run_vm_iso picks the platform.
BACKEND=${BACKEND:-vmx}
T=${TEST_OUT:-$BUILD/test-out}/$TEST_NAME
rm -rf "$T" && mkdir -p "$T"
_failures=0

note() { echo "[$TEST_NAME] $*"; }
fail() { echo "[$TEST_NAME] FAIL: $*"; _failures=$((_failures + 1)); }

# expect LOG REGEX WHAT: LOG must contain a line matching the extended REGEX.
expect() {
    if ! grep -Eq -- "$2" "$1"; then
        fail "$3 (no line matches /$2/ in $1)"
    fi
}
# expect_not LOG REGEX WHAT: no line may match.
expect_not() {
    if grep -Eq -- "$2" "$1"; then
        fail "$3 (unexpected line: $(grep -Em1 -- "$2" "$1"))"
    fi
}
# expect_count LOG REGEX N WHAT: exactly N matching lines.
expect_count() {
    local n
    n=$(grep -Ec -- "$2" "$1" || true)
    [ "$n" -eq "$3" ] || fail "$4 (expected $3 lines matching /$2/, got $n)"
}
# expect_order LOG REGEX1 REGEX2 WHAT: the first match of REGEX1 comes before the first of REGEX2.
expect_order() {
    local a b
    a=$(grep -Enm1 -- "$2" "$1" | cut -d: -f1)
    b=$(grep -Enm1 -- "$3" "$1" | cut -d: -f1)
    if [ -z "$a" ] || [ -z "$b" ] || [ "$a" -ge "$b" ]; then
        fail "$4 (/$2/ at line ${a:-none} should precede /$3/ at line ${b:-none})"
    fi
}
# skip WHY: this platform cannot run the test at all (a missing firmware image, say): exit 77,
# which the runner counts as skipped and prints with the reason.
skip() {
    echo "[$TEST_NAME] SKIP: $*"
    exit 77
}
expect_status() { # expect_status ACTUAL WANTED WHAT
    [ "$1" -eq "$2" ] || fail "$3 (exit status $1, expected $2)"
}

finish() {
    if [ "$_failures" -eq 0 ]; then
        note "PASS"
        exit 0
    fi
    note "$_failures check(s) failed; serial logs in $T"
    exit 1
}

# with_end CMDLINE: the command line with end=poweroff added unless it says end= itself: a test
# run ends when its VMs have (without it the monitor stays at the console).
with_end() {
    case " $1 " in
    *" end="*) echo "$1" ;;
    *) echo "${1:+$1 }end=poweroff" ;;
    esac
}

# make_iso OUT CMDLINE FILE...: GRUB hybrid ISO with FILEs as Multiboot2 modules (end=poweroff
# added to CMDLINE, see with_end).
make_iso() { "$ROOT/tests/tools/mkiso.sh" "$1" "$BUILD/tessera.elf" "$(with_end "$2")" "${@:3}"; }

# run_qemu_iso ISO LOG SECONDS [QEMU ARGS...]: BIOS (SeaBIOS) boot; prints QEMU's exit status.
# Both runners leave LOG with plain line ends (no CR).
run_qemu_iso() {
    local iso=$1 log=$2 secs=$3; shift 3
    local st=0
    timeout "$secs" qemu-system-x86_64 -machine pc -accel tcg -m 256 -display none -nodefaults \
        -no-reboot -cdrom "$iso" -serial "file:$log" \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 "$@" </dev/null >"$log.qemu" 2>&1 || st=$?
    sed -i 's/\r$//' "$log" 2>/dev/null # the UART sends CR LF: tests match plain lines
    echo "$st"
}

# run_qemu_iso_until ISO LOG SECONDS PATTERN [QEMU ARGS...]: like run_qemu_iso for a run that
# never ends by itself (it halts): stops QEMU 2 s after a serial line matches PATTERN (extended
# regex), or after SECONDS, and prints 124 in both cases, as timeout would. A loaded machine then
# gets the whole budget and an idle one does not wait for it.
run_qemu_iso_until() {
    local iso=$1 log=$2 secs=$3 pattern=$4; shift 4
    : >"$log"
    qemu-system-x86_64 -machine pc -accel tcg -m 256 -display none -nodefaults \
        -no-reboot -cdrom "$iso" -serial "file:$log" \
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 "$@" </dev/null >"$log.qemu" 2>&1 &
    local pid=$! waited=0 st=124
    while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt "$((secs * 2))" ]; do
        if tr -d '\r' <"$log" | grep -Eq "$pattern"; then
            sleep 2
            break
        fi
        sleep 0.5
        waited=$((waited + 1))
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    else
        wait "$pid"; st=$?
    fi
    sed -i 's/\r$//' "$log" 2>/dev/null
    echo "$st"
}

# run_bochs_iso ISO LOG SECONDS [CPU MODEL] [MEGS] [CPUS]: Bochs BIOS boot from CD, its own log in
# LOG.bochs. Bochs cannot report a status of ours: judge by the serial log. Notes how long it took.
run_bochs_iso() {
    local iso=$1 log=$2 secs=$3 model=${4:-corei7_skylake_x} megs=${5:-128} cpus=${6:-1}
    local dir start=$SECONDS
    dir=$(mktemp -d "$T/bochs.XXXXXX")
    bochs_config "$dir/bochsrc" "cdrom:$iso" "$log" "$log.bochs" "$megs" "$model" "$cpus"
    printf 'c\nr\nquit\n' >"$dir/dbg.rc"
    (cd "$dir" && timeout "$secs" bochs -q -f bochsrc -rc dbg.rc </dev/null >"$dir/stdout" 2>&1)
    sed -i 's/\r$//' "$log" 2>/dev/null # the UART sends CR LF: tests match plain lines
    note "Bochs run ($(basename "$iso"), $cpus CPU) took $((SECONDS - start)) s"
}

# run_qemu_svm_iso ISO LOG SECONDS [MEGS] [CPUS] [QEMU ARGS...]: SeaBIOS boot under QEMU TCG with
# -cpu max (AMD-V with nested paging; no NRIP save, decode assists or clean bits, as on a plain
# machine). The TSC is the host's (fast: time slices of 10 ms hold many guest instructions);
# QEMU_SVM_ARGS adds options (make bench uses -icount shift=0 for one tick per instruction).
run_qemu_svm_iso() {
    local iso=$1 log=$2 secs=$3 megs=${4:-128} cpus=${5:-1}
    shift 5 2>/dev/null || shift $#
    local start=$SECONDS st
    # shellcheck disable=SC2086
    st=$(run_qemu_iso "$iso" "$log" "$secs" -cpu max -m "$megs" -smp "$cpus" ${QEMU_SVM_ARGS:-} "$@")
    note "QEMU SVM run ($(basename "$iso"), $cpus CPU) took $((SECONDS - start)) s, status $st"
}

# run_vm_iso ISO LOG SECONDS [MEGS] [CPUS]: boots ISO on the platform of $BACKEND.
run_vm_iso() {
    local iso=$1 log=$2 secs=$3 megs=${4:-128} cpus=${5:-1}
    if [ "$BACKEND" = svm ]; then
        run_qemu_svm_iso "$iso" "$log" "$secs" "$megs" "$cpus"
    else
        run_bochs_iso "$iso" "$log" "$secs" corei7_skylake_x "$megs" "$cpus"
    fi
}

# The backend's name in the hypervisor's lines ("VT-x enabled on CPU 0").
# run_linux_iso ISO LOG: boots an ISO with the Linux guest (256 MiB) on the platform of $BACKEND:
# QEMU for 400 s, or Bochs (corei7_skylake_x) for LINUX_BOCHS_TIMEOUT seconds (default 3000).
run_linux_iso() {
    if [ "$BACKEND" = svm ]; then
        run_vm_iso "$1" "$2" 400 256
    else
        run_bochs_iso "$1" "$2" "${LINUX_BOCHS_TIMEOUT:-3000}" corei7_skylake_x 256
    fi
}

backend_name() { [ "$BACKEND" = svm ] && echo "AMD-V" || echo "VT-x"; }

# free_port: a TCP port on 127.0.0.1 that nothing listens on now.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# run_vm_console ISO PORT SECONDS [MEGS] [CPUS]: boots ISO on the platform of $BACKEND with COM1
# on a TCP server socket at 127.0.0.1:PORT (Bochs `com1: mode=socket-server`, QEMU `-serial
# tcp:...,server=on,wait=on`): the emulator waits for one client (tests/tools/console_driver.py),
# which reads the console and types on it. Run it in the background; notes how long it took.
run_vm_console() {
    local iso=$1 port=$2 secs=$3 megs=${4:-128} cpus=${5:-1}
    local start=$SECONDS st=0
    if [ "$BACKEND" = svm ]; then
        # shellcheck disable=SC2086
        timeout "$secs" qemu-system-x86_64 -machine pc -accel tcg -cpu max -m "$megs" -smp "$cpus" \
            -display none -nodefaults -no-reboot -cdrom "$iso" \
            -serial "tcp:127.0.0.1:$port,server=on,wait=on" \
            -device isa-debug-exit,iobase=0xf4,iosize=0x04 ${QEMU_SVM_ARGS:-} \
            </dev/null >"$T/qemu.out" 2>&1 || st=$?
        note "QEMU SVM run ($(basename "$iso"), $cpus CPU) took $((SECONDS - start)) s, status $st"
    else
        BOCHS_COM1_MODE=socket-server BOCHS_COM1_DEV="localhost:$port" \
            run_bochs_iso "$iso" "$T/unused.log" "$secs" corei7_skylake_x "$megs" "$cpus"
    fi
}

. "$ROOT/tests/tools/bochsrc.sh"
. "$ROOT/tests/tools/lib_uefi.sh"
