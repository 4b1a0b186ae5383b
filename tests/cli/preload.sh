# The runtime is appended to LD_PRELOAD: what the user preloads stays, first.
. tests/cli/lib.sh

# The soname's link, in the canonical directory.
runtime=$(readlink -f "$(dirname "$ASYNCLEAK")/../lib")/libasyncleak.so.0
[ -f "$runtime" ] || fail "no runtime beside '$ASYNCLEAK'"
# Any library the shell loads anyway will do as the user's.
lib=$(ldd /bin/sh | sed -n 's|.*=> \(/[^ ]*\) .*|\1|p' | head -n 1)
[ -f "$lib" ] || fail "no library found in 'ldd /bin/sh'"

show='echo "$LD_PRELOAD"'

# A sanitizer build runs the tests with its runtime preloaded already; it
# must stay first, so the user's library goes after it.
mine="${LD_PRELOAD:+$LD_PRELOAD:}$lib"
run LD_PRELOAD="$mine" "$ASYNCLEAK" sh -c "$show"
expect_status 0
expect_line "$tmp/out" "$mine:$runtime"

[ -z "${LD_PRELOAD:-}" ] || exit 0

run LD_PRELOAD= "$ASYNCLEAK" sh -c "$show"
expect_status 0
expect_line "$tmp/out" "$runtime"

run -u LD_PRELOAD "$ASYNCLEAK" sh -c "$show"
expect_status 0
expect_line "$tmp/out" "$runtime"
