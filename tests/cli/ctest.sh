# docs/build-systems.md, CTest: the CMakeLists.txt it quotes is
# the one in examples/timers/, and its commands, run as written with the build
# tree's asyncleak first in PATH, fail the test that forgets a timer, with
# the report in CTest's log, and pass the one that closes it.
. tests/cli/lib.sh

unset ASYNCLEAK_OPTIONS
command -v cmake >/dev/null 2>&1 ||
  fail "cmake is not installed (scripts/install-deps.sh)"

work=$tmp/timers
mkdir "$work" && cp examples/timers/* "$work/"
doc_block docs/build-systems.md CTest cmake >"$tmp/doc.cmake"
[ -s "$tmp/doc.cmake" ] || fail "no cmake block in docs/build-systems.md"
diff "$tmp/doc.cmake" examples/timers/CMakeLists.txt >"$tmp/diff" ||
  fail "docs/build-systems.md and examples/timers/CMakeLists.txt differ:
$(cat "$tmp/diff")"
doc_block docs/build-systems.md CTest sh >"$tmp/commands"
grep -q '^ctest ' "$tmp/commands" || fail "no ctest command in the document"

bin=$(cd "$(dirname "$ASYNCLEAK")" && pwd)
run PATH="$bin:$PATH" sh -c 'cd "$1" && . "$2"' sh "$work" "$tmp/commands"
[ "$status" -ne 0 ] || fail "ctest passed a leaking test: $(cat "$tmp/out")"
grep -q "$bin/asyncleak" "$work/build/CTestTestfile.cmake" ||
  fail "the tests do not run the build tree's asyncleak: \
$(cat "$work/build/CTestTestfile.cmake")"
grep -Eq 'Test +#[0-9]+: timer-closed \.+ +Passed' "$tmp/out" ||
  fail "timer-closed did not pass: $(cat "$tmp/out")"
grep -Eq 'Test +#[0-9]+: timer-forgotten \.+\*+Failed' "$tmp/out" ||
  fail "timer-forgotten did not fail: $(cat "$tmp/out")"
log=$work/build/Testing/Temporary/LastTest.log
expect_line "$log" "SUMMARY: asyncleak: 1 handle left open (1 uv_timer_t) \
from 1 creation site; 1 of 1 loop not closed"
expect_frame0 "$log" start_timer 'timer\.c'
[ "$(grep -c '^SUMMARY: asyncleak:' "$log")" -eq 1 ] ||
  fail "expected one report, from timer-forgotten: $(cat "$log")"
exit 0
