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

# closing: the report of a node that ended by itself: its two platform
# handles closing, shown apart, and nothing open or pending.
closing() {
  expect status=0 exit=0 handles_open=0 requests_pending=0 \
    handles_forced=0 handles_closing=2 \
    closing:uv_async_t=1 closing:uv_timer_t=1
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
  until p=$(awk -v w="$2" '$1 == w { print $2; exit }' "$1") && [ -n "$p" ]; do
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
run "$ASYNCLEAK" ps "$pid"
expect_status 0
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

LD_LIBRARY_PATH="$nodelib" timeout -k 5 60 "$ASYNCLEAK" "$node" -e "
  console.log('ready', process.pid);
  setTimeout(function spin() {
    const end = Date.now() + 4000;
    while (Date.now() < end) {}
  }, 10);" >"$tmp/node.out" 2>"$tmp/node.err" &
cmd=$!
pid=$(started "$tmp/node.out" ready)
sleep 1
run "$ASYNCLEAK" ps "$pid"
expect_status 0
wait $cmd || fail "node failed after ps: $(cat "$tmp/node.err")"
grep -q "^  thread $pid (main) runs it: inside a callback for [0-9.]* m\?s, now at:" \
  "$tmp/out" || fail "node's main thread not inside a callback: $(cat "$tmp/out")"
grep -q "^      #[0-9]* 0x[0-9a-f]* in node::Environment::RunTimers(uv_timer_s\*)" \
  "$tmp/out" || fail "node's timer callback not on the stack: $(cat "$tmp/out")"
grep -q "^      #[0-9]* 0x[0-9a-f]* in uv_run " "$tmp/out" ||
  fail "uv_run not on the stack: $(cat "$tmp/out")"
exit 0
