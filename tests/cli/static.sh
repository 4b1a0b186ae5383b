# A statically linked program has no loader to preload the runtime.
. tests/cli/lib.sh

prog="$O/progs/static-hello"
[ -x "$prog" ] || fail "'$prog' is not built"

run "$ASYNCLEAK" "$prog"
expect_status 125
expect_line "$tmp/err" "asyncleak: '$prog' is statically linked: the runtime \
cannot be loaded into it"
[ ! -s "$tmp/out" ] || fail "the program ran: $(cat "$tmp/out")"
