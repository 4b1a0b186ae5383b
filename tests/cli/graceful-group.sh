# --graceful-signals and a signal sent to the whole process group
# (timeout(1), kill -- -PGID, a CI runner cancelling a job): the program
# receives it directly, and again from asyncleak, which passes on the copy
# it received itself. The second copy is not a second signal: every run
# has its graceful shutdown and its report, and dies of the signal.
# (tests/cli/graceful.sh checks that a real second signal still ends the
# program at once.)
. tests/cli/lib.sh

prog=$O/progs/uv-finally-graceful
[ -x "$prog" ] || fail "'$prog' is not built"
status_py=tests/cli/status.py
excuse="it was killed before it could write its report"

bg=
trap '[ -z "$bg" ] || kill -KILL "-$bg" 2>/dev/null
      rm -rf "$tmp"' EXIT

# graceful_report SIGNAL N: the report of a graceful shutdown on SIGNAL.
graceful_report() {
  expect_line "$tmp/err" "finalizer ran"
  grep -q "^asyncleak: '$prog' (pid [0-9]*) was killed by signal $2 \
(SIG$1: " "$tmp/err" || fail "not killed by SIG$1: $(cat "$tmp/err")"
  expect_no "$tmp/err" "$excuse"
  grep -q "^asyncleak: no leaks: 1 loop(s), 2 handle(s) created, all closed" \
    "$tmp/err" || fail "no 'no leaks' line in: $(cat "$tmp/err")"
}

# timeout signals asyncleak, then its whole process group.
n=0
while [ $n -lt 10 ]; do
  n=$((n + 1))
  status=0
  timeout -k 10 --preserve-status -s INT 1 "$ASYNCLEAK" --graceful-signals \
    "$prog" >"$tmp/out" 2>"$tmp/err" </dev/null || status=$?
  expect_status 130
  graceful_report INT 2
done

# kill -- -PGID from outside the group: asyncleak is the leader of a
# session of its own.
n=0
while [ $n -lt 5 ]; do
  n=$((n + 1))
  rm -f "$tmp/pgid"
  : >"$tmp/out"
  timeout -k 2 30 python3 "$status_py" --session --pid-file "$tmp/pgid" \
    "$ASYNCLEAK" --graceful-signals "$prog" >"$tmp/out" 2>"$tmp/err" \
    </dev/null &
  i=0
  until [ -s "$tmp/pgid" ] && grep -q '^ready [0-9]*$' "$tmp/out"; do
    i=$((i + 1))
    [ $i -le 200 ] || fail "the program did not get ready: $(cat "$tmp/err")"
    sleep 0.05
  done
  bg=$(cat "$tmp/pgid")
  kill -TERM "-$bg"
  wait $! || fail "status.py or timeout failed: $(cat "$tmp/err")"
  bg=
  expect_line "$tmp/out" "signal 15"
  graceful_report TERM 15
done
exit 0
