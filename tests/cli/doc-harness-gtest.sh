# The GTest suite of docs/harness.md ("GLib and GTest"), taken from the
# document as a user would copy it, built and run with the document's own
# commands against this tree (pkg-config finds the build's
# asyncleak-uninstalled.pc first): two tests are "ok", the one that
# forgets a timeout is "not ok" and its report names it; the exit report
# of the linked runtime follows.
. tests/cli/lib.sh

unset ASYNCLEAK_OPTIONS

pkg-config --exists glib-2.0 || {
  echo "skipped: GLib's development files (glib-2.0.pc) are not installed"
  exit 77
}
doc_block docs/harness.md "GLib and GTest" c >"$tmp/leaks-gtest.c"
grep -q 'g_test_run' "$tmp/leaks-gtest.c" ||
  fail "no suite found in docs/harness.md"
doc_block docs/harness.md "GLib and GTest" sh >"$tmp/commands"
build_cmd=$(sed -n 's/^\(cc .*pkg-config.*\)$/\1/p' "$tmp/commands")
run_cmd=$(sed -n 's/^\(\.\/leaks-gtest.*\)$/\1/p' "$tmp/commands")
[ -n "$build_cmd" ] && [ -n "$run_cmd" ] ||
  fail "no build or run command found in docs/harness.md"
case $O in
  /*) build=$O ;;
  *) build=$PWD/$O ;;
esac
[ -f "$build/asyncleak-uninstalled.pc" ] ||
  fail "no $O/asyncleak-uninstalled.pc"
(cd "$tmp" && PKG_CONFIG_PATH=$build sh -c "$build_cmd") 2>"$tmp/cc.err" ||
  fail "'$build_cmd' fails: $(cat "$tmp/cc.err")"

run LD_LIBRARY_PATH="$build/lib" sh -c "cd '$tmp' && $run_cmd"
expect_status 1
expect_line "$tmp/out" "ok 1 /leaks/timeout-done"
expect_line "$tmp/out" "ok 2 /leaks/idle-in-flight"
expect_line "$tmp/out" \
  "not ok 3 /leaks/forgotten-timeout - 1 source(s) left attached"
[ "$(grep -c '^not ok' "$tmp/out")" -eq 1 ] ||
  fail "expected one failed test: $(cat "$tmp/out")"
expect_line "$tmp/err" "1 handle of type timeout source, created at:"
expect_frame0 "$tmp/err" test_forgotten_timeout 'leaks-gtest\.c'
grep -q ' attached: every 5 s$' "$tmp/err" ||
  fail "no interval in the report: $(cat "$tmp/err")"
expect_line "$tmp/err" \
  "asyncleak: set aside for the tests that follow: 1 handle (1 stopped)"
[ "$(grep -c 'ERROR: asyncleak: 1 handle left open$' "$tmp/err")" -eq 1 ] ||
  fail "expected one failed check: $(cat "$tmp/err")"
# The timeout is still attached when the suite exits: the runtime, linked
# in, says so too.
expect_line "$tmp/err" "SUMMARY: asyncleak: 1 handle left open (1 timeout source) \
from 1 creation site; 1 of 1 loop not closed"
exit 0
