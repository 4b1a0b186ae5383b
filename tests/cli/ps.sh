# asyncleak ps PID: asked while a program runs, it lists the program's
# loops, what the thread running each is doing, and what is open on it
# grouped by creation site, with only the handles that keep the loop
# running (armed and referenced) marked so. A thread stuck inside a
# callback is shown with its current stack. Asking changes nothing: the
# program goes on and ends as it would. Processes that do not run
# asyncleak, or may not be asked, are refused clearly.
. tests/cli/lib.sh

prog=$O/progs/uv-ps
src=tests/progs/uv-ps.c
# A process forked by a program under test is not left behind, whatever
# happens.
child=
trap '[ -z "$child" ] || kill -KILL "$child" 2>/dev/null; rm -rf "$tmp"' EXIT

# child_of PID: a child of PID, from /proc (pgrep may not run where a
# sanitizer's runtime is preloaded into every program).
child_of() {
  awk -v p="$1" '{ sub(/.*\) /, ""); split($0, f, " ")
                   if (f[2] == p) { n = FILENAME; gsub(/[^0-9]/, "", n)
                                    print n; found = 1; exit } }
                 END { exit !found }' /proc/[0-9]*/stat 2>/dev/null
}
line_of() { grep -n "/\* @$1 \*/" "$src" | cut -d: -f1; }

# wait_for WORD FILE: the pid on the line "WORD PID" of FILE, once there.
wait_for() {
  i=0
  until pid=$(awk -v w="$1" '$1 == w { print $2; exit }' "$2" 2>/dev/null) &&
    [ -n "$pid" ]; do
    i=$((i + 1))
    [ $i -le 200 ] || fail "the program never said '$1': $(cat "$2")"
    sleep 0.05
  done
  echo "$pid"
}

# ask_waiting PID: asks PID ($tmp/out) until its main thread waits in its
# loop, 2 s at most: a program that has just said it is ready may not
# have reached its loop's first wait yet. Each answer is still checked
# whole by the caller.
ask_waiting() {
  i=0
  while :; do
    run "$ASYNCLEAK" ps "$1"
    expect_status 0
    grep -q "^  thread $1 (main) runs it: waiting for events" "$tmp/out" ||
      [ $i -ge 20 ] || { i=$((i + 1)); sleep 0.1; continue; }
    break
  done
}

# start_and_ask PROG MODE: runs PROG MODE under asyncleak in the
# background ($cmd), waits for its "ready PID" line ($pid), or "stuck
# PID" for MODE stuck, and asks it: the answer in $tmp/ps.txt. The
# program runs until $tmp/stop exists.
start_and_ask() {
  rm -f "$tmp/stop"
  timeout -k 5 60 "$ASYNCLEAK" "$1" "$2" "$tmp/stop" \
    >"$tmp/prog.out" 2>"$tmp/prog.err" &
  cmd=$!
  if [ "$2" = stuck ]; then
    pid=$(wait_for stuck "$tmp/prog.out")
    sleep 0.2
  else
    pid=$(wait_for ready "$tmp/prog.out")
  fi
  if [ "$2" = stuck ]; then
    run "$ASYNCLEAK" ps "$pid"
    expect_status 0
  else
    ask_waiting "$pid"
  fi
  cp "$tmp/out" "$tmp/ps.txt"
}

# The handles of a server: one keeps the loop running, two are open
# without keeping it running, one was closed and is not listed.
start_and_ask "$prog" serve
run "$ASYNCLEAK" ps --json "$pid"
expect_status 0
cp "$tmp/out" "$tmp/ps.json"
touch "$tmp/stop"
wait $cmd || fail "the program's run failed ($?) after ps: $(cat "$tmp/prog.err")"
expect_line "$tmp/prog.out" "done"
grep -q "asyncleak: no leaks" "$tmp/prog.err" ||
  fail "the program's own run changed: $(cat "$tmp/prog.err")"

