# A program killed by a signal: 128 + the signal, and why there is no report.
. tests/cli/lib.sh

excuse="asyncleak: it was killed before it could write its report (SIGKILL, \
a signal it handles itself, --handle-signals=no, or a report slower than \
report_timeout_ms); handles open at that moment are not listed"

# With the signal's default action the runtime still writes the report:
# here it says that sh used no event loop.
run "$ASYNCLEAK" sh -c 'kill -TERM $$'
expect_status 143
grep -q "^asyncleak: 'sh' (pid [0-9]*) was killed by signal 15" "$tmp/err" ||
  fail "no line saying how sh died in: $(cat "$tmp/err")"
expect_no "$tmp/err" "pid 0)"
grep -q " (SIGTERM: Terminated)\$" "$tmp/err" ||
  fail "no line naming SIGTERM in: $(cat "$tmp/err")"
expect_no "$tmp/err" "$excuse"
expect_line "$tmp/err" "asyncleak: no supported event loop library (libuv, libevent) \
was used by 'sh'; nothing was checked"

run "$ASYNCLEAK" --handle-signals=no sh -c 'kill -TERM $$'
expect_status 143
grep -q " (SIGTERM: Terminated)\$" "$tmp/err" ||
  fail "no line naming SIGTERM in: $(cat "$tmp/err")"
expect_line "$tmp/err" "$excuse"
expect_no "$tmp/err" "nothing was checked"

run "$ASYNCLEAK" sh -c 'kill -KILL $$'
expect_status 137
grep -q "was killed by signal 9 (SIGKILL: Killed)\$" "$tmp/err" ||
  fail "no line naming SIGKILL in: $(cat "$tmp/err")"
