# rxvt-unicode's daemon, urxvtd, carries its own copy of libev, built
# without EV_MULTIPLICITY and exported from the executable: its calls are
# bound inside it and never reach asyncleak, and the run must say so. The
# installed urxvtd is set-group-ID utmp, which as root puts the loader in
# secure mode (no LD_PRELOAD): the test runs a plain copy of it. urxvtd
# needs no X server to listen on its socket; it is stopped by SIGTERM, as
# a service manager stops it, and dies of it. Skipped, saying why, when
# rxvt-unicode is not installed (scripts/install-deps.sh leaves it out:
# it pulls in much of X).
. tests/cli/lib.sh

[ -x /usr/bin/urxvtd ] ||
  { echo "$test_name: skipped: rxvt-unicode is not installed"; exit 0; }

bg=
trap '[ -z "$bg" ] || { kill -KILL $bg 2>/dev/null; wait $bg; }
      rm -rf "$tmp"' EXIT

cp /usr/bin/urxvtd "$tmp/urxvtd" && chmod 0755 "$tmp/urxvtd" ||
  fail "cannot copy urxvtd"
nm -D --defined-only "$tmp/urxvtd" | grep -q ' ev_run$' ||
  fail "this urxvtd does not export libev's ev_run"

RXVT_SOCKET=$tmp/sock timeout -k 3 30 "$ASYNCLEAK" "$tmp/urxvtd" -q \
  >"$tmp/out" 2>"$tmp/err" </dev/null &
bg=$!
i=0
until [ -S "$tmp/sock" ]; do
  i=$((i + 1))
  [ $i -le 100 ] || fail "urxvtd made no socket within 10 s; stderr was:
$(cat "$tmp/err")"
  sleep 0.1
done
# SIGTERM to the command, which passes it on to urxvtd. (Not found with
# pgrep, which can hang with a sanitizer's runtime preloaded.)
al=$(cat "/proc/$bg/task/$bg/children" 2>/dev/null)
al=${al%% *}
[ -n "$al" ] || fail "no asyncleak under timeout $bg"
kill -TERM "$al"
status=0
wait $bg 2>/dev/null || status=$?
bg=
case $status in
  124 | 137) fail "urxvtd did not end on SIGTERM: $(cat "$tmp/err")" ;;
esac

# It died of the signal, which is its own status, and its copy is named.
expect_status 143
grep -qx "asyncleak: '$tmp/urxvtd' (pid [0-9]*) was killed by signal 15 \
(SIGTERM: Terminated)" "$tmp/err" || fail "urxvtd did not die of SIGTERM; \
stderr was:
$(cat "$tmp/err")"
grep -qx "asyncleak: process [0-9]* carries its own copy of libev, in \
'$tmp/urxvtd': asyncleak cannot watch it, and nothing made with it was \
checked" "$tmp/err" || fail "urxvtd's copy of libev was not named; stderr \
was:
$(cat "$tmp/err")"
expect_line "$tmp/err" "asyncleak: nothing was checked: '$tmp/urxvtd' \
carries its own copy of a loop library, which asyncleak cannot watch"
expect_no "$tmp/err" "no supported event loop library"
