# The copy of a process that writes its report as the process ends by a
# signal (lib/ending.c) cannot outlive it. The program crashes inside its
# own allocator with its lock held (tests/progs/uv-own-malloc.c), so the
# copy waits on that lock; report_timeout_ms is long. While it waits, the
# copy holds none of the program's descriptors but those the report needs
# (not the pipe of its stdout); when a supervisor then kills the process
# with SIGKILL, the copy ends with it.
. tests/cli/lib.sh

prog=$O/progs/uv-own-malloc
runtime=$(readlink -f "$(dirname "$ASYNCLEAK")/../lib/libasyncleak.so")
[ -x "$prog" ] || fail "'$prog' is not built"
if [ -n "${SANITIZE:-}" ]; then
  echo "$test_name: a sanitizer brings its own malloc" >&2
  exit 0
fi

# children PID: the pids whose parent is PID.
children() {
  for f in /proc/[0-9]*/stat; do
    sed -n "s/^\([0-9]*\) (.*) . $1 .*/\1/p" "$f" 2>/dev/null
  done
}

# ended PID: the process has ended (or is a zombie nobody reaps yet).
ended() {
  state=$(sed -n 's/^.*) \(.\) .*/\1/p' "/proc/$1/stat" 2>/dev/null)
  [ -z "$state" ] || [ "$state" = Z ]
}

mkfifo "$tmp/pipe"
ASYNCLEAK_OPTIONS=report_timeout_ms=120000 LD_PRELOAD="$runtime" \
  "$prog" crash-in-malloc >"$tmp/pipe" 2>"$tmp/err" &
pid=$!
exec 3<"$tmp/pipe"

# The copy appears once the program has crashed: 10 s at most.
tries=0
copy=
while [ -z "$copy" ]; do
  tries=$((tries + 1))
  [ "$tries" -lt 100 ] || { kill -KILL "$pid"; fail "no copy appeared"; }
  sleep 0.1
  copy=$(children "$pid")
done
[ -e "/proc/$copy/fd/2" ] || fail "the copy has no stderr"
if [ -e "/proc/$copy/fd/1" ]; then
  kill -KILL "$pid"
  fail "the copy holds the program's stdout: $(ls -l "/proc/$copy/fd")"
fi
[ -e "/proc/$pid/fd/1" ] || fail "the control: the process has no stdout"

kill -KILL "$pid"
wait "$pid" 2>/dev/null
tries=0
until ended "$copy"; do
  tries=$((tries + 1))
  if [ "$tries" -ge 100 ]; then
    kill -KILL "$copy" 2>/dev/null
    fail "the copy $copy outlived the process by 10 s"
  fi
  sleep 0.1
done
# Nobody holds the pipe's write end any more: reading it ends.
timeout 10 cat <&3 >/dev/null || fail "the pipe stayed open"
exec 3<&-
exit 0