expect_line "$tmp/ps.txt" "Process $pid: 1 loop"
grep -q "^Loop 1 (libuv, the default loop) at 0x[0-9a-f]*, made at main (.*uv-ps.c:[0-9]*)\$" \
  "$tmp/ps.txt" || fail "no loop line: $(cat "$tmp/ps.txt")"
grep -q "^  thread $pid (main) runs it: waiting for events, for [0-9.]* m\?s\$" \
  "$tmp/ps.txt" || fail "no waiting thread: $(cat "$tmp/ps.txt")"
# section TITLE: the frames #0 listed under "  TITLE: ..." up to the next.
section() {
  awk -v t="  $1:" 'index($0, t) == 1 { on = 1; next }
    /^  [a-z]/ { on = 0 } on && / #0 /' "$tmp/ps.txt"
}
expect_line "$tmp/ps.txt" "  keeping it running: 1 handle"
expect_line "$tmp/ps.txt" "  open, not keeping it running: 3 handles"
section "keeping it running" > "$tmp/alive"
section "open, not keeping it running" > "$tmp/open"
grep -q "#0 0x[0-9a-f]* in start_ticker .*uv-ps.c:$(line_of ticker)\$" \
  "$tmp/alive" || fail "the ticker is not what keeps it running: $(cat "$tmp/ps.txt")"
[ "$(wc -l < "$tmp/alive")" -eq 1 ] || fail "more kept it running: $(cat "$tmp/alive")"
grep -q "#0 0x[0-9a-f]* in start_unreferenced .*uv-ps.c:$(line_of unreferenced)\$" \
  "$tmp/open" || fail "no unreferenced timer: $(cat "$tmp/ps.txt")"
grep -q "#0 0x[0-9a-f]* in make_idle .*uv-ps.c:$(line_of idle)\$" "$tmp/open" ||
  fail "no idle: $(cat "$tmp/ps.txt")"
expect_line "$tmp/ps.txt" "    1 uv_timer_t (active, unreferenced), made at:"
expect_no "$tmp/ps.txt" "closed_timer"
expect_no "$tmp/ps.txt" "inside a callback"
# The work request, pending until the stop file exists.
expect_line "$tmp/ps.txt" "  pending, their callbacks still to come: 1 request"
section "pending, their callbacks still to come" > "$tmp/pending"
grep -q "#0 0x[0-9a-f]* in start_work .*uv-ps.c:$(line_of work)\$" \
  "$tmp/pending" || fail "the work request is not pending: $(cat "$tmp/ps.txt")"
grep -q "^    1 uv_work_t (pending for [0-9.]* m\?s" "$tmp/ps.txt" ||
  fail "no age of the work request: $(cat "$tmp/ps.txt")"

python3 - "$tmp/ps.json" "$pid" <<'PY' || fail "bad JSON: $(cat "$tmp/ps.json")"
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["schema"] == "asyncleak-ps" and doc["version"] == 1
(p,) = doc["processes"]
assert p["pid"] == int(sys.argv[2]) and p["complete"] is True
(loop,) = p["loops"]
assert loop["library"] == "libuv" and loop["default"] is True
(run,) = loop["runs"]
assert run["thread"] == p["pid"] and run["state"] == "waiting"
assert run["stack"] is None
by_site = {g["stack"][0]["function"]: g for g in loop["groups"]}
assert by_site["start_ticker"]["class"] == "alive", by_site
assert by_site["start_ticker"]["keeps_loop_running"] is True
for name in ("start_unreferenced", "make_idle"):
    assert by_site[name]["class"] == "open", by_site[name]
    assert by_site[name]["keeps_loop_running"] is False
assert "closed_timer" not in by_site
assert by_site["start_work"]["class"] == "pending", by_site["start_work"]
assert by_site["start_work"]["kind"] == "request"
assert by_site["start_work"]["pending_ms"] >= 0
assert all(g["kind"] == "handle" for g in loop["groups"]
           if g["class"] != "pending")
PY

