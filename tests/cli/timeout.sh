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
grep -q "^asyncleak: '$prog' (pid [0-9]*) still runs after --timeout=0.5: \
sending SIGTERM (its report says what it held open)\$" "$tmp/err" ||
  fail "no timeout line: $(cat "$tmp/err")"
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
grep -q "still runs after --timeout=0.3: sending SIGTERM" "$tmp/err" ||
  fail "no timeout line: $(cat "$tmp/err")"

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
