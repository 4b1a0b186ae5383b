# shadowsocks-libev's ss-server and ss-local, which run on libev 4
# (Debian's libev.so.4), each under asyncleak: a request goes from curl
# through ss-local and ss-server to a backend, all on 127.0.0.1, then
# SIGTERM stops both. Each handles SIGTERM with an ev_signal watcher whose
# callback stops its signal watchers and breaks the loop; main then stops
# the listener's, the resolver's and the connections' watchers, logs
# "closed gracefully" and returns. All that is still started at exit is
# libev's own (the default loop's SIGCHLD watcher and its signal pipe),
# which asyncleak must not report: this is the clean program among the
# real libev ones, and any report of it is a false one.
. tests/real/lib.sh

for c in ss-server ss-local curl python3; do
  command -v $c >/dev/null 2>&1 ||
    skip "$c is not installed (scripts/install-deps.sh)"
done

backend=
sbg=
lbg=
spid=
lpid=
# Whatever happens, no ss-server, ss-local or backend is left behind (and
# timeout passes its signal to its process group, the program included).
trap '[ -z "$spid" ] || kill -KILL $spid 2>/dev/null
      [ -z "$lpid" ] || kill -KILL $lpid 2>/dev/null
      [ -z "$sbg" ] || { kill -TERM $sbg 2>/dev/null; wait $sbg; }
      [ -z "$lbg" ] || { kill -TERM $lbg 2>/dev/null; wait $lbg; }
      [ -z "$backend" ] || { kill -TERM $backend; wait $backend; } 2>/dev/null
      rm -rf "$tmp"' EXIT

backend_start

# spawn NAME MODE COMMAND...: runs COMMAND in the background, alone (MODE
# alone) or under asyncleak (MODE asyncleak, with its JSON report in
# $tmp/NAME.json), output in $tmp/NAME.out and $tmp/NAME.err, bounded by
# timeout(1); sets $spawned (timeout's pid).
spawn() {
  name=$1
  mode=$2
  shift 2
  rm -f "$tmp/$name.json"
  if [ "$mode" = asyncleak ]; then
    set -- "$ASYNCLEAK" --json="$tmp/$name.json" "$@"
  else
    set -- $plain "$@"
  fi
  timeout -k 3 30 "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" </dev/null &
  spawned=$!
}

# ready NAME FILE PID MODE PORT: waits until the program NAME, run by
# timeout PID as spawn MODE says, with output in $tmp/FILE.out and
# $tmp/FILE.err, listens on PORT; sets $found to its pid. Returns 2, with
# PID waited for, when it ended because PORT was taken; fails otherwise.
ready() {
  i=0
  while :; do
    found=$(children "$3")
    [ "$4" != asyncleak ] || [ -z "$found" ] || found=$(children "$found")
    [ -n "$found" ] && listening "$5" "$found" && return 0
    if ! kill -0 "$3" 2>/dev/null; then
      wait "$3"
      grep -q "Address already in use" "$tmp/$2.err" && return 2
      fail "$1 ended at start: $(cat "$tmp/$2.out" "$tmp/$2.err")"
    fi
    i=$((i + 1))
    [ $i -le 100 ] || fail "$1 did not listen within 10 s: \
$(cat "$tmp/$2.out" "$tmp/$2.err")"
    sleep 0.1
  done
}

# start MODE: ss-server, then ss-local in front of it, each alone or under
# asyncleak; sets $sbg and $lbg (timeout's pids), $spid and $lpid (the
# programs'), and $lport, ss-local's SOCKS port. A port taken before the
# program binds it is tried again with another.
start() {
  spid=
  for _ in 1 2 3; do
    sport=$(free_port) || fail "no free port"
    spawn server "$1" ss-server -s 127.0.0.1 -p "$sport" -k asyncleak \
      -m chacha20-ietf-poly1305 -v
    sbg=$spawned
    if ready ss-server server $sbg "$1" "$sport"; then
      spid=$found
      break
    fi
    sbg=
  done
  [ -n "$spid" ] || fail "no port free for ss-server after 3 attempts"
  lpid=
  for _ in 1 2 3; do
    lport=$(free_port) || fail "no free port"
    spawn local "$1" ss-local -s 127.0.0.1 -p "$sport" -b 127.0.0.1 \
      -l "$lport" -k asyncleak -m chacha20-ietf-poly1305 -v
    lbg=$spawned
    if ready ss-local local $lbg "$1" "$lport"; then
      lpid=$found
      break
    fi
    lbg=
  done
  [ -n "$lpid" ] || fail "no port free for ss-local after 3 attempts"
}

