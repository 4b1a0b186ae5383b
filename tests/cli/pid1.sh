# The first process of a pid namespace (a container's init) is not ended
# by a signal it does not handle: the kernel drops it. With the runtime, a
# shell that is pid 1 and sends itself SIGTERM or SIGINT runs on as it
# does bare, with --graceful-signals too; a fault it sends itself is
# dropped as well. The control: the same shell, not pid 1, ends by the
# signal bare and with the runtime.
. tests/cli/lib.sh

runtime=$(readlink -f "$(dirname "$ASYNCLEAK")/../lib/libasyncleak.so")
preload="${LD_PRELOAD:+$LD_PRELOAD:}$runtime"
if ! unshare -p -f true 2>/dev/null; then
  echo "$test_name: cannot make a pid namespace, skipped" >&2
  exit 0
fi

# same RUN...: runs as run does; the status and output must be the bare
# run's.
same() {
  run "$@"
  expect_status "$bare"
  [ "$(cat "$tmp/out")" = "$bare_out" ] ||
    fail "SIG$sig: $*: output '$(cat "$tmp/out")', bare '$bare_out'"
}

# A sanitizer keeps SIGSEGV for itself, even in pid 1: no SEGV case there.
sigs="TERM INT SEGV"
[ -z "${SANITIZE:-}" ] || sigs="TERM INT"
for sig in $sigs; do
  script="kill -$sig \$\$; echo alive \$\$"
  run unshare -p -f sh -c "$script"
  bare=$status
  bare_out=$(cat "$tmp/out")
  # The shell handles SIGINT itself; the others it leaves to the kernel.
  if [ $sig != INT ]; then
    expect_status 0
    expect_line "$tmp/out" "alive 1"
  fi
  same LD_PRELOAD="$preload" unshare -p -f sh -c "$script"
  same "$ASYNCLEAK" unshare -p -f sh -c "$script"
  same "$ASYNCLEAK" --graceful-signals unshare -p -f sh -c "$script"

  # Not pid 1: the signal ends the shell, and the runtime reports that.
  run sh -c "$script"
  bare=$status
  [ "$bare" -ne 0 ] || fail "SIG$sig, not pid 1: bare, the shell ran on"
  run LD_PRELOAD="$preload" sh -c "$script"
  expect_status "$bare"
  expect_no "$tmp/out" "alive"
done
exit 0
