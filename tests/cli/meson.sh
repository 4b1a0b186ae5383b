# docs/build-systems.md, Meson: the meson.build it quotes is
# the one in examples/timers/, and its commands, run as written with the build
# tree's asyncleak first in PATH, fail the test that forgets a timer, with
# the report in Meson's log, and pass the one that closes it; the same
# tests without the wrapper both pass, and the file's test setup does what
# --wrapper does.
. tests/cli/lib.sh

unset ASYNCLEAK_OPTIONS
command -v meson >/dev/null 2>&1 ||
  fail "meson is not installed (scripts/install-deps.sh)"

work=$tmp/timers
mkdir "$work" && cp examples/timers/* "$work/"
doc_block docs/build-systems.md Meson meson >"$tmp/doc.meson"
[ -s "$tmp/doc.meson" ] || fail "no meson block in docs/build-systems.md"
diff "$tmp/doc.meson" examples/timers/meson.build >"$tmp/diff" ||
  fail "docs/build-systems.md and examples/timers/meson.build differ:
$(cat "$tmp/diff")"
doc_block docs/build-systems.md Meson sh >"$tmp/commands"
grep -q '^meson test .*--wrapper' "$tmp/commands" ||
  fail "no meson test --wrapper in the document"

bin=$(cd "$(dirname "$ASYNCLEAK")" && pwd)
# results LOG: "name result" for each test of Meson's JSON log.
results() {
  sed -n 's/.*"name": "\([^"]*\)".*"result": "\([A-Z]*\)".*/\1 \2/p' "$1" |
    sort
}
expect_results() {
  printf '%s\n' "timer-closed OK" "timer-forgotten $2" >"$tmp/want"
  results "$1" >"$tmp/got"
  cmp -s "$tmp/want" "$tmp/got" ||
    fail "$3: expected $(tr '\n' ';' <"$tmp/want"), got \
$(tr '\n' ';' <"$tmp/got"): $(cat "$tmp/out")"
}

run PATH="$bin:$PATH" sh -c 'cd "$1" && . "$2"' sh "$work" "$tmp/commands"
[ "$status" -ne 0 ] || fail "meson test passed a leaking test: $(cat "$tmp/out")"
logs=$work/build/meson-logs
expect_results "$logs/testlog-asyncleak.json" FAIL "--wrapper asyncleak"
grep -q "^command: .*asyncleak $work/build/timer forget\$" \
  "$logs/testlog-asyncleak.txt" ||
  fail "no run of timer under asyncleak in the log: \
$(cat "$logs/testlog-asyncleak.txt")"
expect_line "$logs/testlog-asyncleak.txt" "SUMMARY: asyncleak: 1 handle left \
open (1 uv_timer_t) from 1 creation site; 1 of 1 loop not closed"
expect_frame0 "$logs/testlog-asyncleak.txt" start_timer 'timer\.c'

# Without the wrapper, nothing fails: the failure was asyncleak's.
run PATH="$bin:$PATH" meson test -C "$work/build"
expect_status 0
expect_results "$logs/testlog.json" OK "without the wrapper"

rm -f "$logs"/testlog-asyncleak.*
run PATH="$bin:$PATH" meson test -C "$work/build" --setup=asyncleak
[ "$status" -ne 0 ] || fail "--setup=asyncleak passed a leaking test"
expect_results "$logs/testlog-asyncleak.json" FAIL "--setup=asyncleak"
exit 0
