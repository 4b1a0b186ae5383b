# A library links libasyncleak and registers a finalizer; its user runs
# the program directly, without the asyncleak command and with nothing
# preloaded (tests/progs/plugin/libclient.c). The finalizer still runs, as
# the loop closes or at exit, and its goodbye reaches the server; exit()
# from inside a callback runs no finalizer, and neither crashes nor hangs.
. tests/cli/lib.sh

unset LD_PRELOAD ASYNCLEAK_OPTIONS

for p in uv-finally-goodbye uv-finally-client-exit; do
  [ -x "$O/progs/$p" ] || fail "'$O/progs/$p' is not built"
done

# The loop closed by the program.
run "$O/progs/uv-finally-goodbye"
expect_status 0
expect_line "$tmp/out" "server received: goodbye"
[ "$(grep -c 'server received' "$tmp/out")" -eq 1 ] ||
  fail "the goodbye came more than once: $(cat "$tmp/out")"
expect_no "$tmp/err" "ERROR"

# No finalizer registered: no goodbye.
run "$O/progs/uv-finally-goodbye" nofinally
expect_status 0
expect_no "$tmp/out" "server received"

# The loop never closed: the finalizer runs at exit.
run "$O/progs/uv-finally-client-exit"
expect_status 0
expect_line "$tmp/out" "server received: goodbye"
expect_no "$tmp/err" "ERROR"

# exit(0) from inside a timer's callback, uv_run on the stack.
run "$O/progs/uv-finally-client-exit" callback
expect_status 0
expect_line "$tmp/err" "exit from the timer's callback"
expect_no "$tmp/out" "server received"
expect_line "$tmp/err" "    its finalizers did not run: exit was called \
from inside the loop's own callback"
exit 0
