# Text the program controls reaches the reader escaped: no terminal escape
# sequence, and no line of its own (a forged SUMMARY or ==PID== line), in
# the text report, in the command's messages, or in the records the
# command reads (a tab or newline there would move the fields of the JSON
# report).
. tests/cli/lib.sh

esc=$(printf '\033')
prog="$O/progs/uv-req-escape"
[ -x "$prog" ] || fail "'$prog' is not built"

# no_controls FILE: FILE holds no ESC byte, and no line forged by the
# program.
no_controls() {
  ! grep -q "$esc" "$1" || fail "an ESC byte in $(basename "$1"):
$(cat -v "$1")"
  ! grep -q '^==1== SUMMARY' "$1" || fail "a forged line in $(basename "$1"):
$(cat -v "$1")"
}

# A path with newlines, a forged SUMMARY line and a screen clear, pending.
run "$ASYNCLEAK" --json="$tmp/report.json" "$prog"
expect_status 23
no_controls "$tmp/err"
no_controls "$tmp/out"
grep -qF "uv_fs_open '/nonexistent/x\\n==1== SUMMARY: asyncleak: 0 handles \
left open\\n\\x1b[2J'" "$tmp/err" || fail "no escaped path in:
$(cat -v "$tmp/err")"
[ "$(grep -c '^SUMMARY' "$tmp/err")" -eq 1 ] ||
  fail "more than one SUMMARY line:
$(cat -v "$tmp/err")"
python3 tests/cli/check-formats.py json "$tmp/report.json" \
  docs/report.schema.json || fail "the JSON report is not valid"

# Negative control: the loop runs, the open completes, nothing is said.
run "$ASYNCLEAK" "$prog" clean
expect_status 0
expect_no "$tmp/err" "SUMMARY"

# A source file named with a tab, a newline, a forged line and an escape
# sequence: its name is in the debug information, so in every frame of
# the text report and of the records.
name=$(printf 'we\tird\n==1== SUMMARY: asyncleak: 0 handles left open\n\033[2J')
src="$tmp/$name.c"
cat >"$src" <<'PROG'
#include <uv.h>
int main(void) {
  static uv_timer_t timer;
  uv_timer_init(uv_default_loop(), &timer); /* line 4 */
  return 0;
}
PROG
cc -std=gnu11 -O0 -g -o "$tmp/weird" "$src" -luv ||
  fail "cannot build the program"
run "$ASYNCLEAK" --json="$tmp/weird.json" "$tmp/weird"
expect_status 23
no_controls "$tmp/err"
grep -q '^    #0 0x[0-9a-f]* in main .*we\\tird\\n==1== SUMMARY: asyncleak: 0 handles left open\\n\\x1b\[2J\.c:4$' \
  "$tmp/err" || fail "no escaped file name in frame #0:
$(cat -v "$tmp/err")"
no_controls "$tmp/weird.json"
python3 tests/cli/check-formats.py json "$tmp/weird.json" \
  docs/report.schema.json || fail "the JSON report is not valid"
# The fields after the file's are where they belong: its line, its module.
frame=$(python3 tests/cli/check-formats.py eval "$tmp/weird.json" \
  "(lambda f: (f['function'], f['line'], f['module'], \
  f['file'].endswith('\\\\x1b[2J.c')))(d['processes'][0]['leaks'][0]['frames'][0])")
[ "$frame" = '["main", 4, "weird", true]' ] ||
  fail "frame #0 in the JSON report is $frame"

# The command's own messages: a name with an escape sequence.
run "$ASYNCLEAK" "./no$esc[2Jsuch"
expect_status 127
no_controls "$tmp/err"
expect_line "$tmp/err" "asyncleak: './no\\x1b[2Jsuch': command not found"
