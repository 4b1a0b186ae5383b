# Colour in the text report only on a terminal, never with NO_COLOR set,
# and as --color says.
. tests/cli/lib.sh

prog=$O/progs/uv-timer-leak
esc=$(printf '\033')

# on_tty COMMAND...: runs it with a terminal for its output, into $tmp/tty.
on_tty() {
  cmd=
  for a in "$@"; do
    cmd="$cmd '$a'"
  done
  status=0
  timeout -k 5 60 script -qec "$cmd" /dev/null >"$tmp/tty" 2>&1 ||
    status=$?
}

command -v script >/dev/null || fail "script(1) is not installed"

on_tty "$ASYNCLEAK" "$prog"
expect_status 23
grep -q "${esc}\[1;31m==[0-9]*==ERROR: asyncleak: 1 handle left open" \
  "$tmp/tty" || fail "no colour on a terminal: $(cat -v "$tmp/tty")"

on_tty env NO_COLOR=1 "$ASYNCLEAK" "$prog"
expect_status 23
grep -q "ERROR: asyncleak: 1 handle left open" "$tmp/tty" ||
  fail "no report under NO_COLOR: $(cat -v "$tmp/tty")"
! grep -q "$esc" "$tmp/tty" || fail "colour despite NO_COLOR: $(cat -v "$tmp/tty")"

on_tty "$ASYNCLEAK" --color=never "$prog"
! grep -q "$esc" "$tmp/tty" || fail "colour despite --color=never"

on_tty env ASYNCLEAK_OPTIONS=color=never "$ASYNCLEAK" "$prog"
! grep -q "$esc" "$tmp/tty" || fail "colour despite color=never"

# Not a terminal: none, unless asked for.
run "$ASYNCLEAK" "$prog"
expect_status 23
! grep -q "$esc" "$tmp/err" || fail "colour in a pipe: $(cat -v "$tmp/err")"
run "$ASYNCLEAK" --color=always "$prog"
expect_status 23
grep -q "${esc}\[1mSUMMARY:${esc}\[0m" "$tmp/err" ||
  fail "no colour with --color=always: $(cat -v "$tmp/err")"

# The runtime on its own: the same rules, on its stderr. What is preloaded
# already (a sanitizer's runtime) stays first.
preload=${LD_PRELOAD:+$LD_PRELOAD:}$O/lib/libasyncleak.so
on_tty env LD_PRELOAD="$preload" "$prog"
grep -q "$esc" "$tmp/tty" || fail "the runtime alone gave no colour on a terminal"
on_tty env NO_COLOR=1 LD_PRELOAD="$preload" "$prog"
! grep -q "$esc" "$tmp/tty" || fail "the runtime alone ignored NO_COLOR"

run "$ASYNCLEAK" --color=sometimes "$prog"
expect_status 125
expect_line "$tmp/err" "asyncleak: invalid value 'sometimes' for --color"
exit 0
