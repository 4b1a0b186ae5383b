# Each process's outcome is said once, and correctly: a child that could
# not be checked keeps the run from being called clean without hiding the
# main program's totals, and a child left untraced as asked is neither
# "missing" nor said to have left no report.
. tests/cli/lib.sh

clean=$O/progs/uv-atexit-cleanup
leak=$O/progs/uv-timer-leak

# json_procs FILE: "report missing-verdict" for each process, main first.
json_procs() {
  python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
for p in sorted(d["processes"], key=lambda p: not p["main"]):
    m = p["missing"]
    print(p["report"], m["verdict"] if m else "-")' "$1"
}

# A clean program, and a child killed as it was forked. Two outcomes are
# right, and which one comes depends on whether the child ran before the
# kill reached it. Killed before the runtime's fork handler made its file:
# what it did cannot be told, so the run is not "all closed", but the
# totals of what was checked are still said, once. Killed after: its file
# says it had used no loop library (the child is a subshell that never
# executes a program), so nothing was lost and the run is clean. Either
# way the child is said exactly once. (A run with a process not checked
# is asserted deterministically below, with --trace-children=no.)
run "$ASYNCLEAK" sh -c "while :; do :; done & kill -9 \$!; wait; $clean; exit 0"
expect_status 0
expect_line "$tmp/err" "teardown: close 0"
[ "$(grep -c 'left no report' "$tmp/err")" -eq 1 ] ||
  fail "the killed child is not said exactly once:
$(cat "$tmp/err")"
if grep -q "killed as it was forked" "$tmp/err"; then
  expect_line "$tmp/err" "asyncleak: no leaks reported: 1 loop(s), 2 handle(s) created; 1 process(es) not checked (noted above)"
  expect_no "$tmp/err" "no leaks:"
else
  grep -q "^asyncleak: note: process [0-9]* (.*) left no report: it ended having used no loop library; nothing was lost\$" \
    "$tmp/err" || fail "the killed child is neither unchecked nor known clean:
$(cat "$tmp/err")"
  expect_line "$tmp/err" "asyncleak: no leaks: 1 loop(s), 2 handle(s) created, all closed"
  expect_no "$tmp/err" "not checked"
fi
# The negative control: nothing unchecked, plainly clean.
run "$ASYNCLEAK" sh -c "$clean; exit 0"
expect_status 0
expect_line "$tmp/err" "asyncleak: no leaks: 1 loop(s), 2 handle(s) created, all closed"
expect_no "$tmp/err" "not checked"

# --trace-children=no: a forked child that executes a libuv program is
# said once as not checked; one that executes a program using no loop
# library is not mentioned. Neither is "missing" in JSON or JUnit.
run "$ASYNCLEAK" --trace-children=no --json="$tmp/run.json" \
  --junit="$tmp/run.xml" sh -c "$leak & wait; sleep 0.1 & wait"
expect_status 0
expect_no "$tmp/err" "start_heartbeat"
expect_no "$tmp/err" "left no report"
[ "$(grep -c 'note: ' "$tmp/err")" -eq 1 ] ||
  fail "expected one note:
$(cat "$tmp/err")"
grep -q "^asyncleak: note: process [0-9]* (.*) executed '.*/uv-timer-leak', which uses libuv and was not checked (--trace-children=no)\$" \
  "$tmp/err" || fail "no note for the untraced libuv program:
$(cat "$tmp/err")"
expect_line "$tmp/err" "asyncleak: no supported event loop library (libuv, libevent, libev, GLib) was used by 'sh' or the processes traced; nothing was checked; 1 process(es) not checked (noted above)"
json_procs "$tmp/run.json" >"$tmp/procs"
expect_line "$tmp/procs" "complete -"
[ "$(grep -c '^untraced -$' "$tmp/procs")" -eq 2 ] ||
  fail "expected two untraced processes in JSON:
$(cat "$tmp/procs")"
expect_no "$tmp/procs" "missing"
expect_no "$tmp/run.xml" "<failure"
expect_no "$tmp/run.xml" "left no report"
grep -q "<skipped message=\"executed &apos;[^&]*/uv-timer-leak&apos;, which uses libuv and was not checked (--trace-children=no)\"/>" \
  "$tmp/run.xml" || fail "no skipped test case for the untraced program:
$(cat "$tmp/run.xml")"
# Traced, the same leak fails the run: the negative control.
run "$ASYNCLEAK" sh -c "$leak & wait; sleep 0.1 & wait"
expect_status 23
expect_frame0 "$tmp/err" start_heartbeat uv-timer-leak.c
exit 0
