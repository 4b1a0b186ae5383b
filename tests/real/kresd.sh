# kresd (Knot Resolver 5.6), which runs on libuv, under asyncleak
# (docs/real-programs-libuv.md): with a private configuration it listens
# on 127.0.0.1 only, answers a name from its hints without the network,
# and ends on SIGTERM as it does alone. Its SIGTERM handler stops the
# loop; main then tears down without running the loop again: it calls
# uv_close on four handles (closing: listed apart, they do not fail the
# run), frees four others without uv_close, and leaves four open. Under
# --force-close it must end the same way, and not crash.
. tests/real/lib.sh

command -v kresd >/dev/null 2>&1 ||
  fail "kresd is not installed (scripts/install-deps.sh)"
command -v kdig >/dev/null 2>&1 ||
  fail "kdig is not installed (scripts/install-deps.sh)"
command -v python3 >/dev/null 2>&1 || fail "python3 is not installed"

bg=
kpid=
# Whatever happens, no kresd is left behind (and timeout passes its
# signal to its process group, kresd included).
trap '[ -z "$kpid" ] || kill -KILL $kpid 2>/dev/null
      [ -z "$bg" ] || { kill -TERM $bg 2>/dev/null; wait $bg; }
      rm -rf "$tmp"' EXIT

# The configuration: the default modules of Debian's kresd.conf, no
# trust anchor and none of the modules that query the root servers at
# start, the cache in the run directory, and one name in the hints. It
# writes kresd's pid once it listens.
rundir=$tmp/kresd
mkdir "$rundir" || fail "cannot create $rundir"
configure() {
  cat >"$rundir/config" <<EOF
net.listen('127.0.0.1', $port, { kind = 'dns' })
cache.open(10 * MB, 'lmdb://./cache')
modules.unload('ta_update')
modules.unload('detect_time_skew')
modules.unload('detect_time_jump')
modules.unload('priming')
trust_anchors.remove('.')
modules = { 'hints > iterate', 'stats', 'predict' }
hints.set('kres.asyncleak 127.0.0.9')
local f = io.open('pid', 'w')
f:write(worker.pid)
f:close()
EOF
}

# start COMMAND...: runs COMMAND kresd in the background and waits until
# it listens; sets $bg (timeout's pid), $port and $kpid (kresd's pid, as
# kresd writes it). A port taken before kresd binds it is tried again.
start() {
  for _ in 1 2 3; do
    port=$(free_port) || fail "no free port"
    configure
    rm -f "$rundir/pid"
    timeout -k 3 20 "$@" kresd -n -c config "$rundir" \
      >"$tmp/out" 2>"$tmp/err" </dev/null &
    bg=$!
    i=0
    while :; do
      kpid=$(cat "$rundir/pid" 2>/dev/null)
      [ -z "$kpid" ] || return 0
      kill -0 $bg 2>/dev/null || break
      i=$((i + 1))
      [ $i -le 100 ] || fail "kresd did not start within 10 s: \
$(cat "$tmp/err")"
      sleep 0.1
    done
    wait $bg
    status=$?
    bg=
    grep -q "Address already in use" "$tmp/err" ||
      fail "kresd ended at start, status $status: $(cat "$tmp/err")"
  done
  fail "no port free after 3 attempts: $(cat "$tmp/err")"
}

# serve: kresd answers the name of its hints, twice. kdig hangs with a
# sanitizer's runtime preloaded (a sanitizer build's tests run so): it is
# a client here, run without it.
serve() {
  for _ in 1 2; do
    got=$(timeout -k 2 10 env -u LD_PRELOAD kdig +time=2 +retry=0 \
      @127.0.0.1 -p "$port" kres.asyncleak A +short 2>&1)
    [ "$got" = 127.0.0.9 ] || fail "kresd answered: $got; stderr: \
$(cat "$tmp/err")"
  done
}

# stop: SIGTERM to kresd; waits for it (timeout bounds it) and sets
# $status.
stop() {
  kill -TERM "$kpid" || fail "no kresd $kpid to stop"
  status=0
  wait $bg || status=$?
  bg=
  case $status in
    124 | 137) fail "kresd did not end on SIGTERM within 20 s: \
$(cat "$tmp/err")" ;;
  esac
  kill -0 "$kpid" 2>/dev/null && fail "kresd $kpid still runs"
  kpid=
}

