# A program that takes away the files its report is symbolized from: it
# chroots into an empty directory, or lowers its address space limit under
# what reading the C library's debug information takes. Its frames are
# named as without, or, where they cannot be, shown as module+offset with
# the reason said once; the report is never lost.
#
# The runtime is preloaded without the command and writes the report to
# standard error, which a chroot cannot take away.
. tests/cli/lib.sh

prog=$O/progs/chroot-timer
runtime=$(readlink -f "$(dirname "$ASYNCLEAK")/../lib/libasyncleak.so")
[ -f "$runtime" ] || fail "no runtime beside '$ASYNCLEAK'"
[ -x "$prog" ] || fail "'$prog' is not built"
preload="${LD_PRELOAD:+$LD_PRELOAD:}$runtime"
note="Frames not fully named"

# run_prog ARGS...: the program with the runtime, its report on stderr.
run_prog() {
  run -u ASYNCLEAK_OPTIONS LD_PRELOAD="$preload" "$prog" "$@"
  expect_status 0
  expect_line "$tmp/out" "ended"
}

fingerprint() {
  sed -n 's/^  fingerprint \([0-9a-f]*\)$/\1/p' "$tmp/err"
}

# The control: no chroot, no limit.
run_prog leak none /
expect_frame0 "$tmp/err" leak_timer chroot-timer.c
expect_no "$tmp/err" "$note"
bare=$(fingerprint)
[ -n "$bare" ] || fail "no fingerprint in the report"
# The C library's frames are named from its symbols only, never from its
# debug information (installed by libc6-dbg): no file, no line. Its
# frame below main has that name with glibc 2.34 and later, and where
# its symbols (libc6-dbg) are installed.
if grep -q "in __libc_start_call_main" "$tmp/err"; then
  grep -q "^    #[0-9]* 0x[0-9a-f]* in __libc_start_call_main (libc\.so\.6+0x[0-9a-f]*)\$" \
    "$tmp/err" || fail "the C library's frame is not named by its symbol only:
$(cat "$tmp/err")"
fi
! grep -qE "in __libc_start[a-z_@.0-9]* [^(].*:[0-9]+\$" "$tmp/err" ||
  fail "a frame of the C library has a file:
$(cat "$tmp/err")"

# A tight address space: the program's own debug information fits, and
# the report is written. libdw used to end the process with status 1
# here, or to leave no room for the report, when it read the C library's
# debug information. A sanitizer reserves more address space than any
# such limit allows.
if [ -z "${SANITIZE:-}" ]; then
  run_prog leak tight 15000
  grep -q "^SUMMARY: asyncleak: 1 handle left open" "$tmp/err" ||
    fail "no report under a tight RLIMIT_AS:
$(cat "$tmp/err")"
  expect_frame0 "$tmp/err" leak_timer chroot-timer.c
  expect_no "$tmp/err" "$note"
  run_prog clean tight 15000
  expect_no "$tmp/err" "asyncleak"
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "$test_name: not root: cannot chroot" >&2
  exit 0
fi
mkdir "$tmp/empty"

# chroot(): the files were opened before it; the report is the same.
run_prog leak chroot "$tmp/empty"
expect_frame0 "$tmp/err" leak_timer chroot-timer.c
grep -q "^    #1 0x[0-9a-f]* in main .*chroot-timer.c:[0-9]*\$" "$tmp/err" ||
  fail "frame #1 is not main's:
$(cat "$tmp/err")"
expect_no "$tmp/err" "$note"
[ "$(fingerprint)" = "$bare" ] ||
  fail "fingerprint $(fingerprint) in the chroot, $bare without"

run_prog clean chroot "$tmp/empty"
expect_no "$tmp/err" "asyncleak"

# The system call made directly: no interposer sees it, and the files are
# out of reach at exit. The frames keep their module and offset, and the
# report says why once.
run_prog leak raw "$tmp/empty"
grep -q "^    #0 0x[0-9a-f]* (chroot-timer+0x[0-9a-f]*)\$" "$tmp/err" ||
  fail "frame #0 is not chroot-timer+offset:
$(cat "$tmp/err")"
grep -q "^$note: cannot open '[^']*chroot-timer': No such file or directory; they are shown with module+offset\$" "$tmp/err" ||
  fail "no note of the file that could not be opened:
$(cat "$tmp/err")"
[ "$(grep -c "^$note" "$tmp/err")" -eq 1 ] || fail "said more than once"
grep -q "^SUMMARY: asyncleak: 1 handle left open" "$tmp/err" ||
  fail "no summary:
$(cat "$tmp/err")"
