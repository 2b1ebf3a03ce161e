# Shared helpers for integration tests (bash). Source it from tests/integration/test_*.sh.
# Each test works in its own scratch directory $T and ends with `finish`.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
TEST_NAME=$(basename "$0" .sh)
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

. "$ROOT/tests/tools/bochsrc.sh"
. "$ROOT/tests/tools/lib_uefi.sh"
