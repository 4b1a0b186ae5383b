# memcached, which runs on libevent 2.1 (a main base, one more per worker
# thread), under asyncleak: it must answer a set and a get as it does
# alone, and end on SIGTERM without crashing. memcached handles SIGTERM
# itself: its handler asks the main loop to stop, main frees the main base
# and returns 0. So the report is written at exit, in the process, and
# lists the worker bases' notify events, still added (never deleted, the
# workers are not stopped), and on the main base the listening socket's
# event and the clock timer, deleted by event_base_free; asyncleak exits
# 23, the status of a program that exited 0 and leaked.
. tests/cli/lib.sh

command -v memcached >/dev/null 2>&1 ||
  fail "memcached is not installed (scripts/install-deps.sh)"
command -v python3 >/dev/null 2>&1 || fail "python3 is not installed"

bg=
mpid=
# Whatever happens, no memcached is left behind (and timeout passes its
# signal to its process group, memcached included).
trap '[ -z "$mpid" ] || kill -KILL $mpid 2>/dev/null
      [ -z "$bg" ] || { kill -TERM $bg 2>/dev/null; wait $bg; }
      rm -rf "$tmp"' EXIT

# A small client: "free" prints a free port of 20000-39999; "pid" asks
# memcached's stats for its pid; "setget" stores a value and reads it back.
# Each connection ends with quit, and the client waits until memcached has
# closed it, so that no connection of the test is open when it stops.
cat >"$tmp/mc.py" <<'EOF'
import random, socket, sys

def free():
    for _ in range(50):
        port = random.randrange(20000, 40000)
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return port
        except OSError:
            pass
        finally:
            s.close()
    sys.exit("no free port")

def talk(port, req, end):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(req)
    buf = b""
    while not buf.endswith(end):
        d = s.recv(4096)
        if not d:
            break
        buf += d
    s.sendall(b"quit\r\n")
    while s.recv(4096):
        pass
    s.close()
    return buf.decode().replace("\r\n", "\n")

what = sys.argv[1]
if what == "free":
    print(free())
    sys.exit(0)
port = int(sys.argv[2])
try:
    if what == "pid":
        for line in talk(port, b"stats\r\n", b"END\r\n").splitlines():
            if line.startswith("STAT pid "):
                print(line.split()[2])
    else:
        sys.stdout.write(talk(port,
            b"set asyncleak 0 0 5\r\nhello\r\nget asyncleak\r\n", b"END\r\n"))
except OSError as e:
    sys.exit(str(e))
EOF

# start FLAGS...: runs memcached under asyncleak with FLAGS, in the
# background, and waits until it answers; sets $bg (timeout's pid), $port
# and $mpid (memcached's pid, as memcached says it). A port taken between
# the check and memcached's bind is tried again with another.
start() {
  for _ in 1 2 3; do
    port=$(timeout -k 2 10 python3 "$tmp/mc.py" free) || fail "no free port"
    timeout -k 3 20 "$ASYNCLEAK" "$@" memcached -u root -l 127.0.0.1 \
      -p "$port" -U 0 -t 4 >"$tmp/out" 2>"$tmp/err" </dev/null &
    bg=$!
    i=0
    while :; do
      mpid=$(timeout -k 2 10 python3 "$tmp/mc.py" pid "$port" 2>/dev/null)
      [ -z "$mpid" ] || return 0
      kill -0 $bg 2>/dev/null || break
      i=$((i + 1))
      [ $i -le 100 ] || fail "memcached did not answer within 10 s: \
$(cat "$tmp/err")"
      sleep 0.1
    done
    wait $bg
    status=$?
    bg=
    grep -q "Address already in use" "$tmp/err" ||
      fail "memcached ended at start, status $status: $(cat "$tmp/err")"
  done
  fail "no port free after 3 attempts: $(cat "$tmp/err")"
}

