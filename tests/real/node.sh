# Debian's Node.js 18, which links the system's libuv.so.1, under
# asyncleak (docs/real-programs-libuv.md). scripts/install-deps.sh unpacks
# it into $O/node18: it is not installed, so that any other nodejs package
# stays. A script that ends by itself: node calls uv_close on two of its
# platform's handles during its shutdown and exits without running the
# loop again, so they are listed as closing and do not fail the run.
# process.exit() skips that shutdown: what is open then is left open.
. tests/real/lib.sh

command -v python3 >/dev/null 2>&1 || fail "python3 is not installed"
node=$O/node18/usr/bin/node
nodelib=$O/node18/usr/lib/x86_64-linux-gnu
[ -x "$node" ] || fail "no $node (scripts/install-deps.sh $O)"

# Node must be Debian's 18, and use libnode from $nodelib and the system's
# libuv, the library asyncleak interposes.
ldd=$(LD_LIBRARY_PATH=$nodelib ldd "$node") || fail "ldd $node failed"
lib() {
  printf '%s\n' "$ldd" | sed -n "s/^[[:space:]]*$1 => \\([^ ]*\\) .*/\\1/p"
}
[ "$(readlink -f "$(lib libnode.so.108)")" = \
  "$(readlink -f "$nodelib/libnode.so.108")" ] ||
  fail "libnode.so.108 is not the one in $nodelib: $ldd"
[ "$(readlink -f "$(lib libuv.so.1)")" = \
  "$(readlink -f /usr/lib/x86_64-linux-gnu/libuv.so.1)" ] ||
  fail "libuv.so.1 is not the system's: $ldd"
v=$(LD_LIBRARY_PATH=$nodelib "$node" -p 'process.version' 2>&1)
case $v in
  v18.*) ;;
  *) fail "$node is not Node.js 18: $v" ;;
esac

# under [--ASYNCLEAK-FLAG] ARGS...: runs node under asyncleak with a JSON
# report in $tmp/report.json.
under() {
  case $1 in
    --*) flags=$1; shift ;;
    *) flags= ;;
  esac
  # shellcheck disable=SC2086
  run LD_LIBRARY_PATH="$nodelib" "$ASYNCLEAK" $flags \
    --json="$tmp/report.json" "$node" "$@"
}

# group TITLE: prints the group of $tmp/err titled TITLE, up to the blank
# line that ends it.
group() {
  awk -v t="$1" '$0 == t { p = 1 } p && $0 == "" { exit } p' "$tmp/err"
}

# closing [EXPECTATION...]: the report of a node that ended by itself:
# its two platform handles closing, shown apart, and nothing open or
# pending; and the EXPECTATIONs (of tests/real/report.py).
closing() {
  expect status=0 exit=0 handles_open=0 requests_pending=0 \
    handles_forced=0 handles_closing=2 \
    closing:uv_async_t=1 closing:uv_timer_t=1 "$@"
  count 1 '^1 handle of type uv_async_t closing'
  count 1 '^1 handle of type uv_timer_t closing'
  count 2 '^  0x[0-9a-f]+ on loop [0-9]+, thread [0-9]+ \(main\), closing'
  # No group of handles left open.
  count 0 '^[0-9]+ handles? of type [a-z_]+, created at:$'
  expect_no "$tmp/err" "left open in"
}

# a) Nothing at all.
under -e 1
closing
[ ! -s "$tmp/out" ] || fail "node -e 1 printed: $(cat "$tmp/out")"

# --fail-on-closing makes the same handles fail the run.
under --fail-on-closing -e 1
expect status=23 exit=0 handles_open=0 handles_closing=2 \
  closing:uv_async_t=1 closing:uv_timer_t=1

# b) Files read with fs.readFile (requests of libuv's thread pool), and a
# timer set and cleared.
cat >"$tmp/read.js" <<'EOF'
const fs = require('fs');
const files = process.argv.slice(2);
let left = files.length;
const t = setTimeout(() => { throw new Error('the timer ran'); }, 60000);
for (const f of files) {
  fs.readFile(f, (err, data) => {
    if (err) throw err;
    if (--left === 0) {
      clearTimeout(t);
      console.log('read ' + files.length);
    }
  });
}
EOF
under "$tmp/read.js" /etc/passwd /etc/hostname tests/cli/lib.sh
closing
[ "$(cat "$tmp/out")" = "read 3" ] || fail "read.js printed: $(cat "$tmp/out")"

