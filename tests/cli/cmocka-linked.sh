# The cmocka suite of tests/progs/uv-cmocka.c run directly, linked with
# libasyncleak and nothing preloaded: the fixtures work the same, only the
# leaking test fails, and its report names the creating function.
. tests/cli/lib.sh

unset LD_PRELOAD ASYNCLEAK_OPTIONS

[ -x "$O/progs/uv-cmocka" ] || fail "'$O/progs/uv-cmocka' is not built"

run "$O/progs/uv-cmocka"
expect_status 2
expect_line "$tmp/err" "[  ERROR   ] test_leaky"
expect_line "$tmp/out" "[       OK ] test_drained"
expect_line "$tmp/out" "after work: -125"
expect_line "$tmp/err" "1 handle of type uv_timer_t, created at:"
expect_frame0 "$tmp/err" start_leaky_timer 'uv-cmocka\.c'
[ "$(grep -c 'ERROR: asyncleak' "$tmp/err")" -eq 1 ] ||
  fail "expected one failed check: $(cat "$tmp/err")"
expect_no "$tmp/err" "known_leak"
expect_line "$tmp/out" "[  FAILED  ] test_assert_in_callback"
[ "$(grep -c '^\[       OK \]' "$tmp/out")" -eq 6 ] ||
  fail "expected six tests to pass: $(cat "$tmp/out")"
exit 0