# stop: SIGTERM to memcached; waits for asyncleak (timeout bounds it) and
# sets $status.
stop() {
  kill -TERM "$mpid" || fail "no memcached $mpid to stop"
  status=0
  wait $bg || status=$?
  bg=
  case $status in
    124 | 137) fail "memcached did not end on SIGTERM within 20 s: \
$(cat "$tmp/err")" ;;
  esac
  kill -0 "$mpid" 2>/dev/null && fail "memcached $mpid still runs"
  mpid_done=$mpid
  mpid=
}

# count N ERE: $tmp/err has exactly N lines that match ERE.
count() {
  n=$(grep -cE -- "$2" "$tmp/err")
  [ "$n" -eq "$1" ] ||
    fail "$n lines match '$2', expected $1, in:
$(cat "$tmp/err")"
}

# check: the report of a memcached that served and ended on SIGTERM.
check() {
  pid=$mpid_done
  expect_status 23
  # The report of a normal exit: no death by a signal, no graceful
  # shutdown by asyncleak.
  for bad in "killed by signal" "SIGTERM" "graceful" "Shutdowns:" \
    "no supported event loop" "cannot find" "left no report" \
    "Exiting on error"; do
    expect_no "$tmp/err" "$bad"
  done
  [ ! -s "$tmp/out" ] || fail "memcached printed: $(cat "$tmp/out")"
  # memcached itself printed nothing: the report comes first.
  [ "$(sed -n 2p "$tmp/err")" = \
    "==$pid==ERROR: asyncleak: 6 handles left open at exit" ] ||
    fail "not the report expected: $(cat "$tmp/err")"
  expect_line "$tmp/err" "4 handles of type event (added), created at:"
  count 2 "^1 handle of type event \(added when its base was freed\), created at:\$"
  # One notify event on each worker's base, made by the main thread.
  for loop in 2 3 4 5; do
    count 1 "^  0x[0-9a-f]+ on loop $loop, thread $pid \(main\), added: fd [0-9]+ read, persistent\$"
  done
  count 2 "^  0x[0-9a-f]+ on loop 1, thread $pid \(main\), deleted by event_base_free\$"
  expect_line "$tmp/err" \
    "Loops (libevent): 5 seen, 1 closed, 4 not closed, 1 freed with what was on it:"
  count 1 "^  loop 1 \(libevent 0x[0-9a-f]+\) created in .* by thread $pid \(main\): freed with what is listed above still on it\$"
  count 4 "^  loop [2-5] \(libevent 0x[0-9a-f]+\) created in .* by thread $pid \(main\): never closed\$"
  expect_line "$tmp/err" "SUMMARY: asyncleak: 6 handles left open (4 event (added), 2 event (added when its base was freed)) from 3 creation sites; 4 of 5 loops not closed"
  [ "$(tail -n 1 "$tmp/err")" = \
    "asyncleak: 6 handle(s) left open in 1 process(es)" ] ||
    fail "asyncleak's last line: $(tail -n 1 "$tmp/err")"
}

# serve: memcached answers as it does alone.
serve() {
  got=$(timeout -k 2 10 python3 "$tmp/mc.py" setget "$port") ||
    fail "the client failed: $got; stderr: $(cat "$tmp/err")"
  want=$(printf 'STORED\nVALUE asyncleak 0 5\nhello\nEND')
  [ "$got" = "$want" ] || fail "memcached answered: $got"
}

# a) The signal as it comes. Asked with asyncleak ps while it serves
# (docs/live.md), memcached shows its five bases, each run by its own
# thread waiting for events and kept running by an added event: the
# main base by its listening socket's and clock's, each worker's by its
# notify pipe's. Asking changes nothing in what it serves or reports.
start
serve
timeout -k 2 30 "$ASYNCLEAK" ps "$mpid" >"$tmp/ps.txt" 2>"$tmp/ps.err" ||
  fail "asyncleak ps failed: $(cat "$tmp/ps.err")"
