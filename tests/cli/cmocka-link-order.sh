# A harness linked with libuv (or libevent) before libasyncleak: its calls
# to the loop library go straight to it, and no check could see them.
# Every test then fails its setup, and asyncleak_check fails, saying so
# and naming the fix, instead of passing. The same programs linked the
# other way, or run under the asyncleak command (which preloads the
# runtime, putting it first), check as usual; a suite that calls no loop
# library passes whatever the order.
. tests/cli/lib.sh

unset LD_PRELOAD ASYNCLEAK_OPTIONS

for p in uv-cmocka-misordered ev-cmocka-misordered cmocka-noloop \
  check-order check-misordered uv-cmocka-isolated; do
  [ -x "$O/progs/$p" ] || fail "'$O/progs/$p' is not built"
done

# NEEDED entries in link order: the loop library first.
needed_first() {
  readelf -d "$O/progs/$1" |
    sed -n 's/.*(NEEDED).*\[\(.*\)\].*/\1/p' | grep -n "$2" | head -n 1 |
    cut -d: -f1
}
[ "$(needed_first uv-cmocka-misordered libuv)" -lt \
  "$(needed_first uv-cmocka-misordered libasyncleak)" ] ||
  fail "uv-cmocka-misordered is not linked with libuv first"

# Wrong order, libuv: each of the five tests fails its setup, with the
# reason and the fix.
run "$O/progs/uv-cmocka-misordered" clean
expect_status 5
grep -q "^asyncleak: libuv is linked before libasyncleak: the program's \
calls to libuv ('uv_[a-z_]*' binds to '/[^']*/libuv\.so[.0-9]*') bypass \
asyncleak, and no check can see them; link with -lasyncleak before -luv, \
or run under the asyncleak command$" "$tmp/err" ||
  fail "no reason for libuv: $(cat "$tmp/err")"
[ "$(grep -c 'link with -lasyncleak before -luv' "$tmp/err")" -eq 5 ] ||
  fail "expected the reason once for each test: $(cat "$tmp/err")"
[ "$(grep -c '^Could not run test: Test setup failed$' "$tmp/err")" -eq 5 ] ||
  fail "expected five failed setups: $(cat "$tmp/err")"
expect_no "$tmp/out" "[       OK ]"

# The same program under the asyncleak command: the runtime is preloaded,
# first in the order, and the suite passes.
run "$ASYNCLEAK" "$O/progs/uv-cmocka-misordered" clean
expect_status 0
expect_no "$tmp/err" "linked before libasyncleak"
[ "$(grep -c '^\[       OK \]' "$tmp/out")" -eq 5 ] ||
  fail "expected five tests to pass: $(cat "$tmp/out")"

# The right order: nothing to say.
run "$O/progs/uv-cmocka-isolated" clean
expect_status 0
expect_no "$tmp/err" "linked before libasyncleak"

# Wrong order, libevent.
run "$O/progs/ev-cmocka-misordered" clean
expect_status 4
grep -q "^asyncleak: libevent is linked before libasyncleak: the program's \
calls to libevent ('event_[a-z_]*' binds to '/[^']*libevent[^']*') bypass \
asyncleak, and no check can see them; link with -lasyncleak before -levent, \
or run under the asyncleak command$" "$tmp/err" ||
  fail "no reason for libevent: $(cat "$tmp/err")"
run "$ASYNCLEAK" "$O/progs/ev-cmocka-misordered" clean
expect_status 0
expect_no "$tmp/err" "linked before libasyncleak"

# A suite that calls no loop library, linked after both: it passes.
run "$O/progs/cmocka-noloop"
expect_status 0
expect_no "$tmp/err" "linked before libasyncleak"
[ "$(grep -c '^\[       OK \]' "$tmp/out")" -eq 2 ] ||
  fail "expected two tests to pass: $(cat "$tmp/out")"

# asyncleak_check_since outside cmocka: in the right order it finds the
# timer; in the wrong one it fails (ENOTSUP) rather than find nothing.
run "$O/progs/check-order"
expect_status 0
expect_line "$tmp/out" "check found 1"
expect_no "$tmp/err" "linked before libasyncleak"
run "$O/progs/check-misordered"
expect_status 1
expect_line "$tmp/out" "check failed: $(printf '%s' 'Operation not supported')"
grep -q "^asyncleak: libuv is linked before libasyncleak: .*; link with \
-lasyncleak before -luv, or run under the asyncleak command$" "$tmp/err" ||
  fail "no reason from the check: $(cat "$tmp/err")"
run "$ASYNCLEAK" "$O/progs/check-misordered"
expect_line "$tmp/out" "check found 1"
exit 0
