# sniproxy 0.6, an HTTP and TLS proxy on libev 4 (Debian's libev.so.4),
# under asyncleak: with a private configuration it listens on 127.0.0.1
# only, passes a request for a known host to a backend and refuses an
# unknown one (503), and exits 0 on SIGTERM, as it does alone. Its
# SIGTERM watcher breaks the default loop; main then stops the
# listener's and the resolver's watchers and returns, leaving started the
# four ev_signal watchers it started in main (SIGHUP, SIGUSR1, SIGINT,
# SIGTERM, statics of sniproxy's). The default loop is never destroyed.
# asyncleak reports those four, and nothing of libev's own (the default
# loop's SIGCHLD watcher, the ev_io of its signal pipe), and exits 23.
# The control: a suppression of sniproxy's ev_signal watchers leaves
# nothing to report, and asyncleak exits 0; one of another type hides
# nothing.
. tests/real/lib.sh

for c in sniproxy curl python3; do
  command -v $c >/dev/null 2>&1 || [ -x /usr/sbin/$c ] ||
    skip "$c is not installed (scripts/install-deps.sh)"
done
PATH=$PATH:/usr/sbin

backend=
bg=
spid=
# Whatever happens, no sniproxy or backend is left behind (and timeout
# passes its signal to its process group, sniproxy and its binder
# process included).
trap '[ -z "$spid" ] || kill -KILL $spid 2>/dev/null
      [ -z "$bg" ] || { kill -TERM $bg 2>/dev/null; wait $bg; }
      [ -z "$backend" ] || { kill -TERM $backend; wait $backend; } 2>/dev/null
      rm -rf "$tmp"' EXIT

backend_start

dir=$tmp/sniproxy
mkdir "$dir" || fail "cannot create $dir"
# configure: sniproxy's configuration, for $port: an HTTP listener whose
# table sends backend.test to the backend. sniproxy runs as root when
# the test does, and as the test's user otherwise.
configure() {
  cat >"$dir/sniproxy.conf" <<EOF
user $(id -un)
pidfile $dir/sniproxy.pid
error_log {
    filename $dir/error.log
    priority debug
}
resolver {
    nameserver 127.0.0.1
    mode ipv4_only
}
listener 127.0.0.1:$port {
    protocol http
    table hosts
    access_log {
        filename $dir/access.log
    }
}
table hosts {
    backend\\.test 127.0.0.1:$bport
}
EOF
}

# start MODE [FLAGS...]: runs sniproxy in the foreground, in the
# background, alone (MODE alone) or under asyncleak with FLAGS (MODE
# asyncleak, its JSON report in $tmp/report.json), and waits until it
# listens; sets $bg (timeout's pid), $port and $spid (sniproxy's pid). A
# port taken before sniproxy binds it is tried again with another.
start() {
  mode=$1
  shift
  for _ in 1 2 3; do
    port=$(free_port) || fail "no free port"
    configure
    rm -f "$tmp/report.json" "$dir/error.log"
    if [ "$mode" = asyncleak ]; then
      timeout -k 3 30 "$ASYNCLEAK" --json="$tmp/report.json" "$@" \
        sniproxy -f -c "$dir/sniproxy.conf" \
        >"$tmp/out" 2>"$tmp/err" </dev/null &
    else
      timeout -k 3 30 $plain sniproxy -f -c "$dir/sniproxy.conf" \
        >"$tmp/out" 2>"$tmp/err" </dev/null &
    fi
    bg=$!
    i=0
    while :; do
      spid=$(children $bg)
      [ "$mode" = alone ] || [ -z "$spid" ] || spid=$(children "$spid")
      [ -n "$spid" ] && listening "$port" "$spid" && return 0
      kill -0 $bg 2>/dev/null || break
      i=$((i + 1))
      [ $i -le 100 ] || fail "sniproxy did not listen within 10 s: \
$(cat "$tmp/err" "$dir/error.log")"
      sleep 0.1
    done
    spid=
    wait $bg
    status=$?
    bg=
    grep -q "Address already in use" "$dir/error.log" ||
      fail "sniproxy ended at start, status $status: \
$(cat "$tmp/err" "$dir/error.log")"
  done
  fail "no port free after 3 attempts: $(cat "$dir/error.log")"
}