expect_line "$tmp/ps.txt" "Process $mpid: 5 loops"
n=$(grep -c "^  thread [0-9]* \(([a-z]*) \)\?runs it: waiting for events, for " "$tmp/ps.txt")
[ "$n" -eq 5 ] || fail "$n threads waiting, expected 5: $(cat "$tmp/ps.txt")"
grep -q "^  thread $mpid (main) runs it: waiting for events" "$tmp/ps.txt" ||
  fail "the main thread does not run a base: $(cat "$tmp/ps.txt")"
grep -qx "  keeping it running: 2 handles" "$tmp/ps.txt" ||
  fail "the main base is not kept by 2 events: $(cat "$tmp/ps.txt")"
n=$(grep -cx "    1 event (added) (added: fd [0-9]* read, persistent), made at:" "$tmp/ps.txt")
[ "$n" -eq 5 ] || fail "$n fd events keeping bases running, expected 5: $(cat "$tmp/ps.txt")"
serve
stop
check

# b) --graceful-signals changes nothing: memcached's signal(SIGTERM, ...)
# replaces asyncleak's handler, and memcached ends as in a).
start --graceful-signals
serve
stop
check

# c) What a run writes for the user's files is read back, for this
# program whose frames are offsets in a binary without symbols: each
# generated suppression is accepted and hides its group, and the
# baseline, written without --force-close, holds with it (a leak's
# fingerprint does not depend on force mode).
start --gen-suppressions --write-baseline="$tmp/base"
serve
stop
check
awk '/^Suppressions for the leaks above/ { on = 1; next }
     on && /^$/ { on = 0 }
     on && !/^#/' "$tmp/err" >"$tmp/gen.supp"
[ "$(grep -c '^event_added:' "$tmp/gen.supp")" -eq 3 ] ||
  fail "expected 3 event_added rules: $(cat "$tmp/gen.supp")"
[ "$(grep -c '^[0-9a-f]\{16\} open ' "$tmp/base")" -eq 3 ] ||
  fail "expected 3 fingerprints in the baseline: $(cat "$tmp/base")"
start --suppressions="$tmp/gen.supp" --force-close
serve
stop
expect_status 0
expect_no "$tmp/err" "ERROR: asyncleak"
expect_no "$tmp/err" "malformed"
grep -qE '^asyncleak: no leaks reported: 5 loop\(s\), [0-9]+ handle\(s\) created; 4 loop\(s\) never closed; 6 suppressed$' "$tmp/err" ||
  fail "not the last line expected: $(cat "$tmp/err")"
start --force-close --baseline="$tmp/base"
serve
stop
expect_status 0
expect_no "$tmp/err" "ERROR: asyncleak"
grep -qE '^asyncleak: no leaks reported: 5 loop\(s\), [0-9]+ handle\(s\) created; 4 loop\(s\) never closed; 6 in the baseline$' "$tmp/err" ||
  fail "not the last line expected: $(cat "$tmp/err")"
# The negative control: the first rule alone leaves the other two groups.
head -n 1 "$tmp/gen.supp" >"$tmp/one.supp"
start --suppressions="$tmp/one.supp"
serve
stop
expect_status 23
count 2 "^1 handle of type event \(added when its base was freed\), created at:\$"
expect_no "$tmp/err" "4 handles of type event (added)"

# d) The debug checks (docs/debug-checks.md) change nothing in what
# memcached answers or in what is reported of it, and find nothing.
# memcached never turns libevent's threading on (it imports no evthread_
# function), so its five bases have no lock and the wrong-thread check
# follows every event call on them: the main thread adds each worker's
# notify event before that worker begins running its base, which is no
# finding, and each worker sets, adds and deletes the events of the
# connections it is handed on its own thread. memcached frees no event
# (its events live in its own structures and are set again with
# event_set), so the use-after-close check has no close to follow. Its
# callbacks answer a set and a get in far less than 100 ms: no slow
# callback either.
start --debug-checks
serve
serve
stop
check
expect_no "$tmp/err" "finding"
expect_no "$tmp/err" "Wrong thread"
exit 0
