# --trace-children: by default the programs a program executes are checked
# too; with no, they run without the runtime.
. tests/cli/lib.sh

prog=$O/progs/uv-timer-leak

run "$ASYNCLEAK" sh -c "$prog; echo after"
expect_status 23
expect_frame0 "$tmp/err" start_heartbeat uv-timer-leak.c
expect_line "$tmp/out" "after"

run "$ASYNCLEAK" --trace-children=yes sh -c "$prog; echo after"
expect_status 23
expect_frame0 "$tmp/err" start_heartbeat uv-timer-leak.c

for how in --trace-children=no; do
  run "$ASYNCLEAK" $how sh -c "$prog; echo after"
  expect_status 0
  expect_no "$tmp/err" "start_heartbeat"
  expect_line "$tmp/out" "after"
done
run ASYNCLEAK_OPTIONS=trace_children=no "$ASYNCLEAK" sh -c "$prog; echo after"
expect_status 0
expect_no "$tmp/err" "start_heartbeat"

# The program asyncleak starts is always checked; its children see
# LD_PRELOAD without the runtime, and what else was there stays.
preload=${LD_PRELOAD:+$LD_PRELOAD:}libpthread.so.0
run LD_PRELOAD="$preload" "$ASYNCLEAK" --trace-children=no \
  sh -c 'echo "$LD_PRELOAD"'
expect_status 0
expect_line "$tmp/out" "$preload"

run "$ASYNCLEAK" --trace-children=maybe "$prog"
expect_status 125
expect_line "$tmp/err" "asyncleak: invalid value 'maybe' for --trace-children"
exit 0