# c) process.exit(0) alone: node exits at once, without closing anything.
# The 8 handles of its environment and platform stay open, node's one
# timer inactive: this is what c) and d) leak besides what they opened.
under -e 'process.exit(0)'
expect status=23 exit=0 handles_open=8 handles_closing=0 \
  open:uv_async_t=3 open:uv_check_t=2 open:uv_idle_t=1 open:uv_prepare_t=1 \
  open:uv_timer_t=1
count 1 '^  0x[0-9a-f]+ on loop [0-9]+, thread [0-9]+ \(main\), inactive, unreferenced$'
count 0 '\), active, referenced$'

# d) An interval running at process.exit(0): node's timer is left active.
under -e 'setInterval(() => {}, 1000); process.exit(0)'
expect status=23 exit=0 handles_open=8 handles_closing=0 \
  open:uv_async_t=3 open:uv_check_t=2 open:uv_idle_t=1 open:uv_prepare_t=1 \
  open:uv_timer_t=1
count 1 '^1 handle of type uv_timer_t, created at:$'
count 1 '^  0x[0-9a-f]+ on loop [0-9]+, thread [0-9]+ \(main\), active, referenced$'
expect_line "$tmp/err" "asyncleak: 8 handle(s) left open in 1 process(es)"

# e) A server listening on 127.0.0.1 at process.exit(0): its uv_tcp_t is
# left open too.
under -e "require('net').createServer().listen(0, '127.0.0.1',
  () => process.exit(0))"
expect status=23 exit=0 handles_open=9 handles_closing=0 open:uv_tcp_t=1 \
  open:uv_async_t=3 open:uv_check_t=2 open:uv_idle_t=1 open:uv_prepare_t=1 \
  open:uv_timer_t=1
count 1 '^1 handle of type uv_tcp_t, created at:$'
group '1 handle of type uv_tcp_t, created at:' | grep -qE '^  0x[0-9a-f]+ on loop [0-9]+, thread [0-9]+ \(main\), active, referenced$' ||
  fail "the uv_tcp_t is not listening: $(cat "$tmp/err")"
expect_line "$tmp/err" "asyncleak: 9 handle(s) left open in 1 process(es)"

# f) asyncleak ps on a running node (docs/live.md): a server listening on
# 127.0.0.1 and an interval keep its main loop running (node's one
# uv_timer_t carries every JS timer); node's unreferenced handles keep
# nothing running. Then a callback that spins in JavaScript: the main
# thread is inside a callback, and its stack now reaches through V8's
# generated code to node's timer callback and uv_run.
# started FILE WORD: the pid on FILE's line "WORD PID", once there.
started() {
  i=0
  until p=$(awk -v w="$2" '$1 == w { print $2; exit }' "$1" 2>/dev/null) && [ -n "$p" ]; do
    i=$((i + 1))
    [ $i -le 300 ] || fail "node never said '$2': $(cat "$1")"
    sleep 0.05
  done
  echo "$p"
}
LD_LIBRARY_PATH="$nodelib" timeout -k 5 60 "$ASYNCLEAK" "$node" -e "
  const s = require('net').createServer().listen(0, '127.0.0.1', () =>
    console.log('ready', process.pid));
  const t = setInterval(() => {
    if (require('fs').existsSync(process.argv[1])) { clearInterval(t); s.close(); }
  }, 20);" "$tmp/stop" >"$tmp/node.out" 2>"$tmp/node.err" &
cmd=$!
pid=$(started "$tmp/node.out" ready)
# Asked again while node's main thread happens to be in a callback (its
# interval's, every 20 ms): 2 s at most.
i=0
while :; do
  run "$ASYNCLEAK" ps "$pid"
  expect_status 0
  grep -q "^  thread $pid (main) runs it: waiting for events" "$tmp/out" ||
    [ $i -ge 20 ] || { i=$((i + 1)); sleep 0.1; continue; }
  break
