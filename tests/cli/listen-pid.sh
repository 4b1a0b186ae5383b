# Socket activation: LISTEN_PID names the process the sockets are for.
# Started as `systemd-socket-activate ... asyncleak prog`, that is the
# command's pid; the program, its child, must see its own there, as it
# would run bare, with LISTEN_FDS and the descriptors as they were. Its
# own children must not (listen-check checks one), nor a program whose
# LISTEN_PID names another process.
. tests/cli/lib.sh

prog="$O/progs/listen-check"
[ -x "$prog" ] || fail "'$prog' is not built"
own="program: LISTEN_PID is its own pid, LISTEN_FDS=1, fd 3 open, mark unset"
child="child: LISTEN_PID is another pid, LISTEN_FDS=1, fd 3 open, mark unset"

# What systemd does, by hand: the shell's exec keeps its pid, so LISTEN_PID
# names the asyncleak command, with fd 3 open.
run sh -c 'exec 3</dev/null; LISTEN_FDS=1 LISTEN_PID=$$ exec "$@"' sh \
  "$ASYNCLEAK" "$prog"
expect_status 0
expect_line "$tmp/out" "$own"
expect_line "$tmp/out" "$child"

# The same program bare, for comparison: what it sees under asyncleak.
run sh -c 'exec 3</dev/null; LISTEN_FDS=1 LISTEN_PID=$$ exec "$@"' sh "$prog"
expect_status 0
expect_line "$tmp/out" "$own"

# Negative controls: LISTEN_PID naming another process stays as it is, and
# a mark the command was given (not its own) reaches nobody.
run LISTEN_PID=1 LISTEN_FDS=1 ASYNCLEAK_LISTEN_PID=1 "$ASYNCLEAK" "$prog"
expect_status 1
expect_line "$tmp/out" "program: LISTEN_PID is another pid, LISTEN_FDS=1, \
fd 3 closed, mark unset"
# Preloaded by hand, a mark naming another parent is dropped, unused
# (after a sanitizer's runtime, which must come first).
run sh -c 'LISTEN_PID=1 ASYNCLEAK_LISTEN_PID=1 \
  LD_PRELOAD="${LD_PRELOAD:+$LD_PRELOAD:}$1" exec "$2"' \
  sh "$O/lib/libasyncleak.so" "$prog"
expect_status 1
expect_line "$tmp/out" "program: LISTEN_PID is another pid, LISTEN_FDS=unset, \
fd 3 closed, mark unset"

# The real thing, when systemd's tool is installed (Debian: systemd): it
# starts the program on the first connection to its socket.
if ! command -v systemd-socket-activate >/dev/null 2>&1; then
  echo "$test_name: systemd-socket-activate not installed: only the shell's" \
    "stand-in was tried"
  exit 0
fi
command -v python3 >/dev/null 2>&1 || fail "python3 is not installed"
for try in 1 2 3 4 5; do
  port=$(python3 -c 'import random; print(random.randint(20000, 39999))')
  # It passes on only the variables it is told to: a sanitizer's
  # (make SANITIZE=...) and where temporary files go.
  timeout -k 5 30 systemd-socket-activate -l "127.0.0.1:$port" \
    ${LD_PRELOAD:+-E LD_PRELOAD} ${ASAN_OPTIONS:+-E ASAN_OPTIONS} \
    -E TMPDIR -E PATH "$ASYNCLEAK" "$prog" >"$tmp/out" 2>"$tmp/err" &
  bg=$!
  # Connects once it listens (bounded: 5 s), which starts the program.
  python3 - "$port" <<'PY' && break
import socket, sys, time
for _ in range(100):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)
PY
  kill "$bg" 2>/dev/null
  wait "$bg"
  bg=
done
[ -n "$bg" ] || fail "systemd-socket-activate did not listen on any port"
status=0
wait "$bg" || status=$?
expect_status 0
expect_line "$tmp/out" "$own"
expect_line "$tmp/out" "$child"