# serve: sniproxy passes a request for backend.test to the backend, and
# answers one for a host it does not know with 503, as alone.
serve() {
  got=$(timeout -k 2 10 $plain curl -s -m 5 -H 'Host: backend.test' \
    "http://127.0.0.1:$port/") || fail "curl failed: $got"
  [ "$got" = hello-backend ] || fail "the backend's page came back as: $got"
  got=$(timeout -k 2 10 $plain curl -s -m 5 -o /dev/null -w '%{http_code}' \
    -H 'Host: unknown.test' "http://127.0.0.1:$port/")
  [ "$got" = 503 ] || fail "an unknown host got HTTP '$got', not 503"
}

# stop: SIGTERM to sniproxy, as its manual and its unit say; waits for it
# (timeout bounds it) and sets $status and $pid.
stop() {
  kill -TERM "$spid" || fail "no sniproxy $spid to stop"
  status=0
  wait $bg || status=$?
  bg=
  case $status in
    124 | 137) fail "sniproxy did not end on SIGTERM within 30 s: \
$(cat "$tmp/err" "$dir/error.log")" ;;
  esac
  kill -0 "$spid" 2>/dev/null && fail "sniproxy $spid still runs"
  pid=$spid
  spid=
}

# a) Alone, it serves and exits 0 on SIGTERM.
start alone
serve
stop
[ "$status" -eq 0 ] || fail "alone, sniproxy exited $status on SIGTERM: \
$(cat "$tmp/err" "$dir/error.log")"

# b) Under asyncleak it does the same. Asked with asyncleak ps while it
# serves (docs/live.md), sniproxy's main thread waits in the default loop,
# kept running by sniproxy's own watchers, the four signals' and the
# listener's and resolver's ev_io, and none of libev's (its SIGCHLD
# watcher, its signal pipe's ev_io).
start asyncleak
serve
if libev_runtime; then
  timeout -k 2 30 "$ASYNCLEAK" ps "$spid" >"$tmp/ps.txt" 2>"$tmp/ps.err" ||
    fail "asyncleak ps failed: $(cat "$tmp/ps.err")"
  grep -q "^  thread $spid (main) runs it: waiting for events" "$tmp/ps.txt" ||
    fail "sniproxy's thread not waiting: $(cat "$tmp/ps.txt")"
  expect_line "$tmp/ps.txt" "  keeping it running: 6 handles"
  [ "$(grep -c '^    1 ev_signal (started), made at:$' "$tmp/ps.txt")" -eq 4 ] ||
    fail "not sniproxy's four ev_signal: $(cat "$tmp/ps.txt")"
  [ "$(grep -c '^    1 ev_io (started), made at:$' "$tmp/ps.txt")" -eq 2 ] ||
    fail "not sniproxy's two ev_io: $(cat "$tmp/ps.txt")"
  [ "$(grep -c '^    [0-9]' "$tmp/ps.txt")" -eq 6 ] ||
    fail "more than sniproxy's watchers: $(cat "$tmp/ps.txt")"
fi
serve
stop
for bad in SIGSEGV "killed by signal" "cannot find" "left no report"; do
  expect_no "$tmp/err" "$bad"
done
if ! libev_runtime; then
  # Without libev, asyncleak sees no loop: the status is the program's.
  expect_status 0
  grep -q "no supported event loop library .* was used by 'sniproxy'" \
    "$tmp/err" || fail "not the run of an unwatched sniproxy: \
$(cat "$tmp/err")"
  skip "runtime without libev support: what asyncleak reports of \
sniproxy is not checked"
fi