done
cp "$tmp/out" "$tmp/ps.txt"
touch "$tmp/stop"
wait $cmd || fail "node failed after ps: $(cat "$tmp/node.err")"
main=$(awk '/^Loop [0-9]+ \(libuv, the default loop\)/ { p = 1; next }
            /^Loop / { p = 0 } p' "$tmp/ps.txt")
printf '%s\n' "$main" | grep -q "^  thread $pid (main) runs it: waiting for events" ||
  fail "node's main thread not waiting: $(cat "$tmp/ps.txt")"
printf '%s\n' "$main" | grep -qx "  keeping it running: 2 handles" ||
  fail "not 2 handles keeping node running: $(cat "$tmp/ps.txt")"
alive=$(printf '%s\n' "$main" | sed -n '/^  keeping it running/,/^  [a-z]/p')
printf '%s\n' "$alive" | grep -q "^    1 uv_tcp_t (active, referenced), made at:" ||
  fail "the server is not listed: $(cat "$tmp/ps.txt")"
printf '%s\n' "$alive" | grep -q "^      #0 .* in node::TCPWrap::TCPWrap" ||
  fail "the server's site is not node's TCPWrap: $(cat "$tmp/ps.txt")"
printf '%s\n' "$alive" | grep -q "^    1 uv_timer_t (active, referenced), made at:" ||
  fail "node's timer is not listed: $(cat "$tmp/ps.txt")"
printf '%s\n' "$main" | grep -q "^  open, not keeping it running: [0-9]* handles" ||
  fail "node's own handles not listed apart: $(cat "$tmp/ps.txt")"

rm -f "$tmp/stop"
LD_LIBRARY_PATH="$nodelib" timeout -k 5 60 "$ASYNCLEAK" "$node" -e "
  const fs = require('fs');
  setTimeout(function spin() {
    console.log('spinning', process.pid);
    const end = Date.now() + 30000;
    while (Date.now() < end && !fs.existsSync(process.argv[1])) {}
  }, 10);" "$tmp/stop" >"$tmp/node.out" 2>"$tmp/node.err" &
cmd=$!
pid=$(started "$tmp/node.out" spinning)
sleep 0.2
run "$ASYNCLEAK" ps "$pid"
touch "$tmp/stop"
wait $cmd || fail "node failed after ps: $(cat "$tmp/node.err")"
expect_status 0
grep -q "^  thread $pid (main) runs it: inside a callback for [0-9.]* m\?s, now at:" \
  "$tmp/out" || fail "node's main thread not inside a callback: $(cat "$tmp/out")"
grep -q "^      #[0-9]* 0x[0-9a-f]* in node::Environment::RunTimers(uv_timer_s\*)" \
  "$tmp/out" || fail "node's timer callback not on the stack: $(cat "$tmp/out")"
grep -q "^      #[0-9]* 0x[0-9a-f]* in uv_run " "$tmp/out" ||
  fail "uv_run not on the stack: $(cat "$tmp/out")"

# g) The debug checks (docs/debug-checks.md) on node: what it prints, its
# status and what is reported of it stay as without them, and none of its
# own calls is a finding. Node calls libuv from more than its main
# thread: its platform's worker threads and its thread pool wake the main
# loop with uv_async_send, which libuv documents as safe from any thread,
# and a Worker runs a loop of its own on its own thread. Node's own
# callbacks here take some 20 ms at most, on a loaded machine too: far
# from the 100 ms of --debug-checks.
under --debug-checks -e 'setTimeout(() => console.log("tick"), 50)'
closing findings=0
expect_no "$tmp/err" "finding"
[ "$(cat "$tmp/out")" = tick ] || fail "node printed: $(cat "$tmp/out")"

# The files of b), read by the thread pool.
under --debug-checks "$tmp/read.js" /etc/passwd /etc/hostname tests/cli/lib.sh
closing findings=0
expect_no "$tmp/err" "finding"
[ "$(cat "$tmp/out")" = "read 3" ] || fail "read.js printed: $(cat "$tmp/out")"

# An HTTP server and a client of its own on 127.0.0.1, one request; then
# both close (agent: false, so that no connection is kept alive). Alone,
# then under asyncleak.
cat >"$tmp/http.js" <<'EOF'
const http = require('http');
const srv = http.createServer((req, res) => res.end('hello-node\n'));
srv.listen(0, '127.0.0.1', () => {
  const port = srv.address().port;
  http.get({ host: '127.0.0.1', port, agent: false, timeout: 5000 }, (res) => {
    let body = '';
    res.on('data', (d) => { body += d; });
    res.on('end', () => {
      console.log(res.statusCode + ' ' + body.trim());
      srv.close();
    });
  }).on('timeout', () => { throw new Error('no answer within 5 s'); });
});
EOF
# shellcheck disable=SC2086 # $plain is words
timeout -k 5 60 $plain LD_LIBRARY_PATH="$nodelib" "$node" "$tmp/http.js" \
  >"$tmp/alone.out" 2>&1 ||
  fail "alone, http.js failed: $(cat "$tmp/alone.out")"
[ "$(cat "$tmp/alone.out")" = "200 hello-node" ] ||
  fail "alone, http.js printed: $(cat "$tmp/alone.out")"
under --debug-checks "$tmp/http.js"
closing findings=0
expect_no "$tmp/err" "finding"
[ "$(cat "$tmp/out")" = "200 hello-node" ] ||
  fail "http.js printed: $(cat "$tmp/out")"

# A Worker: its loop runs on the Worker's thread, and each side posts to
# the other with uv_async_send.
cat >"$tmp/worker.js" <<'EOF'
const { Worker } = require('worker_threads');
const w = new Worker(
  "require('worker_threads').parentPort.postMessage('hello-worker')",
  { eval: true });
w.on('message', (m) => console.log(m));
w.on('exit', (code) => console.log('worker exited ' + code));
EOF
under --debug-checks "$tmp/worker.js"
closing findings=0
expect_no "$tmp/err" "finding"
[ "$(cat "$tmp/out")" = "$(printf 'hello-worker\nworker exited 0')" ] ||
  fail "worker.js printed: $(cat "$tmp/out")"

# The control, a true finding: a timer's callback that spins for 300 ms
# holds node's loop that long. Node runs every JavaScript timer from the
# one uv_timer_t it makes in Environment::InitializeLibuv, whose callback
# is Environment::RunTimers: the finding is that timer's, once.
under --debug-checks -e 'setTimeout(() => {
  const end = Date.now() + 300;
  while (Date.now() < end) {}
}, 10)'
closing findings=1
count 1 '^Slow callback: uv_timer_start callback on a uv_timer_t held its loop, 1 time, the longest [0-9]+ ms, created at:$'
slow=$(awk '/^Slow callback: / { p = 1 } p && $0 == "" { exit } p' "$tmp/err")
printf '%s\n' "$slow" | sed -n 2p |
  grep -q '^    #0 0x[0-9a-f]* in node::Environment::InitializeLibuv()' ||
  fail "the slow timer was not made in InitializeLibuv: $(cat "$tmp/err")"
