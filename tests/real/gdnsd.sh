# gdnsd 3.8, an authoritative DNS server on libev 4 (Debian's
# libev.so.4), under asyncleak: with a private configuration it serves
# one zone on 127.0.0.1, answers a query, and stops in its two documented
# ways, as it does alone. It makes no default loop: its main thread and
# its TCP thread each run a loop of ev_loop_new, and both are destroyed
# with watchers of the program still started on them, which libev drops
# without a word:
# - on the TCP thread's loop, the ev_prepare it started (then unreferenced
#   with ev_unref) in dnsio_tcp.c;
# - on the main loop, the hourly ev_periodic of cookie.c, the SIGUSR1
#   ev_signal on main's stack (main stops those of SIGTERM and SIGINT
#   only) and the zone reload ev_async of main.c.
# a) `gdnsdctl stop`: gdnsd destroys both loops and calls exit(0); the
#    report is written at exit, and asyncleak exits 23.
# b) SIGTERM: the same teardown, then gdnsd raises SIGTERM again with its
#    default action, so that its status says how it ended; the report is
#    written by a copy, and asyncleak keeps the status, 143.
. tests/real/lib.sh

for c in gdnsd gdnsdctl kdig python3; do
  command -v $c >/dev/null 2>&1 || [ -x /usr/sbin/$c ] ||
    skip "$c is not installed (scripts/install-deps.sh)"
done
PATH=$PATH:/usr/sbin

bg=
gpid=
# Whatever happens, no gdnsd is left behind (and timeout passes its
# signal to its process group, gdnsd included).
trap '[ -z "$gpid" ] || kill -KILL $gpid 2>/dev/null
      [ -z "$bg" ] || { kill -TERM $bg 2>/dev/null; wait $bg; }
      rm -rf "$tmp"' EXIT

dir=$tmp/gdnsd
mkdir -p "$dir/etc/zones" "$dir/run" "$dir/state" ||
  fail "cannot create $dir"
cat >"$dir/etc/zones/example.test" <<'EOF'
$TTL 86400
@ SOA ns1 hostmaster 1 7200 1800 259200 900
@ NS ns1
ns1 A 127.0.0.1
www A 192.0.2.7
EOF
# configure: gdnsd's configuration, for $port; one UDP and one TCP thread.
configure() {
  cat >"$dir/etc/config" <<EOF
options => {
  listen => [ 127.0.0.1 ]
  dns_port => $port
  run_dir => $dir/run
  state_dir => $dir/state
  udp_threads => 1
  tcp_threads => 1
}
EOF
}

# start MODE: runs gdnsd in the foreground, alone (MODE alone) or under
# asyncleak (MODE asyncleak, its JSON report in $tmp/report.json), in the
# background, and waits until it says its listeners are started; sets $bg
# (timeout's pid), $port and $gpid (gdnsd's pid). A port taken before
# gdnsd binds it is tried again with another.
start() {
  mode=$1
  for _ in 1 2 3; do
    port=$(free_port) || fail "no free port"
    configure
    # The last run's output goes first: its "listeners started" must not
    # be read as this run's.
    rm -f "$tmp/report.json" "$tmp/out" "$tmp/err"
    if [ "$mode" = asyncleak ]; then
      timeout -k 3 30 "$ASYNCLEAK" --json="$tmp/report.json" \
        gdnsd -c "$dir/etc" start >"$tmp/out" 2>"$tmp/err" </dev/null &
    else
      timeout -k 3 30 $plain gdnsd -c "$dir/etc" start \
        >"$tmp/out" 2>"$tmp/err" </dev/null &
    fi
    bg=$!
    i=0
    gpid=
    while :; do
      if [ -z "$gpid" ]; then
        gpid=$(children $bg)
        [ "$mode" = alone ] || [ -z "$gpid" ] || gpid=$(children "$gpid")
      fi
      [ -n "$gpid" ] &&
        grep -qs "^info: DNS listeners started$" "$tmp/err" && break
      kill -0 $bg 2>/dev/null || break
      i=$((i + 1))
      [ $i -le 100 ] || fail "gdnsd did not start within 10 s: \
$(cat "$tmp/err")"
      sleep 0.1
    done
    if kill -0 $bg 2>/dev/null; then
      # gdnsd says its own pid, which must be the one found.
      grep -q "^info: gdnsd version .* @ pid $gpid\$" "$tmp/err" ||
        fail "gdnsd is not pid '$gpid': $(cat "$tmp/err")"
      return 0
    fi
    gpid=
    wait $bg
    status=$?
    bg=
    grep -q "Address already in use" "$tmp/err" ||
      fail "gdnsd ended at start, status $status: $(cat "$tmp/err")"
  done
  fail "no port free after 3 attempts: $(cat "$tmp/err")"
}

# serve: gdnsd answers a query for its zone as it does alone.
serve() {
  got=$(timeout -k 2 10 $plain kdig @127.0.0.1 -p "$port" +short +timeout=2 \
    +retry=1 www.example.test A 2>&1) || fail "kdig failed: $got"
  [ "$got" = 192.0.2.7 ] || fail "gdnsd answered '$got'"
}

# finish: waits for gdnsd (timeout bounds it) and sets $status.
finish() {
  status=0
  # (dash would say "Terminated" of a death by SIGTERM, which is expected.)
  { wait $bg || status=$?; } 2>/dev/null
  bg=
  case $status in
    124 | 137) fail "gdnsd did not end within 30 s: $(cat "$tmp/err")" ;;
  esac
  kill -0 "$gpid" 2>/dev/null && fail "gdnsd $gpid still runs"
  pid=$gpid
  gpid=
}

