# A program run under valgrind under asyncleak: with the suppressions
# asyncleak installs, memcheck finds nothing in the runtime's own work,
# and the runtime, preloaded into the program valgrind runs, reports its
# leak. One small program each way: valgrind is slow.
. tests/cli/lib.sh

if [ -n "${SANITIZE:-}" ]; then
  echo "valgrind: skipped: valgrind cannot run a sanitizer's runtime"
  exit 0
fi
command -v valgrind >/dev/null 2>&1 || {
  echo "valgrind: skipped: valgrind is not installed"
  exit 0
}
leaky="$O/progs/uv-timer-leak"
clean="$O/progs/uv-req-cb-field"
for p in "$leaky" "$clean"; do
  [ -x "$p" ] || fail "'$p' is not built"
done
supp=valgrind.supp
vg="valgrind --error-exitcode=99 --leak-check=full --suppressions=$supp"

# The leak is reported, and memcheck has nothing to say.
# shellcheck disable=SC2086
run "$ASYNCLEAK" $vg "$leaky"
expect_status 23
grep -q '== ERROR SUMMARY: 0 errors from 0 contexts' "$tmp/err" ||
  fail "memcheck found errors: $(cat "$tmp/err")"
expect_line "$tmp/err" "1 handle of type uv_timer_t, created at:"
expect_frame0 "$tmp/err" start_heartbeat uv-timer-leak.c
expect_line "$tmp/err" "asyncleak: 1 handle(s) left open in 1 process(es)"
expect_no "$tmp/err" "without a report"
expect_no "$tmp/err" "left no report"

# Negative control: a program that cleans up, requests of every thread-pool
# kind included, passes both.
# shellcheck disable=SC2086
run "$ASYNCLEAK" $vg "$clean"
expect_status 0
grep -q '== ERROR SUMMARY: 0 errors from 0 contexts' "$tmp/err" ||
  fail "memcheck found errors: $(cat "$tmp/err")"
expect_no "$tmp/err" "ERROR: asyncleak"

# Without the suppressions memcheck does complain about the runtime's
# stack captures: what the file is for.
run "$ASYNCLEAK" valgrind --error-exitcode=99 "$leaky"
expect_status 99
grep -q 'libunwind' "$tmp/err" ||
  fail "memcheck did not name libunwind: $(cat "$tmp/err")"
