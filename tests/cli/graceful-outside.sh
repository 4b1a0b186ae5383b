# --graceful-signals when no loop is running as the signal comes: nothing
# would stop the process, which would run on until killed. A program that
# is only between two runs of its loop gets its graceful shutdown from the
# next run; one that never runs its loop again ends promptly, as it would
# without the option: its report, written by a copy of it, lists what was
# open, and it dies of the signal.
. tests/cli/lib.sh

prog=$O/progs/uv-graceful-outside
[ -x "$prog" ] || fail "'$prog' is not built"
status_py=tests/cli/status.py

bg=
pid=
trap '[ -z "$bg" ] || kill -KILL $bg 2>/dev/null
      [ -z "$pid" ] || kill -KILL $pid 2>/dev/null
      rm -rf "$tmp"' EXIT

# start MODE: starts asyncleak --graceful-signals on the program in MODE,
# in the background, and waits until the program is ready; its pid is then
# in $pid. status.py says how asyncleak ended, in $tmp/how.
start() {
  : >"$tmp/out"
  : >"$tmp/err"
  timeout -k 2 30 python3 "$status_py" "$ASYNCLEAK" --graceful-signals \
    "$prog" "$1" >"$tmp/out" 2>"$tmp/err" </dev/null &
  bg=$!
  i=0
  until grep -q '^ready [0-9]*$' "$tmp/out" 2>/dev/null; do
    i=$((i + 1))
    [ $i -le 200 ] || fail "the program did not get ready: $(cat "$tmp/err")"
    sleep 0.05
  done
  pid=$(sed -n 's/^ready \([0-9]*\)$/\1/p' "$tmp/out")
}

# finish: waits for it.
finish() {
  wait $bg || fail "status.py or timeout failed: $(cat "$tmp/err")"
  bg=
  pid=
}

killed_line() {
  echo "asyncleak: '$prog' (pid $1) was killed by signal $2"
}

# ended MODE SIGNAL N: in MODE, SIGNAL ends the program with its report of
# the timer left open, no finalizer run; asyncleak dies of it too. The
# program would otherwise be killed by its alarm after 10 seconds: a
# SIGALRM, which the checks would see.
ended() {
  start "$1"
  kill -"$2" "$pid"
  p=$pid
  finish
  expect_line "$tmp/out" "signal $3"
  expect_line "$tmp/err" "$(killed_line "$p" "$3") (SIG$2: $4)"
  expect_no "$tmp/err" "finalizer ran"
  expect_line "$tmp/err" "==$p==ERROR: asyncleak: 1 handle left open when \
SIG$2 ended the program"
  expect_line "$tmp/err" "asyncleak: 1 handle(s) left open in 1 process(es)"
}

# The loop never ran, or ran once and never again.
ended sleep TERM 15 Terminated
ended after TERM 15 Terminated
ended after INT 2 Interrupt

# The control: a program between two runs of its loop (it sleeps 5 ms
# between them) gets the graceful shutdown: the finalizer closes the
# timer, nothing is left open, and it dies of the signal.
start between
kill -TERM "$pid"
p=$pid
finish
expect_line "$tmp/out" "signal 15"
expect_line "$tmp/err" "finalizer ran"
expect_line "$tmp/err" "$(killed_line "$p" 15) (SIGTERM: Terminated)"
grep -q "^asyncleak: no leaks: 1 loop(s), 1 handle(s) created, all closed" \
  "$tmp/err" || fail "no 'no leaks' line in: $(cat "$tmp/err")"
exit 0