# serve: one request through ss-local and ss-server is answered as
# without them; then ss-server has seen both its connections closed
# (it logs each close), so that none is open when it stops.
serve() {
  got=$(timeout -k 2 10 $plain curl -s -m 5 --socks5-hostname "127.0.0.1:$lport" \
    "http://127.0.0.1:$bport/") || fail "curl failed: $got"
  [ "$got" = hello-backend ] || fail "the backend's page came back as: $got"
  i=0
  until grep -q "close a connection from client, 0 opened" "$tmp/server.out"; do
    i=$((i + 1))
    [ $i -le 100 ] || fail "ss-server did not close the connection \
within 10 s: $(cat "$tmp/server.out")"
    sleep 0.1
  done
}

# stop: SIGTERM to ss-local, then to ss-server, as a supervisor stops
# them; waits for each (timeout bounds it) and sets $sstatus and $lstatus.
stop() {
  kill -TERM "$lpid" || fail "no ss-local $lpid to stop"
  lstatus=0
  wait $lbg || lstatus=$?
  lbg=
  kill -TERM "$spid" || fail "no ss-server $spid to stop"
  sstatus=0
  wait $sbg || sstatus=$?
  sbg=
  for s in $lstatus $sstatus; do
    case $s in
      124 | 137) fail "ss-local or ss-server did not end on SIGTERM \
within 30 s: $(cat "$tmp/local.err" "$tmp/server.err")" ;;
    esac
  done
  for p in $lpid $spid; do
    kill -0 "$p" 2>/dev/null && fail "$p still runs"
  done
  lpid=
  spid=
}

# graceful: each logged its own clean stop, as alone.
graceful() {
  for n in server local; do
    grep -q "INFO: closed gracefully" "$tmp/$n.out" ||
      fail "ss-$n did not stop gracefully: $(cat "$tmp/$n.out" "$tmp/$n.err")"
  done
}

# a) Alone, both answer, stop gracefully and exit 0 on SIGTERM.
start alone
serve
stop
graceful
[ "$sstatus" -eq 0 ] && [ "$lstatus" -eq 0 ] ||
  fail "alone, ss-server exited $sstatus and ss-local $lstatus on SIGTERM"

# b) Under asyncleak, the same, and asyncleak exits 0 for both.
start asyncleak
serve
stop
graceful
for n in server local; do
  for bad in SIGSEGV "killed by signal" "ERROR: asyncleak" "cannot find" \
    "left no report"; do
    expect_no "$tmp/$n.err" "$bad"
  done
done
[ "$sstatus" -eq 0 ] && [ "$lstatus" -eq 0 ] || fail "under asyncleak, \
ss-server's run ended $sstatus and ss-local's $lstatus: \
$(cat "$tmp/server.err" "$tmp/local.err")"

libev_runtime ||
  skip "runtime without libev support: what asyncleak reports of ss-server \
and ss-local is not checked"

# c) The verdict: nothing of the program's is left started, and libev's
# own watchers are not reported. Each process reports no leak, and no
# group at all (report.py fails on a group it is not told of). The
# default loop is never destroyed: it is counted as a loop never closed,
# which fails nothing.
for n in server local; do
  cp "$tmp/$n.json" "$tmp/report.json"
  cp "$tmp/$n.err" "$tmp/err"
  expect status=0 exit=0 handles_open=0 handles_closing=0 \
    requests_pending=0 handles_forced=0 requests_cancelled=0 loops=1 \
    loops_unclosed=1
  grep -qE '^asyncleak: no leaks: 1 loop\(s\), [0-9]+ handle\(s\) created, all closed; 1 loop\(s\) never closed$' \
    "$tmp/err" || fail "not the report of a clean ss-$n: $(cat "$tmp/err")"
done
exit 0
