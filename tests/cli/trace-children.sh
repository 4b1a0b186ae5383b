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

# bash keeps its own copy of the environment, with its own setenv: the
# runtime must leave LD_PRELOAD where both shells look.
for shell in sh bash; do
  run "$ASYNCLEAK" --trace-children=no $shell -c "$prog; echo after"
  expect_status 0
  expect_no "$tmp/err" "start_heartbeat"
  expect_line "$tmp/out" "after"
  run "$ASYNCLEAK" --trace-children=no $shell -c 'echo "[$LD_PRELOAD]"'
  expect_status 0
  expect_line "$tmp/out" "[${LD_PRELOAD:-}]"
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