# The verdict: four groups of one ev_signal each, not one group of four:
# main starts the four watchers with four calls (at four return
# addresses), so they have four creation sites. A watcher still started at
# exit on a loop never destroyed is of type "ev_signal", state "started"
# (not "unreferenced": sniproxy calls no ev_unref). libev's own watchers
# are in no group: report.py fails on a group it is not told of, and
# SIGCHLD's watcher would make a fifth ev_signal. The default loop, never
# destroyed, counts as one loop not closed, and fails nothing by itself.
expect_status 23
expect status=23 exit=0 handles_open=4 handles_closing=0 \
  requests_pending=0 handles_forced=0 requests_cancelled=0 \
  open:ev_signal=4 loops=1 loops_unclosed=1
[ "$(sed -n 2p "$tmp/err")" = \
  "==$pid==ERROR: asyncleak: 4 handles left open at exit" ] ||
  fail "not the report expected: $(cat "$tmp/err")"
count 4 '^1 handle of type ev_signal, created at:$'
count 4 "^  0x[0-9a-f]+ on loop 1, thread $pid \\(main\\), started\$"
expect_no "$tmp/err" "unreferenced"
expect_no "$tmp/err" "type ev_io"
count 1 '^SUMMARY: asyncleak: 4 handles left open \(4 ev_signal\) from 4 creation sites; 1 of 1 loop not closed$'
count 1 "^  loop 1 \\(libev 0x[0-9a-f]+, default loop\\) created in .* by thread $pid \\(main\\): never closed\$"
[ "$(tail -n 1 "$tmp/err")" = \
  "asyncleak: 4 handle(s) left open in 1 process(es)" ] ||
  fail "asyncleak's last line: $(tail -n 1 "$tmp/err")"

# c) The control: a rule for ev_signal watchers made in sniproxy hides
# all four, and the run passes; the same rule for another type hides
# nothing. (The kind "ev_signal" is the type's name: see SUPPRESSIONS in
# asyncleak(1).) The binder process sniproxy forks at start reports
# nothing of its own (it makes no watcher) and no loop, so the totals are
# the main process's.
echo 'ev_signal:^sniproxy$' >"$tmp/signals.supp"
start asyncleak --suppressions="$tmp/signals.supp"
serve
stop
expect_status 0
expect status=0 exit=0 handles_open=0 requests_pending=0
expect_no "$tmp/err" "ERROR: asyncleak"
grep -qE '^asyncleak: no leaks reported: 1 loop\(s\), [0-9]+ handle\(s\) created; 1 loop\(s\) never closed; 4 suppressed$' \
  "$tmp/err" || fail "not the last line expected: $(cat "$tmp/err")"
echo 'ev_io:^sniproxy$' >"$tmp/other.supp"
start asyncleak --suppressions="$tmp/other.supp"
serve
stop
expect_status 23
expect status=23 exit=0 handles_open=4 open:ev_signal=4

# d) The debug checks (docs/debug-checks.md) change nothing in what
# sniproxy serves or in what is reported of it, and find nothing. While
# the slow-callback check is on, each of sniproxy's watchers has
# asyncleak's stand-in in its callback field from its start on (libev
# calls w->cb), which calls sniproxy's own: the proxying and the 503 go
# through it. sniproxy runs its one loop on its one thread (the wrong-
# thread check), libev has no close (nothing for the use-after-close
# check), and its callbacks answer at once.
start asyncleak --debug-checks
serve
serve
stop
expect_status 23
expect status=23 exit=0 handles_open=4 handles_closing=0 \
  requests_pending=0 open:ev_signal=4 loops=1 loops_unclosed=1 findings=0
for bad in SIGSEGV "killed by signal" "cannot find" "left no report" \
  finding; do
  expect_no "$tmp/err" "$bad"
done
count 4 '^1 handle of type ev_signal, created at:$'
count 4 "^  0x[0-9a-f]+ on loop 1, thread $pid \\(main\\), started\$"
count 1 '^SUMMARY: asyncleak: 4 handles left open \(4 ev_signal\) from 4 creation sites; 1 of 1 loop not closed$'
[ "$(tail -n 1 "$tmp/err")" = \
  "asyncleak: 4 handle(s) left open in 1 process(es)" ] ||
  fail "asyncleak's last line: $(tail -n 1 "$tmp/err")"
exit 0
