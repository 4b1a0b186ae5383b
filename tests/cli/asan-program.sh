# A program built with AddressSanitizer runs under asyncleak and gets its
# report: ASan does not refuse to start because the runtime is preloaded
# before its own, and its own checks still work. The same for such a
# program started by one that is not (sh).
. tests/cli/lib.sh

prog="$O/progs/asan-timer"
[ -x "$prog" ] || fail "'$prog' is not built"
run "$ASYNCLEAK" "$prog"
expect_status 23
expect_no "$tmp/err" "does not come first"
expect_no "$tmp/err" "AddressSanitizer"
expect_line "$tmp/out" "close: -16"
expect_line "$tmp/err" "1 handle of type uv_timer_t, created at:"
expect_frame0 "$tmp/err" main asan-timer.c
expect_line "$tmp/err" "asyncleak: 1 handle(s) left open in 1 process(es)"

# Negative control: the timer closed, nothing to report.
run "$ASYNCLEAK" "$prog" clean
expect_status 0
expect_line "$tmp/out" "close: 0"
expect_no "$tmp/err" "does not come first"
expect_no "$tmp/err" "ERROR"

# Started by a shell that is not built with ASan.
run "$ASYNCLEAK" sh -c "exec \"\$0\"; exit 1" "$prog"
expect_status 23
expect_no "$tmp/err" "does not come first"
expect_line "$tmp/err" "1 handle of type uv_timer_t, created at:"

# ASan's own findings still come, with its status: the options the user
# gave ASan are kept, the check for its place is the only one added.
run ASAN_OPTIONS=exitcode=42 "$ASYNCLEAK" "$prog" overflow
expect_status 42
grep -q "ERROR: AddressSanitizer: heap-buffer-overflow" "$tmp/err" ||
  fail "no report of ASan's, stderr was:
$(cat "$tmp/err")"
