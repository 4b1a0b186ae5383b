# Signals sent to asyncleak reach the program, which decides what to do
# with them; asyncleak then exits with the program's status.
. tests/cli/lib.sh

# forward SIGNAL STATUS: the program exits with STATUS on SIGNAL.
forward() {
  rm -f "$tmp/started"
  "$ASYNCLEAK" sh -c 'trap "exit $2" "$3"; echo $$ >"$1"
                      while :; do sleep 0.1; done' \
    sh "$tmp/started" "$2" "$1" >"$tmp/out" 2>"$tmp/err" &
  pid=$!
  i=0
  while [ ! -s "$tmp/started" ]; do
    i=$((i + 1))
    if [ $i -gt 100 ]; then
      kill -TERM $pid
      fail "the program did not start"
    fi
    sleep 0.1
  done
  child=$(cat "$tmp/started")
  # Nothing may hang: past 10 seconds, both are killed.
  (sleep 10 && kill -KILL $pid "$child") >/dev/null 2>&1 &
  watchdog=$!
  kill -"$1" $pid
  status=0
  wait $pid || status=$?
  kill $watchdog 2>/dev/null
  kill -KILL "$child" 2>/dev/null
  expect_status "$2"
}

forward TERM 9
forward HUP 8