# a) Alone, kresd answers and exits 0 on SIGTERM.
start
serve
stop
[ "$status" -eq 0 ] || fail "kresd alone exited $status on SIGTERM: \
$(cat "$tmp/err")"

# b) Under asyncleak it does the same. Failing: the four handles it frees
# without uv_close (the UDP and TCP listeners, the UDP socket's session
# timer and the control socket, whose state asyncleak cannot know any
# more), and four it never closes (main's three uv_signal_t, on its
# stack, and the UDP queue's uv_check_t). Apart, the four it closes
# without running the loop again: its pipe, the cache's health timer, a
# module's Lua event timer and a timer main makes at start.
start "$ASYNCLEAK" --json="$tmp/report.json"
serve
stop
expect status=23 exit=0 handles_open=8 handles_closing=4 \
  requests_pending=0 handles_forced=0 \
  open:uv_signal_t=3 open:uv_check_t=1 open:uv_udp_t=1 open:uv_tcp_t=1 \
  open:uv_pipe_t=1 open:uv_timer_t=1 closing:uv_timer_t=3 closing:uv_pipe_t=1
# The four it freed read as unknown; main's signal handles may too, once
# exit handlers have reused the stack they were on.
unknown=$(grep -cE '^  0x[0-9a-f]+ on loop 1, thread [0-9]+ \(main\), state unknown \(its memory was freed or reused\)$' "$tmp/err")
[ "$unknown" -ge 4 ] && [ "$unknown" -le 7 ] ||
  fail "$unknown handles of unknown state, expected 4 to 7: $(cat "$tmp/err")"
count 4 '^  0x[0-9a-f]+ on loop 1, thread [0-9]+ \(main\), closing'
count 3 '^1 handle of type uv_signal_t, created at:$'
count 1 '^1 handle of type uv_check_t, created at:$'
for bad in SIGSEGV SIGTERM "killed by signal" "no supported event loop" \
  "cannot find"; do
  expect_no "$tmp/err" "$bad"
done
expect_line "$tmp/err" "asyncleak: 8 handle(s) left open in 1 process(es)"

# c) --force-close: kresd ends as it does without it. Running the loop
# after its teardown would call freed handles' callbacks (SIGSEGV): at
# exit force leaves everything to the program, reports the same verdict,
# and says so.
start "$ASYNCLEAK" --force-close --json="$tmp/report.json"
serve
stop
expect status=23 exit=0 handles_open=8 handles_forced=0 handles_closing=4 \
  requests_pending=0 requests_cancelled=0 \
  open:uv_signal_t=3 open:uv_check_t=1 open:uv_udp_t=1 open:uv_tcp_t=1 \
  open:uv_pipe_t=1 open:uv_timer_t=1 closing:uv_timer_t=3 closing:uv_pipe_t=1
expect_line "$tmp/err" "Force mode left these to the program: it acts on a \
graceful signal and in asyncleak_loop_close, never in the program's own \
close of a loop or at exit, where the program may still close them, or has \
torn down what their callbacks use."
expect_no "$tmp/err" SIGSEGV
expect_no "$tmp/err" "killed by signal"

# d) The debug checks (docs/debug-checks.md) change nothing in what kresd
# answers, in how it ends or in what is reported of it, and find nothing.
# kresd runs its loop on its one thread; at its teardown it closes each
# handle it closes once, and starts none after; its callbacks answer at
# once. (While the slow-callback check is on, the callbacks of the
# handles it starts, its UDP socket's receive included, are the runtime's
# stand-ins, which call kresd's: the answer comes through them.)
start "$ASYNCLEAK" --debug-checks --json="$tmp/report.json"
serve
serve
stop
expect status=23 exit=0 handles_open=8 handles_closing=4 \
  requests_pending=0 handles_forced=0 findings=0 \
  open:uv_signal_t=3 open:uv_check_t=1 open:uv_udp_t=1 open:uv_tcp_t=1 \
  open:uv_pipe_t=1 open:uv_timer_t=1 closing:uv_timer_t=3 closing:uv_pipe_t=1
count 4 '^  0x[0-9a-f]+ on loop 1, thread [0-9]+ \(main\), closing'
for bad in SIGSEGV SIGTERM "killed by signal" "no supported event loop" \
  "cannot find" finding; do
  expect_no "$tmp/err" "$bad"
done
expect_line "$tmp/err" "asyncleak: 8 handle(s) left open in 1 process(es)"
exit 0
