# An asyncio program on Debian's uvloop 0.17, which links the system's
# libuv.so.1, under asyncleak (docs/real-programs-libuv.md): a TCP server
# on 127.0.0.1, a connection to it, a line each way. Debian's python3 is
# named by its path: the python3 first on PATH may be another one,
# without Debian's python3-uvloop.
. tests/real/lib.sh

py=/usr/bin/python3
[ -x "$py" ] || fail "no $py (scripts/install-deps.sh)"
command -v python3 >/dev/null 2>&1 || fail "python3 is not installed"

# uvloop's extension must use the system's libuv, which asyncleak
# interposes, and not a copy of its own.
ext=$("$py" -c 'import uvloop.loop; print(uvloop.loop.__file__)') ||
  fail "$py cannot import uvloop (scripts/install-deps.sh)"
uv=$(ldd "$ext" | sed -n 's/^[[:space:]]*libuv\.so\.1 => \([^ ]*\) .*/\1/p')
[ "$(readlink -f "$uv")" = \
  "$(readlink -f /usr/lib/x86_64-linux-gnu/libuv.so.1)" ] ||
  fail "$ext does not use the system's libuv.so.1: $(ldd "$ext")"

# MODE is "run" (asyncio.run, everything closed), "run-leak" (the server
# is not closed, but asyncio.run closes the loop), "close" (the loop made
# and closed by hand, everything closed) or "leak" (the server and the
# loop are never closed).
cat >"$tmp/echo.py" <<'EOF'
import asyncio
import sys

import uvloop

mode = sys.argv[1]
kept = []


async def handle(reader, writer):
    line = await reader.readline()
    writer.write(line.upper())
    await writer.drain()
    writer.close()
    await writer.wait_closed()


async def exchange():
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"hello\n")
    await writer.drain()
    print((await reader.readline()).decode().strip())
    writer.close()
    await writer.wait_closed()
    if mode.endswith("leak"):
        kept.append(server)
        return
    server.close()
    await server.wait_closed()


async def main():
    await asyncio.wait_for(exchange(), 10)


if mode.startswith("run"):
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    asyncio.run(main())
else:
    loop = uvloop.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.run_until_complete(main())
    if mode == "close":
        loop.close()
EOF

# under [FLAGS] MODE: runs the program under asyncleak with a JSON report
# in $tmp/report.json; it must have answered as it does alone.
under() {
  case $1 in
    --*) flags=$1; shift ;;
    *) flags= ;;
  esac
  # shellcheck disable=SC2086
  run "$ASYNCLEAK" $flags --json="$tmp/report.json" "$py" "$tmp/echo.py" "$1"
  [ "$(cat "$tmp/out")" = HELLO ] ||
    fail "$1: the program printed '$(cat "$tmp/out")'; stderr:
$(cat "$tmp/err")"
}

# Alone, each mode answers and exits 0.
for mode in run run-leak close leak; do
  out=$(timeout -k 5 30 "$py" "$tmp/echo.py" $mode 2>&1)
  status=$?
  [ "$status" -eq 0 ] && [ "$out" = HELLO ] ||
    fail "$mode alone: status $status, printed: $out"
done

# a) The negative controls: uvloop's loop.close() closes every handle,
# the server's too, and runs the loop until they are closed. No report.
for mode in run run-leak close; do
  for flags in "" --force-close; do
    under $flags $mode
    expect status=0 exit=0 handles_open=0 handles_closing=0 \
      handles_forced=0 requests_pending=0 loops_unclosed=0
    [ "$(wc -l <"$tmp/err")" -eq 1 ] &&
      grep -q '^asyncleak: no leaks: 1 loop(s), ' "$tmp/err" ||
      fail "$mode $flags: asyncleak said: $(cat "$tmp/err")"
  done
done

# b) The server and the loop never closed: the listening uv_tcp_t is left
# open with the loop's own async, idle and check handles. When the
# interpreter ends, it deallocates a poll handle of uvloop's, which calls
# uv_close; the loop does not run again: closing, not failing.
under leak
expect status=23 exit=0 handles_open=4 handles_closing=1 handles_forced=0 \
  requests_pending=0 open:uv_tcp_t=1 open:uv_async_t=1 open:uv_idle_t=1 \
  open:uv_check_t=1 closing:uv_poll_t=1
count 1 '^1 handle of type uv_tcp_t, created at:$'
count 1 '^1 handle of type uv_poll_t closing'
expect_line "$tmp/err" "asyncleak: 4 handle(s) left open in 1 process(es)"

# c) --force-close: the program ends as it does without it. Running the
# loop after the interpreter is torn down would crash it (SIGSEGV): at
# exit force leaves everything to the program, with the same verdict,
# and says so.
under --force-close leak
expect status=23 exit=0 handles_open=4 handles_closing=1 handles_forced=0 \
  requests_pending=0 open:uv_tcp_t=1 open:uv_async_t=1 open:uv_idle_t=1 \
  open:uv_check_t=1 closing:uv_poll_t=1
grep -q '^Force mode left these to the program' "$tmp/err" ||
  fail "force did not say it left them: $(cat "$tmp/err")"
expect_no "$tmp/err" SIGSEGV
exit 0
