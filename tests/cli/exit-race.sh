# _exit() while other threads make and close handles as fast as they can
# (tests/progs/uv-exit-race.c). The copy that writes the report is made
# at an instant when any of them may be halfway through a change of the
# registry: the report must still list every timer the main thread left
# open, be complete, and never time out. Twenty runs, each a new instant.
. tests/cli/lib.sh

prog=$O/progs/uv-exit-race
runs=20
line=$(grep -n '/\* @leak \*/' tests/progs/uv-exit-race.c | cut -d: -f1)

# main_group FILE: the number of handles in the group whose first frame is
# leak_timers, or nothing.
main_group() {
  awk '/^[0-9]+ handles? of type uv_timer_t, created at:$/ { n = $1; next }
       n != "" && /^    #0 / { if ($0 ~ / in leak_timers /) print n; n = "" }' \
    "$1"
}

# check WHAT: the run's report is whole, and its status the program's.
check() {
  [ "$status" -eq 3 ] || fail "$1: status $status; stderr: $(cat "$tmp/err")"
  for bad in "stayed locked" "was not written within" \
      "killed before it could write its report" "left no report" \
      "ended without a report"; do
    expect_no "$tmp/err" "$bad"
  done
}

i=0
while [ $i -lt $runs ]; do
  i=$((i + 1))
  run "$ASYNCLEAK" "$prog" 8 8
  check "run $i"
  [ "$(main_group "$tmp/err")" = 8 ] ||
    fail "run $i: not the 8 timers of main: $(cat "$tmp/err")"
  grep -q "^    #0 0x[0-9a-f]* in leak_timers .*uv-exit-race.c:$line\$" \
    "$tmp/err" || fail "run $i: no frame at line $line: $(cat "$tmp/err")"
done

# The controls. The same race with nothing of main's left open: the other
# threads' handles may be listed, main's none.
i=0
while [ $i -lt 5 ]; do
  i=$((i + 1))
  run "$ASYNCLEAK" "$prog" 8 0
  check "control $i"
  [ -z "$(main_group "$tmp/err")" ] ||
    fail "control $i: main's timers listed: $(cat "$tmp/err")"
done
# No thread and no timer: nothing at all.
run "$ASYNCLEAK" "$prog" 0 0
check "alone"
expect_no "$tmp/err" "ERROR"
exit 0
