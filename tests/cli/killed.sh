# A program killed by a signal: 128 + the signal, and why there is no report.
. tests/cli/lib.sh

excuse="asyncleak: it was killed before it could write its report (SIGTERM: \
a handler of its own, --handle-signals=no, or a report slower than \
report_timeout_ms); it had used no loop library, so nothing was lost"

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
expect_line "$tmp/err" "asyncleak: no supported event loop library (libuv, libevent, libev, GLib) \
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
expect_line "$tmp/err" "asyncleak: it was killed before it could write its \
report: SIGKILL cannot be caught; it had used no loop library, so nothing \
was lost"

# The signal named is the one that killed it, never SIGKILL for another.
# The runtime catches SIGALRM and SIGPIPE as every deadly signal, so the
# process wrote its report first: nothing is said to be lost.
for sig in ALRM:14:Alarm\ clock PIPE:13:Broken\ pipe; do
  name=${sig%%:*}
  number=${sig#*:}
  number=${number%%:*}
  run "$ASYNCLEAK" sh -c "kill -$name \$\$"
  expect_status $((128 + number))
  grep -q "was killed by signal $number (SIG$name: ${sig##*:})\$" \
    "$tmp/err" || fail "no line naming SIG$name in: $(cat "$tmp/err")"
  expect_no "$tmp/err" "killed before it could write its report"
  expect_line "$tmp/err" "asyncleak: no supported event loop library \
(libuv, libevent, libev, GLib) was used by 'sh'; nothing was checked"
  expect_no "$tmp/err" "SIGKILL"
done
