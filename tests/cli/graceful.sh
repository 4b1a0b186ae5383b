# --graceful-signals: SIGTERM or SIGINT stops the running loop, its
# finalizers run, the report is written, then the program dies of the
# signal: asyncleak exits with 128 + the signal and says how the program
# died, with its report and no word of a missing one. A second signal
# during the shutdown ends the program at once. Without the option the
# signal ends the program at once: no finalizer runs, and the report lists
# what was open at that moment.
. tests/cli/lib.sh

prog=$O/progs/uv-finally-graceful
[ -x "$prog" ] || fail "'$prog' is not built"
src=tests/progs/uv-finally-graceful.c
tick_line=$(grep -n '@tick' "$src" | cut -d: -f1)
excuse="asyncleak: it was killed before it could write its report (SIGTERM: \
a handler of its own, --handle-signals=no, or a report slower than \
report_timeout_ms); handles open at that moment are not listed"

bg=
pid=
trap '[ -z "$bg" ] || kill -KILL $bg 2>/dev/null
      [ -z "$pid" ] || kill -KILL $pid 2>/dev/null
      rm -rf "$tmp"' EXIT

# wait_for FILE ERE: waits up to 5 seconds for a line of FILE to match.
wait_for() {
  i=0
  while ! grep -qE -- "$2" "$1" 2>/dev/null; do
    i=$((i + 1))
    [ $i -le 100 ] || return 1
    sleep 0.05
  done
}

# start MODE [FLAGS...]: starts asyncleak FLAGS on the program in MODE, in
# the background, with ASYNCLEAK_OPTIONS=$options if set, and waits until
# the program listens; its pid is then in $pid.
start() {
  mode=$1
  shift
  : >"$tmp/out"
  : >"$tmp/err"
  # shellcheck disable=SC2086
  timeout -k 2 15 env ${options:+"ASYNCLEAK_OPTIONS=$options"} \
    "$ASYNCLEAK" "$@" "$prog" $mode >"$tmp/out" 2>"$tmp/err" </dev/null &
  bg=$!
  wait_for "$tmp/out" '^ready [0-9]+$' ||
    fail "the program did not get ready; stderr was:
$(cat "$tmp/err")"
  pid=$(sed -n 's/^ready \([0-9]*\)$/\1/p' "$tmp/out")
}

# finish: waits for asyncleak; its exit status goes to $status.
finish() {
  status=0
  wait $bg || status=$?
  bg=
  pid=
}

now_ms() {
  echo $(($(date +%s%N) / 1000000))
}

killed_line() {
  echo "asyncleak: '$prog' (pid $1) was killed by signal $2"
}

# SIGTERM: the finalizer closes the server and the timer; nothing is left
# open, and the shutdown is said to be a graceful signal's.
options=verbosity=1
start "" --graceful-signals
kill -TERM "$pid"
p=$pid
finish
expect_status 143
expect_line "$tmp/err" "finalizer ran"
expect_line "$tmp/err" "$(killed_line "$p" 15) (SIGTERM: Terminated)"
expect_no "$tmp/err" "$excuse"
expect_no "$tmp/err" "left no report"
expect_no "$tmp/err" "ERROR"
expect_no "$tmp/err" "handle(s) left open in"
expect_no "$tmp/err" "loop returned"
grep -qE "^==$p== asyncleak: no handles left open at exit\$" "$tmp/err" ||
  fail "no report of pid $p saying nothing was left open: $(cat "$tmp/err")"
grep -qE "^  loop 1, created in main .*uv-finally-graceful.c:[0-9]+, on a \
graceful signal:\$" "$tmp/err" ||
  fail "no shutdown on a graceful signal in: $(cat "$tmp/err")"
expect_line "$tmp/err" "    finalizers run: goodbye"
expect_line "$tmp/err" "    2 handles open when it began: 2 closed by a \
finalizer, 0 closed by the program, 0 closed by force, 0 still open"
grep -q "^asyncleak: no leaks: 1 loop(s), 2 handle(s) created, all closed" \
  "$tmp/err" || fail "no 'no leaks' line in: $(cat "$tmp/err")"

