# --timeout=DURATION: a program that runs longer is ended as timeout(1)
# ends a command, SIGTERM, then SIGKILL after --kill-after, and the run
# exits 124 (137 when SIGKILL was needed). SIGTERM lets the runtime write
# what the program held open then, with its creation site: why it was
# still running. With --graceful-signals the program's finalizer runs
# first. A program that ends in time is not touched. Bad durations are
# refused.
. tests/cli/lib.sh

prog=$O/progs/uv-forever
line=$(grep -n '/\* @ticker \*/' tests/progs/uv-forever.c | cut -d: -f1)

# Still running at the deadline: SIGTERM, and the report names the timer.
run "$ASYNCLEAK" --timeout=0.5 "$prog" run
expect_status 124
expect_line "$tmp/out" "running"
grep -q "^asyncleak: '$prog' (pid [0-9]*) still runs after --timeout=0.5; why:\$" \
  "$tmp/err" || fail "no timeout line: $(cat "$tmp/err")"
grep -q "^asyncleak: sending SIGTERM to '$prog' (pid [0-9]*) (its report says \
what it held open)\$" "$tmp/err" || fail "no SIGTERM line: $(cat "$tmp/err")"
# Why, before SIGTERM: the thread waits in its loop, which the timer
# keeps running (asyncleak ps's words, tests/cli/ps.sh).
why=$(sed -n '/still runs after/,/sending SIGTERM/p' "$tmp/err")
echo "$why" | grep -q "^  thread [0-9]* (main) runs it: waiting for events" ||
  fail "the loop's thread not shown: $why"
echo "$why" | grep -qx "  keeping it running: 1 handle" ||
  fail "what keeps it running not shown: $why"
echo "$why" | grep -q "^      #0 0x[0-9a-f]* in start_ticker .*uv-forever.c:$line\$" ||
  fail "not the timer's creation site: $why"
grep -q "ERROR: asyncleak: 1 handle left open when SIGTERM ended the program\$" \
  "$tmp/err" || fail "no report of the timer: $(cat "$tmp/err")"
grep -q "^    #0 0x[0-9a-f]* in start_ticker .*uv-forever.c:$line\$" \
  "$tmp/err" || fail "not the timer's creation site: $(cat "$tmp/err")"
expect_no "$tmp/err" "SIGKILL"
expect_no "$tmp/out" "finalizer"

# Under --graceful-signals the shutdown is graceful: the finalizer closes
# the timer, nothing is left, and the run still says it timed out.
run "$ASYNCLEAK" --graceful-signals --timeout=0.3 "$prog" run
expect_status 124
expect_line "$tmp/out" "finalizer: closing the ticker"
expect_no "$tmp/err" "ERROR: asyncleak"
grep -q "still runs after --timeout=0.3; why:" "$tmp/err" ||
  fail "no timeout line: $(cat "$tmp/err")"

# A child running asyncleak is asked and ended too: each process says
# what keeps its own loop running, and each writes its report.
cline=$(grep -n '/\* @child_ticker \*/' tests/progs/uv-forever.c | cut -d: -f1)
run "$ASYNCLEAK" --timeout=1 "$prog" child
expect_status 124
child=$(awk '$1 == "child" { print $2 }' "$tmp/out")
[ -n "$child" ] || fail "the child did not start: $(cat "$tmp/out")"
why=$(sed -n '/still runs after/,/sending SIGTERM/p' "$tmp/err")
echo "$why" | grep -qx "Process $child: 2 loops" || fail "the child not asked: $why"
echo "$why" | grep -q "^Loop 1 (libuv, the default loop, inherited from the parent process) at " ||
  fail "the inherited loop not said: $why"
echo "$why" | grep -q "^      #0 0x[0-9a-f]* in start_child_ticker .*uv-forever.c:$cline\$" ||
  fail "not the child's timer: $why"
grep -q "sending SIGTERM to '$prog' (pid [0-9]*) and its descendants" "$tmp/err" ||
  fail "the descendants not signalled: $(cat "$tmp/err")"
grep -q "^==$child==ERROR: asyncleak: 1 handle left open when SIGTERM ended the program\$" \
  "$tmp/err" || fail "no report of the child: $(cat "$tmp/err")"

# Stuck inside a callback: the callback's stack now is what is shown.
run "$ASYNCLEAK" --timeout=1 "$O/progs/uv-ps" stuck
expect_status 124
why=$(sed -n '/still runs after/,/sending SIGTERM/p' "$tmp/err")
echo "$why" | grep -q "^  thread [0-9]* (main) runs it: inside a callback for [0-9.]* m\?s, now at:\$" ||
  fail "the stuck thread not shown: $why"
echo "$why" | grep -q "^      #[0-9]* 0x[0-9a-f]* in sleepy_callback .*uv-ps.c:[0-9]*\$" ||
  fail "the callback not on its stack: $why"

# SIGTERM ignored: SIGKILL after --kill-after, no report, 137.
run "$ASYNCLEAK" --timeout=0.3s --kill-after=0.3 "$prog" ignore
expect_status 137
grep -q "still runs 300 ms after SIGTERM: sending SIGKILL\$" "$tmp/err" ||
  fail "no SIGKILL line: $(cat "$tmp/err")"
grep -q "left no complete report" "$tmp/err" ||
  fail "the missing report not said: $(cat "$tmp/err")"

# The control: a program that ends in time is not touched.
run "$ASYNCLEAK" --timeout=1m "$prog" quick
expect_status 0
expect_line "$tmp/out" "done"
expect_no "$tmp/err" "still runs"
expect_no "$tmp/err" "ERROR"

# From ASYNCLEAK_OPTIONS too.
run ASYNCLEAK_OPTIONS=timeout=0.3 "$ASYNCLEAK" "$prog" run
expect_status 124

# Durations timeout(1) does not take are refused, before anything runs.
for bad in "" abc 1x -1 1.5.2 s 31d 300ms 600000h; do
  run "$ASYNCLEAK" --timeout="$bad" "$prog" quick
  expect_status 125
  expect_no "$tmp/out" "running"
done
