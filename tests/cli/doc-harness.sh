# The cmocka suite of docs/harness.md, taken from the document as a user
# would copy it, built with the document's own command against this tree
# (pkg-config finds the build's asyncleak-uninstalled.pc first) and run:
# two tests pass, the one that forgets a timer fails, and its report
# names it; the exit report of the linked runtime follows.
. tests/cli/lib.sh

unset ASYNCLEAK_OPTIONS

# The first C block of the document.
awk '/^```c$/ { inside = 1; next } /^```$/ { if (inside) exit } inside' \
  docs/harness.md >"$tmp/leaks.c"
grep -q 'int main' "$tmp/leaks.c" || fail "no suite found in docs/harness.md"
case $O in
  /*) build=$O ;;
  *) build=$PWD/$O ;;
esac
[ -f "$build/asyncleak-uninstalled.pc" ] ||
  fail "no $O/asyncleak-uninstalled.pc"
command=$(sed -n 's/^    \(cc .*pkg-config.*\)$/\1/p' docs/harness.md)
[ -n "$command" ] || fail "no build command found in docs/harness.md"
(cd "$tmp" && PKG_CONFIG_PATH=$build sh -c "$command") 2>"$tmp/cc.err" ||
  fail "'$command' fails: $(cat "$tmp/cc.err")"

run LD_LIBRARY_PATH="$build/lib" "$tmp/leaks"
expect_status 1
expect_line "$tmp/out" "[       OK ] test_timer_closed"
expect_line "$tmp/out" "[       OK ] test_stat_in_flight"
expect_line "$tmp/err" "[  ERROR   ] test_forgotten_timer"
expect_line "$tmp/err" "1 handle of type uv_timer_t, created at:"
expect_frame0 "$tmp/err" test_forgotten_timer 'leaks\.c'
expect_line "$tmp/err" "asyncleak: set aside for the tests that follow: 1 handle"
[ "$(grep -c 'ERROR: asyncleak: 1 handle left open$' "$tmp/err")" -eq 1 ] ||
  fail "expected one failed check: $(cat "$tmp/err")"
# The timer is still open when the suite exits: the runtime, linked in,
# says so too.
expect_line "$tmp/err" "SUMMARY: asyncleak: 1 handle left open (1 uv_timer_t) \
from 1 creation site; 1 of 1 loop not closed"
exit 0