# A child forked from inside a callback goes on inside its parent's run:
# it answers too, with the loop it runs and what it holds.
start_and_ask "$prog" fork
child=$(wait_for child "$tmp/prog.out")
ask_waiting "$child"
touch "$tmp/stop"
wait $cmd || fail "the forking program's run failed ($?): $(cat "$tmp/prog.err")"
gone "$child" || fail "the forked child did not end at the stop file"
grep -q "^  thread $child (main) runs it: waiting for events" "$tmp/out" ||
  fail "the child does not answer as its own: $(cat "$tmp/out" "$tmp/err")"
grep -q "#0 0x[0-9a-f]* in start_ticker .*uv-ps.c:$(line_of ticker)\$" \
  "$tmp/out" || fail "the child's ticker not listed: $(cat "$tmp/out")"
grep -q "^    1 uv_timer_t (active, referenced), made in the parent process, before the fork, at:\$" \
  "$tmp/out" || fail "the ticker not said to be the parent's: $(cat "$tmp/out")"
child=

# Stuck inside a callback: the callback, for how long, and its stack now.
start_and_ask "$prog" stuck
grep -q "^  thread $pid (main) runs it: inside a callback for [0-9.]* m\?s, now at:\$" \
  "$tmp/out" || fail "no thread inside a callback: $(cat "$tmp/out")"
grep -q "^      #[0-9]* 0x[0-9a-f]* in sleepy_callback .*uv-ps.c:[0-9]*\$" \
  "$tmp/out" || fail "the callback is not on the stack: $(cat "$tmp/out")"
grep -q "^      #0 0x[0-9a-f]* in .*nanosleep" "$tmp/out" ||
  fail "the stack does not start where it sleeps: $(cat "$tmp/out")"
expect_no "$tmp/out" "libasyncleak"
run "$ASYNCLEAK" ps --json "$pid"
python3 - "$tmp/out" <<'PY' || fail "bad JSON: $(cat "$tmp/out")"
import json, sys
(p,) = json.load(open(sys.argv[1]))["processes"]
(run,) = p["loops"][0]["runs"]
assert run["state"] == "callback", run
assert "sleepy_callback" in [f["function"] for f in run["stack"]], run
PY
touch "$tmp/stop"
wait $cmd || fail "the stuck program's run failed ($?) after ps: $(cat "$tmp/prog.err")"
expect_line "$tmp/prog.out" "done"

