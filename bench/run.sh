#!/bin/sh
# make bench: each benchmark run bare and under asyncleak, alternately, in
# one invocation; the median of the runs of each, their ratio, and the
# budget it is held to (docs/performance.md).
#
#   bench/run.sh BUILD_DIR
#
# BENCH_RUNS (default 7) sets the runs of each timed benchmark.
set -eu

O=${1:?usage: bench/run.sh BUILD_DIR}
B=$O/bench
AL=$O/bin/asyncleak
RT=$O/lib/libasyncleak.so
RUNS=${BENCH_RUNS:-7}
TMP=$(mktemp -d)
# The tmux server of the real-program rows, once started, is ended too.
TMUX_SOCK=
cleanup() {
  [ -z "$TMUX_SOCK" ] || env -u TMUX tmux -S "$TMUX_SOCK" kill-server \
    2>/dev/null || :
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

CHURN_CYCLES=1000000
ECHO_CONNS=4
ECHO_ROUNDS=25000
ECHO_SIZE=64
LIVE=1000000
MANY_LOOPS=4900
MANY_ROUNDS=200
REQUESTS=100000
ONCES=1000000
READ_FILES=200

# ----------------------------------------------------------------- helpers

# The median of the numbers on stdin, one per line.
median() {
  sort -g | awk '{ v[NR] = $1 }
    END { if (NR == 0) { print "nan"; exit }
          if (NR % 2) print v[(NR + 1) / 2]
          else printf "%.6g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# The value of key=value on stdin.
field() {
  sed -n "s/.*\\<$1=\\([-0-9.]*\\).*/\\1/p" | head -n 1
}

# calc EXPR: awk arithmetic on numbers; a comparison gives 1 or 0.
calc() {
  awk "BEGIN { printf \"%.4g\\n\", ($1) }"
}

# verdict OK: "met" or "MISSED".
verdict() {
  if [ "$1" = 1 ]; then echo met; else echo MISSED; fi
}

row() {
  printf '%-30s %14s %14s %12s %12s  %s\n' "$@"
}

die() {
  echo "bench: $*" >&2
  exit 1
}

# ------------------------------------------------------------------- churn

# churn_once CMD...: ns per create-start-close cycle.
churn_once() {
  out=$("$@" "$B/churn" "$CHURN_CYCLES" 2>"$TMP/churn.err") ||
    die "churn failed: $(cat "$TMP/churn.err")"
  echo "$out" | field ns_per_cycle
}

# ------------------------------------------------------------- many loops

# many_loops_once OUT CMD...: appends to OUT.switch the ns per switch from
# one loop to another and to OUT.remake the ns per loop closed and made
# again.
many_loops_once() {
  out_to=$1
  shift
  out=$("$@" "$B/many-loops" "$MANY_LOOPS" "$MANY_ROUNDS" \
    2>"$TMP/many-loops.err") ||
    die "many-loops failed: $(cat "$TMP/many-loops.err")"
  echo "$out" | field ns_per_switch >>"$out_to.switch"
  echo "$out" | field ns_per_remake >>"$out_to.remake"
}

# --------------------------------------------------------------- requests

# requests_once PROGRAM COUNT CMD...: ns per request of bench/PROGRAM.
requests_once() {
  prog=$1
  count=$2
  shift 2
  out=$("$@" "$B/$prog" "$count" 2>"$TMP/$prog.err") ||
    die "$prog failed: $(cat "$TMP/$prog.err")"
  echo "$out" | field ns_per_request
}

# -------------------------------------------------------------- real runs

# real_once STATUS CMD...: wall milliseconds of one run of CMD (through
# bench/timeit), which must exit with STATUS; its output is dropped.
real_once() {
  want=$1
  shift
  out=$("$B/timeit" 1 "$@" 2>"$TMP/real.err") ||
    die "timeit failed: $(cat "$TMP/real.err")"
  [ "$(echo "$out" | field status)" = "$want" ] ||
    die "$* exited with $(echo "$out" | field status), not $want:
$(tail -n 5 "$TMP/real.err")"
  echo "$out" | field wall_ms
}

# ratio_row NAME BUDGET FILE: the row of the medians of FILE.bare and
# FILE.al, their ratio held to at most BUDGET.
ratio_row() {
  b=$(median <"$3.bare")
  a=$(median <"$3.al")
  r=$(calc "$a / $b")
  row "$1" "$b" "$a" "${r}x" "<= ${2}x" "$(verdict "$(calc "$r <= $2")")"
}

# ------------------------------------------------------------------- echo

# Server and client each on a core of their own, when there are two: the
# runs then vary less.
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  ON_SERVER_CPU="taskset -c 0"
  ON_CLIENT_CPU="taskset -c 1"
else
  ON_SERVER_CPU=
  ON_CLIENT_CPU=
fi

# echo_once OUT CMD...: a client against the server run by CMD (nothing,
# the asyncleak command, valgrind); appends to OUT.rps the requests per
# second and to OUT.cpu the server's CPU microseconds per request.
echo_once() {
  out_to=$1
  shift
  rm -f "$TMP/server.out"
  # shellcheck disable=SC2086
  $ON_SERVER_CPU "$B/timeit" 1 "$@" "$B/echo-server" "$ECHO_CONNS" \
    >"$TMP/server.out" 2>"$TMP/server.err" &
  server=$!
  i=0
  while ! grep -q '^port=' "$TMP/server.out" 2>/dev/null; do
    i=$((i + 1))
    [ $i -lt 300 ] || { kill $server; die "echo-server did not start"; }
    sleep 0.1
  done
  port=$(field port <"$TMP/server.out")
  # shellcheck disable=SC2086
  out=$($ON_CLIENT_CPU "$B/echo-client" "$port" "$ECHO_CONNS" \
    "$ECHO_ROUNDS" "$ECHO_SIZE") ||
    { kill $server 2>/dev/null; die "echo-client failed"; }
  wait $server || die "timeit failed: $(cat "$TMP/server.err")"
  [ "$(field status <"$TMP/server.out")" = 0 ] ||
    die "echo-server failed: $(cat "$TMP/server.out" "$TMP/server.err")"
  echo "$out" | field rps >>"$out_to.rps"
  calc "$(field cpu_ms <"$TMP/server.out") * 1000 / \
    ($ECHO_CONNS * $ECHO_ROUNDS)" >>"$out_to.cpu"
}

# ---------------------------------------------------------------- startup

# startup_once CMD...: wall milliseconds of one run of the startup program.
startup_once() {
  out=$("$B/timeit" 1 "$@" "$B/startup" 2>/dev/null)
  [ "$(echo "$out" | field status)" = 0 ] || die "startup failed: $out"
  echo "$out" | field wall_ms
}

# ---------------------------------------------------------------- header

echo "asyncleak benchmarks: $(nproc) cores, $(sed -n 's/^model name[^:]*: //p' \
  /proc/cpuinfo | head -n 1), libuv $(pkg-config --modversion libuv \
  2>/dev/null || echo '?'), $RUNS runs each, medians"
echo
row benchmark bare asyncleak ratio budget ""
row --------- ---- --------- ----- ------ ""

# ------------------------------------------------------------------ churn
: >"$TMP/churn.bare"
: >"$TMP/churn.al"
: >"$TMP/churn.threads"
: >"$TMP/churn.slow"
: >"$TMP/churn.closes"
: >"$TMP/churn.stacks"
for _ in $(seq "$RUNS"); do
  churn_once >>"$TMP/churn.bare"
  churn_once "$AL" >>"$TMP/churn.al"
  churn_once env ASYNCLEAK_OPTIONS=check_threads=1 "$AL" >>"$TMP/churn.threads"
  churn_once "$AL" --slow-callback=100 >>"$TMP/churn.slow"
  churn_once env ASYNCLEAK_OPTIONS=check_closes=1 "$AL" >>"$TMP/churn.closes"
  churn_once env ASYNCLEAK_OPTIONS=check_stacks=1 "$AL" >>"$TMP/churn.stacks"
done
cb=$(median <"$TMP/churn.bare")
ca=$(median <"$TMP/churn.al")
cr=$(calc "$ca / $cb")
row "churn (ns per cycle)" "$cb" "$ca" "${cr}x" "<= 2.0x" \
  "$(verdict "$(calc "$cr <= 2.0")")"
# The wrong-thread check on: each init, start and close reads the table of
# runs in progress (lib/threads.c). Its columns: off, then on.
ct=$(median <"$TMP/churn.threads")
row "churn, check_threads=1 (ns)" "$ca" "$ct" "$(calc "$ct / $ca")x" "" ""
# The use-after-close check on: each close captures its stack and keeps
# it in the table of closes, each init and start looks the handle up.
cc=$(median <"$TMP/churn.closes")
row "churn, check_closes=1 (ns)" "$ca" "$cc" "$(calc "$cc / $ca")x" "" ""
# The slow-callback check on, against asyncleak with it off: each start
# stands in for its callback, each close forgets it.
cs=$(median <"$TMP/churn.slow")
row "churn, slow_callback_ms=100" "$ca" "$cs" "$(calc "$cs / $ca")x" \
  "vs off" ""
# The stack check on: every stack the cache serves is unwound as well,
# which is what the cache spares (docs/performance.md).
cx=$(median <"$TMP/churn.stacks")
row "churn, check_stacks=1 (ns)" "$ca" "$cx" "$(calc "$cx / $ca")x" \
  "vs off" ""

# ------------------------------------------------------------- many loops
# 4,900 loops run in turn, each uv_run a switch to another loop, which the
# runtime looks up by address; 25 of them closed and made again between
# rounds. (5,000 loops need more than 20,000 descriptors, a common hard
# limit: libuv holds four per loop.)
rm -f "$TMP"/loops.*
for _ in $(seq "$RUNS"); do
  many_loops_once "$TMP/loops.bare"
  many_loops_once "$TMP/loops.al" "$AL"
done
lpb=$(median <"$TMP/loops.bare.switch")
lpa=$(median <"$TMP/loops.al.switch")
lpr=$(calc "$lpa / $lpb")
row "4,900 loops (ns per switch)" "$lpb" "$lpa" "${lpr}x" "<= 1.5x" \
  "$(verdict "$(calc "$lpr <= 1.5")")"
lpb=$(median <"$TMP/loops.bare.remake")
lpa=$(median <"$TMP/loops.al.remake")
row "... loop closed, made (ns)" "$lpb" "$lpa" "$(calc "$lpa / $lpb")x" "" ""

# --------------------------------------------------------------- requests
# A steady stream of requests, 64 in flight, each completion starting the
# next: libuv's uv_fs_stat of one file (bench/requests.c, the thread
# pool's work), and libevent's event_base_once with a timeout of 0
# (bench/event-once.c), the libevent call the runtime follows that needs
# no network.
rm -f "$TMP"/req.* "$TMP"/once.*
for _ in $(seq "$RUNS"); do
  requests_once requests "$REQUESTS" >>"$TMP/req.bare"
  requests_once requests "$REQUESTS" "$AL" >>"$TMP/req.al"
  requests_once event-once "$ONCES" >>"$TMP/once.bare"
  requests_once event-once "$ONCES" "$AL" >>"$TMP/once.al"
done
ratio_row "uv_fs_stat, 64 in flight (ns)" 1.3 "$TMP/req"
ratio_row "event_base_once, 64 (ns)" 1.3 "$TMP/once"

# ------------------------------------------------------------------- echo
rm -f "$TMP"/echo.*
for _ in $(seq "$RUNS"); do
  echo_once "$TMP/echo.bare"
  echo_once "$TMP/echo.al" "$AL"
  echo_once "$TMP/echo.slow" "$AL" --slow-callback=100
  echo_once "$TMP/echo.nolive" env ASYNCLEAK_OPTIONS=live=0 "$AL"
  echo_once "$TMP/echo.threads" env ASYNCLEAK_OPTIONS=check_threads=1 "$AL"
done
eb=$(median <"$TMP/echo.bare.rps")
ea=$(median <"$TMP/echo.al.rps")
er=$(calc "$ea / $eb")
row "echo (requests/s)" "$eb" "$ea" "$er" ">= 0.97" \
  "$(verdict "$(calc "$er >= 0.97")")"
ecb=$(median <"$TMP/echo.bare.cpu")
eca=$(median <"$TMP/echo.al.cpu")
row "echo, server CPU (us/request)" "$ecb" "$eca" "$(calc "$eca / $ecb")" "" ""
# The slow-callback check on, against asyncleak with it off: every read
# callback timed, and every write's callback (a stream request's).
es=$(median <"$TMP/echo.slow.rps")
ecs=$(median <"$TMP/echo.slow.cpu")
row "echo, slow_callback_ms=100" "$ea" "$es" "$(calc "$es / $ea")" "vs off" ""
row "... server CPU (us/request)" "$eca" "$ecs" "$(calc "$ecs / $eca")" \
  "vs off" ""
# What answering asyncleak ps costs while nobody asks: the loop's waits
# marked in its run (lib/waits.c), and the thread waiting on its socket.
enl=$(median <"$TMP/echo.nolive.rps")
row "echo, live=0 (requests/s)" "$eb" "$enl" "$(calc "$enl / $eb")" "" ""
row "echo: live on against live=0" "" "" "$(calc "$ea / $enl")" "" ""
# The wrong-thread check on, against off: each write and close checked.
eth=$(median <"$TMP/echo.threads.rps")
row "echo, check_threads=1 (req/s)" "$ea" "$eth" "$(calc "$eth / $ea")" "" ""

# ---------------------------------------------------------------- startup
# Each run through env, so that bare and preloaded runs exec alike.
: >"$TMP/start.bare"
: >"$TMP/start.rt"
: >"$TMP/start.cli"
for _ in $(seq $((RUNS * 5))); do
  startup_once env >>"$TMP/start.bare"
  startup_once env LD_PRELOAD="$RT" >>"$TMP/start.rt"
  startup_once "$AL" >>"$TMP/start.cli"
done
sb=$(median <"$TMP/start.bare")
sr=$(median <"$TMP/start.rt")
sc=$(median <"$TMP/start.cli")
sra=$(calc "$sr - $sb")
sca=$(calc "$sc - $sb")
row "startup, runtime (ms)" "$sb" "$sr" "+$sra ms" "< +5 ms" \
  "$(verdict "$(calc "$sra < 5")")"
row "startup, asyncleak cmd (ms)" "$sb" "$sc" "+$sca ms" "" ""

# ----------------------------------------------------------- real programs
# Debian's Node.js 18, unpacked into the build directory by
# scripts/install-deps.sh, as tests/real/node.sh runs it: `node -e 1`, and
# a script that reads 200 small files with fs.readFile (requests of
# libuv's thread pool). Node leaves two handles closing at exit, which the
# command reports (not a failure). Then `node -e 1` with one-frame stacks,
# against bare: what is left when the stacks cost least.
node=$O/node18/usr/bin/node
nodelib=$O/node18/usr/lib/x86_64-linux-gnu
if [ -x "$node" ] && LD_LIBRARY_PATH=$nodelib "$node" -p process.version \
  2>/dev/null | grep -q '^v18\.'; then
  mkdir "$TMP/files"
  for i in $(seq "$READ_FILES"); do
    echo "file $i" >"$TMP/files/f$i"
  done
  cat >"$TMP/read.js" <<'JS'
const fs = require('fs');
const dir = process.argv[2];
const files = fs.readdirSync(dir);
let left = files.length;
for (const f of files) {
  fs.readFile(dir + '/' + f, (err) => {
    if (err) throw err;
    if (--left === 0) console.log('read ' + files.length);
  });
}
JS
  rm -f "$TMP"/node.*
  nenv="env LD_LIBRARY_PATH=$nodelib"
  for _ in $(seq "$RUNS"); do
    # shellcheck disable=SC2086 # $nenv is words
    {
      real_once 0 $nenv "$node" -e 1 >>"$TMP/node.e1.bare"
      real_once 0 $nenv "$AL" "$node" -e 1 >>"$TMP/node.e1.al"
      real_once 0 $nenv "$node" "$TMP/read.js" "$TMP/files" \
        >>"$TMP/node.read.bare"
      real_once 0 $nenv "$AL" "$node" "$TMP/read.js" "$TMP/files" \
        >>"$TMP/node.read.al"
      real_once 0 $nenv ASYNCLEAK_OPTIONS=stack_depth=1 "$AL" "$node" -e 1 \
        >>"$TMP/node.d1"
    }
  done
  ratio_row "node -e 1 (ms)" 1.25 "$TMP/node.e1"
  ratio_row "node, $READ_FILES fs.readFile (ms)" 1.25 "$TMP/node.read"
  nb=$(median <"$TMP/node.e1.bare")
  nd=$(median <"$TMP/node.d1")
  row "... node -e 1, stack_depth=1" "$nb" "$nd" "$(calc "$nd / $nb")x" "" ""
else
  echo "node rows skipped: Debian's Node.js 18 not installed in $O/node18" \
    "(scripts/install-deps.sh $O)"
fi

# A real libevent program that runs its loop briefly and ends by itself:
# a tmux client. It connects to a server (started bare, beforehand, on a
# socket of its own), sends its command, runs its loop until the server
# says it is done, and exits. It leaves its signal and connection events
# added at exit, which the command reports (status 23).
# `display-message -p` is one exchange; `list-keys` prints the few
# hundred lines the server sends it. Then `display-message -p` with
# three-frame stacks, which stay in tmux: the report then names no frame
# of the C library, whose debug information it would read otherwise.
if command -v tmux >/dev/null 2>&1; then
  rm -f "$TMP"/tmux.*
  TMUX_SOCK=$TMP/tmux-server
  env -u TMUX tmux -S "$TMUX_SOCK" -f /dev/null new-session -d -s bench \
    'sleep 600' || die "the tmux server did not start"
  tmx="env -u TMUX tmux -S $TMUX_SOCK"
  for _ in $(seq $((RUNS * 3))); do
    # shellcheck disable=SC2086 # $tmx is words
    {
      real_once 0 $tmx display-message -p x >>"$TMP/tmux.msg.bare"
      real_once 23 "$AL" $tmx display-message -p x >>"$TMP/tmux.msg.al"
      real_once 0 $tmx list-keys >>"$TMP/tmux.keys.bare"
      real_once 23 "$AL" $tmx list-keys >>"$TMP/tmux.keys.al"
      real_once 23 env ASYNCLEAK_OPTIONS=stack_depth=3 "$AL" \
        $tmx display-message -p x >>"$TMP/tmux.d3"
    }
  done
  ratio_row "tmux client, display (ms)" 1.25 "$TMP/tmux.msg"
  ratio_row "tmux client, list-keys (ms)" 1.25 "$TMP/tmux.keys"
  tb=$(median <"$TMP/tmux.msg.bare")
  td=$(median <"$TMP/tmux.d3")
  row "... display, stack_depth=3" "$tb" "$td" "$(calc "$td / $tb")x" "" ""
else
  echo "tmux rows skipped: tmux not installed: no real libevent program" \
    "that ends by itself"
fi

# ----------------------------------------------------------------- report
# 10,000 handles from 100 sites, left open at exit: from main's return to
# the report written by the runtime, and to the asyncleak command's end.
: >"$TMP/rep.bare"
: >"$TMP/rep.rt"
: >"$TMP/rep.cli"
: >"$TMP/rss.bare"
: >"$TMP/rss.rt"
for i in $(seq "$RUNS"); do
  out=$("$B/timeit" 1 env "$B/report-leak")
  echo "$out" | field exit_to_end_ms >>"$TMP/rep.bare"
  echo "$out" | field maxrss_kb >>"$TMP/rss.bare"
  out=$("$B/timeit" 1 env LD_PRELOAD="$RT" \
    ASYNCLEAK_OPTIONS="log_path=$TMP/report" "$B/report-leak")
  echo "$out" | field exit_to_end_ms >>"$TMP/rep.rt"
  echo "$out" | field maxrss_kb >>"$TMP/rss.rt"
  out=$("$B/timeit" 1 "$AL" "$B/report-leak" 2>/dev/null)
  [ "$(echo "$out" | field status)" = 23 ] || die "report: $out"
  echo "$out" | field exit_to_end_ms >>"$TMP/rep.cli"
done
# The report must be whole for its time to count.
grep -q "10000 handles left open (10000 uv_timer_t) from 100 creation sites" \
  "$TMP/report" || die "the report of 10,000 leaks is not complete"
rb=$(median <"$TMP/rep.bare")
rt=$(median <"$TMP/rep.rt")
rc=$(median <"$TMP/rep.cli")
row "report 10k leaks, runtime (s)" "$(calc "$rb / 1000")" \
  "$(calc "$rt / 1000")" "" "< 0.5 s" "$(verdict "$(calc "$rt < 500")")"
row "report 10k leaks, cmd (s)" "$(calc "$rb / 1000")" \
  "$(calc "$rc / 1000")" "" "< 0.5 s" "$(verdict "$(calc "$rc < 500")")"
mb=$(median <"$TMP/rss.bare")
mr=$(median <"$TMP/rss.rt")
row "report 10k leaks, peak (MiB)" "$(calc "$mb / 1024")" \
  "$(calc "$mr / 1024")" "+$(calc "($mr - $mb) / 1024") MiB" "" ""

# ----------------------------------------------------------- many reports
# The files of 20,000 processes (a test runner's run), read by the command:
# from the program's exit to the command's end. Then the same with a child
# still running, which the command waits for a moment (200 ms), looking
# at the directory again and again meanwhile.
MANY=20000
: >"$TMP/many"
: >"$TMP/many.wait"
for _ in $(seq "$RUNS"); do
  out=$("$B/timeit" 1 "$AL" "$B/many-reports" "$MANY" 2>/dev/null)
  [ "$(echo "$out" | field status)" = 0 ] || die "many-reports: $out"
  echo "$out" | field exit_to_end_ms >>"$TMP/many"
  out=$("$B/timeit" 1 "$AL" "$B/many-reports" "$MANY" 1000 2>/dev/null)
  [ "$(echo "$out" | field status)" = 0 ] || die "many-reports: $out"
  echo "$out" | field exit_to_end_ms >>"$TMP/many.wait"
done
row "read 20k process files (s)" "" "$(calc "$(median <"$TMP/many") / 1000")" \
  "" "< 2 s" "$(verdict "$(calc "$(median <"$TMP/many") < 2000")")"
row "... one still running (s)" "" \
  "$(calc "$(median <"$TMP/many.wait") / 1000")" "" "< 2 s" \
  "$(verdict "$(calc "$(median <"$TMP/many.wait") < 2000")")"

# ----------------------------------------------------------------- memory
: >"$TMP/live.bare"
: >"$TMP/live.al"
for _ in 1 2 3; do
  "$B/live" "$LIVE" | field rss_growth_kb >>"$TMP/live.bare"
  "$AL" "$B/live" "$LIVE" 2>/dev/null | field rss_growth_kb >>"$TMP/live.al"
done
lb=$(median <"$TMP/live.bare")
la=$(median <"$TMP/live.al")
per=$(calc "($la - $lb) * 1024 / $LIVE")
row "memory (bytes per resource)" "" "$per" "" "<= 64" \
  "$(verdict "$(calc "$per <= 64")")"

# --------------------------------------------------------------- valgrind
VG="valgrind -q --tool=none --track-fds=yes"
: >"$TMP/churn.vg"
for _ in 1 2 3; do
  # shellcheck disable=SC2086
  churn_once $VG >>"$TMP/churn.vg"
  # shellcheck disable=SC2086
  echo_once "$TMP/echo.vg" $VG
done
cv=$(median <"$TMP/churn.vg")
ev=$(median <"$TMP/echo.vg.rps")
speed=$(calc "$cv / $ca")
row "churn under valgrind (ns)" "$cb" "$cv" "$(calc "$cv / $cb")x" "" ""
row "churn: asyncleak vs valgrind" "" "" "${speed}x faster" ">= 20x" \
  "$(verdict "$(calc "$speed >= 20")")"
row "echo under valgrind (req/s)" "$eb" "$ev" "$(calc "$ev / $eb")" "" ""
# What finding leaks with valgrind costs: memcheck, one run.
cm=$(churn_once valgrind -q --tool=memcheck --leak-check=full)
row "churn under memcheck (ns)" "$cb" "$cm" "$(calc "$cm / $cb")x" "" ""
row "churn: asyncleak vs memcheck" "" "" "$(calc "$cm / $ca")x faster" "" ""
echo
echo "ratio: asyncleak / bare (valgrind / bare on its rows); budgets: docs/performance.md"