# stop_ctl: stops gdnsd with its control program, which waits until it
# has exited.
stop_ctl() {
  out=$(timeout -k 2 20 $plain gdnsdctl -c "$dir/etc" stop 2>&1) ||
    fail "gdnsdctl stop failed: $out; gdnsd said: $(cat "$tmp/err")"
  finish
  expect_line "$tmp/err" \
    "info: Exiting cleanly due to control socket client request"
}

# stop_term: stops gdnsd with SIGTERM, as its unit and its manual say.
stop_term() {
  kill -TERM "$gpid" || fail "no gdnsd $gpid to stop"
  finish
  expect_line "$tmp/err" \
    "info: Exiting cleanly on receipt of terminating signal 15"
}

# a) and b) alone: exit 0 on `gdnsdctl stop`, death by SIGTERM on SIGTERM.
start alone
serve
stop_ctl
[ "$status" -eq 0 ] || fail "alone, gdnsd exited $status on gdnsdctl stop"
start alone
serve
stop_term
[ "$status" -eq 143 ] || fail "alone, gdnsd ended $status on SIGTERM"

# Under asyncleak, the same: it answers and ends as alone. What asyncleak
# then says is checked once its runtime follows libev.
start asyncleak
serve
stop_ctl
status_ctl=$status
cp "$tmp/err" "$tmp/err.ctl"
cp "$tmp/report.json" "$tmp/report.ctl.json"
pid_ctl=$pid
start asyncleak
serve
stop_term
expect_status 143
expect_line "$tmp/err" \
  "asyncleak: 'gdnsd' (pid $pid) was killed by signal 15 (SIGTERM: Terminated)"
mv "$tmp/err" "$tmp/err.term"
mv "$tmp/report.json" "$tmp/report.term.json"
for f in ctl term; do
  for bad in SIGSEGV "cannot find" "left no report"; do
    expect_no "$tmp/err.$f" "$bad"
  done
done

if ! libev_runtime; then
  # Without libev, asyncleak sees no loop: the status is the program's.
  [ "$status_ctl" -eq 0 ] || fail "gdnsd exited $status_ctl on gdnsdctl \
stop under asyncleak: $(cat "$tmp/err.ctl")"
  grep -q "no supported event loop library .* was used by 'gdnsd'" \
    "$tmp/err.ctl" || fail "not the run of an unwatched gdnsd: \
$(cat "$tmp/err.ctl")"
  skip "runtime without libev support: what asyncleak reports of gdnsd \
is not checked"
fi

# verdict PID EXPECTATION...: the report of gdnsd PID, as both stops
# leave it, and the JSON EXPECTATIONs of the stop. A watcher still started
# when its loop was destroyed is of type "<type> (started when its loop
# was destroyed)", a JSON group of state "open".
verdict() {
  # One group per watcher, each from its own creation site; libev's own
  # watchers of these loops (the signal and async pipe, the periodic's
  # timerfd, both ev_io) are in none: report.py fails on a group it is
  # not told of. Two loops, both destroyed, so none is left unclosed.
  pid_of_run=$1
  shift
  expect "$@" handles_open=4 handles_closing=0 requests_pending=0 \
    handles_forced=0 requests_cancelled=0 \
    "open:ev_prepare (started when its loop was destroyed)=1" \
    "open:ev_periodic (started when its loop was destroyed)=1" \
    "open:ev_signal (started when its loop was destroyed)=1" \
    "open:ev_async (started when its loop was destroyed)=1" \
    loops=2 loops_unclosed=0
  for t in ev_prepare ev_periodic ev_signal ev_async; do
    count 1 "^1 handle of type $t \(started when its loop was destroyed\), created at:\$"
  done
  # Main's three on loop 1; the TCP thread's prepare on loop 2, made
  # unreferenced by gdnsd's ev_unref after its start.
  count 3 "^  0x[0-9a-f]+ on loop 1, thread $pid_of_run \(main\), started when its loop was destroyed\$"
  count 1 "^  0x[0-9a-f]+ on loop 2, thread [0-9]+, started when its loop was destroyed, unreferenced\$"
  expect_line "$tmp/err" \
    "Loops (libev): 2 seen, 2 closed, 2 freed with what was on them:"
  count 2 "^  loop [12] \(libev 0x[0-9a-f]+\) created in .*: freed with what is listed above still on it\$"
  # The program's own stops are not reported: the control socket's and
  # the accept socket's ev_io, main's SIGTERM and SIGINT watchers.
  count 0 "^[0-9]+ handles? of type ev_io"
  count 1 "^SUMMARY: asyncleak: 4 handles left open \(.*\) from 4 creation sites\$"
  expect_line "$tmp/err" "asyncleak: 4 handle(s) left open in 1 process(es)"
}

# a) gdnsdctl stop: exit(0) after both loops were destroyed. The report's
# first line is as for libuv's and libevent's handles (not a prediction
# about libev: the core writes it).
cp "$tmp/err.ctl" "$tmp/err"
cp "$tmp/report.ctl.json" "$tmp/report.json"
[ "$status_ctl" -eq 23 ] || fail "asyncleak exited $status_ctl, not 23"
verdict "$pid_ctl" status=23 exit=0
count 1 "^==$pid_ctl==ERROR: asyncleak: 4 handles left open at exit\$"
expect_no "$tmp/err" "killed by signal"

# b) SIGTERM: gdnsd destroys both loops and raises SIGTERM; the report,
# written as SIGTERM ends it, lists the same, and asyncleak keeps the
# status of death by SIGTERM.
cp "$tmp/err.term" "$tmp/err"
cp "$tmp/report.term.json" "$tmp/report.json"
verdict "$pid" status=143
count 1 "^==$pid==ERROR: asyncleak: 4 handles left open when SIGTERM ended the program\$"
exit 0