# The same questions for the other loop libraries: the thread waits, or
# is inside sleepy_callback; the ticker is what keeps each loop running,
# and what keeps nothing running is listed apart.
for lib in ev-ps:libevent:make_idle libev-ps:libev:start_unreferenced \
           glib-ps:GLib:; do
  name=${lib%%:*}; rest=${lib#*:}; library=${rest%%:*}; quiet=${rest#*:}
  start_and_ask "$O/progs/$name" serve
  touch "$tmp/stop"
  wait $cmd || fail "$name: the run failed ($?) after ps: $(cat "$tmp/prog.err")"
  expect_line "$tmp/prog.out" "done"
  grep -q "^Loop 1 ($library[,)]" "$tmp/ps.txt" || fail "$name: no loop: $(cat "$tmp/ps.txt")"
  grep -q "^  thread $pid (main) runs it: waiting for events" "$tmp/ps.txt" ||
    fail "$name: no waiting thread: $(cat "$tmp/ps.txt")"
  section "keeping it running" > "$tmp/alive"
  section "open, not keeping it running" > "$tmp/open"
  grep -q "#0 0x[0-9a-f]* in start_ticker .*$name.c:[0-9]*\$" "$tmp/alive" ||
    fail "$name: the ticker is not what keeps it running: $(cat "$tmp/ps.txt")"
  [ "$(wc -l < "$tmp/alive")" -eq 1 ] ||
    fail "$name: more kept it running: $(cat "$tmp/ps.txt")"
  if [ -n "$quiet" ]; then
    grep -q "#0 0x[0-9a-f]* in $quiet .*$name.c:[0-9]*\$" "$tmp/open" ||
      fail "$name: $quiet not listed apart: $(cat "$tmp/ps.txt")"
  fi

  start_and_ask "$O/progs/$name" stuck
  grep -q "^  thread $pid (main) runs it: inside a callback for " "$tmp/out" ||
    fail "$name: no thread inside a callback: $(cat "$tmp/out")"
  grep -q "^      #[0-9]* 0x[0-9a-f]* in sleepy_callback .*$name.c:[0-9]*\$" \
    "$tmp/out" || fail "$name: the callback is not on the stack: $(cat "$tmp/out")"
  touch "$tmp/stop"
  wait $cmd || fail "$name: the stuck run failed ($?): $(cat "$tmp/prog.err")"
  expect_line "$tmp/prog.out" "done"
done

# A program linked with the runtime, run without the command, answers
# too (uv-forever links libasyncleak; it runs until it is killed).
timeout -k 5 60 "$O/progs/uv-forever" run >"$tmp/prog.out" 2>"$tmp/prog.err" &
cmd=$!
i=0
until grep -q running "$tmp/prog.out" 2>/dev/null; do
  i=$((i + 1)); [ $i -le 200 ] || fail "uv-forever did not start"; sleep 0.05
done
linked=$(child_of $cmd) || fail "no uv-forever under timeout $cmd"
ask_waiting "$linked"
kill -TERM $cmd; wait $cmd 2>/dev/null || :
grep -q "^      #0 0x[0-9a-f]* in start_ticker .*uv-forever.c:[0-9]*\$" "$tmp/out" ||
  fail "the linked runtime did not answer: $(cat "$tmp/out" "$tmp/err")"

# Refused: no such process, one without asyncleak, one with live=0, bad
# arguments.
run "$ASYNCLEAK" ps 2147483647
expect_status 125
grep -q "^asyncleak: ps: no process 2147483647\$" "$tmp/err" ||
  fail "no such process not said: $(cat "$tmp/err")"
run "$ASYNCLEAK" ps $$
expect_status 125
grep -q "^asyncleak: ps: process $$ is not running asyncleak\$" "$tmp/err" ||
  fail "a process without asyncleak not said: $(cat "$tmp/err")"
run "$ASYNCLEAK" ps nope
expect_status 125
grep -q "'nope' is not a process id" "$tmp/err" || fail "$(cat "$tmp/err")"
run "$ASYNCLEAK" ps
expect_status 125

ASYNCLEAK_OPTIONS=live=0 timeout -k 5 60 "$ASYNCLEAK" "$prog" serve \
  "$tmp/stop2" >"$tmp/prog.out" 2>"$tmp/prog.err" &
cmd=$!
pid=$(wait_for ready "$tmp/prog.out")
run "$ASYNCLEAK" ps "$pid"
expect_status 125
grep -q "process $pid does not answer (Connection refused): .*live=0" \
  "$tmp/err" || fail "live=0 not said: $(cat "$tmp/err")"
# Another user may not ask (root only: the test needs a second user).
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null &&
  setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$ASYNCLEAK"; then
  ASYNCLEAK_OPTIONS= timeout -k 5 60 "$ASYNCLEAK" "$prog" serve \
    "$tmp/stop3" >"$tmp/prog3.out" 2>"$tmp/prog3.err" &
  cmd3=$!
  pid3=$(wait_for ready "$tmp/prog3.out")
  chmod 755 "$tmp"
  run setpriv --reuid=65534 --regid=65534 --clear-groups "$ASYNCLEAK" ps "$pid3"
  expect_status 125
  grep -q "process $pid3 refused: not your process" "$tmp/err" ||
    fail "another user was not refused: $(cat "$tmp/err")"
  touch "$tmp/stop3"
  wait $cmd3 || fail "the program's run failed after a refused ps"
else
  echo "$test_name: not root, or the command is out of another user's reach: the other user's refusal is not tried"
fi
touch "$tmp/stop2"
wait $cmd || fail "the live=0 run failed: $(cat "$tmp/prog.err")"