# SIGINT, and the finalizer leaves the timer open: it is reported, and the
# status is still the signal's.
options=
start leak --graceful-signals
kill -INT "$pid"
p=$pid
finish
expect_status 130
expect_line "$tmp/err" "finalizer ran"
expect_line "$tmp/err" "$(killed_line "$p" 2) (SIGINT: Interrupt)"
expect_no "$tmp/err" "$excuse"
grep -q "^==$p==ERROR: asyncleak: 1 handle left open at exit\$" "$tmp/err" ||
  fail "no report of 1 handle left open in: $(cat "$tmp/err")"
expect_line "$tmp/err" "1 handle of type uv_timer_t, created at:"
grep -qE "^    #0 0x[0-9a-f]+ in main .*uv-finally-graceful.c:$tick_line\$" \
  "$tmp/err" || fail "no frame at line $tick_line in: $(cat "$tmp/err")"
expect_line "$tmp/err" "    2 handles open when it began: 1 closed by a \
finalizer, 0 closed by the program, 0 closed by force, 1 still open"
expect_line "$tmp/err" "asyncleak: 1 handle(s) left open in 1 process(es)"

# With --force-close too, the timer is closed by force, and said so.
start leak --graceful-signals --force-close
kill -TERM "$pid"
p=$pid
finish
expect_status 143
expect_line "$tmp/err" "finalizer ran"
expect_line "$tmp/err" "$(killed_line "$p" 15) (SIGTERM: Terminated)"
expect_line "$tmp/err" \
  "1 handle of type uv_timer_t closed by force at shutdown, created at:"
expect_line "$tmp/err" "    2 handles open when it began: 1 closed by a \
finalizer, 0 closed by the program, 1 closed by force, 0 still open"
expect_line "$tmp/err" \
  "asyncleak: 1 handle(s) closed by force at shutdown in 1 process(es)"
expect_no "$tmp/err" "left open at exit"

# A shutdown that would drain for 20 seconds: a second SIGTERM during it
# ends the program at once.
options=drain_timeout_ms=20000
start hang --graceful-signals
kill -TERM "$pid"
wait_for "$tmp/err" '^finalizer ran$' ||
  fail "the finalizer did not run; stderr was: $(cat "$tmp/err")"
sleep 0.3
kill -0 "$pid" 2>/dev/null ||
  fail "the program did not wait for its protected handle: $(cat "$tmp/err")"
t0=$(now_ms)
kill -TERM "$pid"
p=$pid
finish
took=$(($(now_ms) - t0))
expect_status 143
[ "$took" -lt 3000 ] || fail "the second SIGTERM took $took ms to end it"
expect_line "$tmp/err" "$(killed_line "$p" 15) (SIGTERM: Terminated)"
expect_line "$tmp/err" "$excuse"

# Without --graceful-signals, SIGTERM ends the program at once: no
# finalizer runs, and the report says what was open when the signal came.
options=
start ""
kill -TERM "$pid"
p=$pid
finish
expect_status 143
expect_no "$tmp/err" "finalizer ran"
expect_line "$tmp/err" "$(killed_line "$p" 15) (SIGTERM: Terminated)"
expect_no "$tmp/err" "$excuse"
expect_line "$tmp/err" \
  "==$p==ERROR: asyncleak: 2 handles left open when SIGTERM ended the program"
expect_line "$tmp/err" "asyncleak: 2 handle(s) left open in 1 process(es)"

# And with --handle-signals=no, it dies without a report, as it would.
start "" --handle-signals=no
kill -TERM "$pid"
p=$pid
finish
expect_status 143
expect_line "$tmp/err" "$(killed_line "$p" 15) (SIGTERM: Terminated)"
expect_line "$tmp/err" "$excuse"
expect_no "$tmp/err" "ERROR"
exit 0