printf '%s\n' "$slow" | grep -A 1 -x '  the callback:' |
  grep -q '^    #0 0x[0-9a-f]* in node::Environment::RunTimers(uv_timer_s\*)' ||
  fail "the slow callback is not node's RunTimers: $(cat "$tmp/err")"
count 0 '^(Wrong thread|Use after close): '

# Virtual time (docs/virtual-time.md): a timer of 10 minutes whose
# callback sets one of 50. Node's performance.now() reads the loop's
# monotonic clock, which jumps; Date.now() is the wall clock, which does
# not: the hour passes in well under 5 s of it. The control runs the same
# script at a thousandth of the scale in real time.
cat >"$tmp/hour.js" <<'EOF2'
const scale = Number(process.argv[2]);
const t0 = Date.now(), p0 = performance.now();
const at = () => Math.round((performance.now() - p0) / scale);
setTimeout(() => {
  console.log('first at ' + at());
  setTimeout(() => {
    console.log('second at ' + at());
    console.log('wall clock ' + (Date.now() - t0 < 5000 ? 'under 5 s' : 'slow'));
  }, 3000 * scale);
}, 600 * scale);
EOF2
under --virtual-time "$tmp/hour.js" 1000
# Nothing open or pending. Node's platform uv_async_t is closing at its
# exit as in real time; whether its uv_timer_t still is depends on when
# its delayed tasks ran, which the jumps change.
expect status=0 exit=0 handles_open=0 requests_pending=0 handles_forced=0 \
  closing:uv_async_t=1 'closing:uv_timer_t>=0'
count 0 '^[0-9]+ handles? of type [a-z_]+, created at:$'
[ "$(cat "$tmp/out")" = "first at 600
second at 3600
wall clock under 5 s" ] || fail "hour.js under virtual time printed: $(cat "$tmp/out")"
grep -qE '^Virtual time: [0-9]+ loops?; [0-9]+ waits? for a timer skipped, the clocks advanced by (3599\.9[0-9]*|360[0-9]\.[0-9]*) s in all$' "$tmp/err" ||
  fail "no line of virtual time: $(cat "$tmp/err")"
under "$tmp/hour.js" 1
closing
grep -q '^first at 6[0-9][0-9]$' "$tmp/out" && grep -q '^second at 3[6-9][0-9][0-9]$' "$tmp/out" ||
  fail "hour.js in real time printed: $(cat "$tmp/out")"
expect_no "$tmp/err" "Virtual time"
exit 0
