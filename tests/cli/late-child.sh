# A child that makes its report file only after its parent has exited and
# asyncleak has read the reports (tests/progs/uv-late-child.c). The
# parent names it in its own file as posix_spawn() returns, so asyncleak
# knows it is still running, keeps the directory, and the child's report
# of its leak reaches it. The child's runtime is held back by the test,
# not by timing: it starts once its standard input, a FIFO the test
# holds, is written to.
. tests/cli/lib.sh

prog=$O/progs/uv-late-child
[ -x "$prog" ] || fail "'$prog' is not built"

reapers=
trap 'exec 3>&-
      for p in $reapers; do kill -KILL "$p" 2>/dev/null; done
      rm -rf "$tmp"' EXIT

mkfifo "$tmp/hold" || fail "cannot make a FIFO"
exec 3<>"$tmp/hold"
run "$ASYNCLEAK" "$prog" spawn <&3
expect_status 0
child=$(sed -n 's/^parent: spawned \([0-9][0-9]*\)$/\1/p' "$tmp/out")
[ -n "$child" ] || fail "the program said: $(cat "$tmp/out")"
grep -q "^asyncleak: process $child (.*) is still running: when it exits \
it writes its report, if it leaks, to '.*/$child-\*\.report'; that \
directory is kept\$" "$tmp/err" ||
  fail "the child is not said to be running: $(cat "$tmp/err")"
line=$(grep "^asyncleak: '.*' is removed by process [0-9]* " "$tmp/err") ||
  fail "no word of the reaper: $(cat "$tmp/err")"
dir=${line#asyncleak: \'}
dir=${dir%%\'*}
reaper=${line#* is removed by process }
reaper=${reaper%% *}
reapers="$reapers $reaper"
[ -d "$dir" ] || fail "'$dir' was not kept"
! grep -q "no leaks" "$tmp/err" ||
  fail "the run is said clean with a child still running: $(cat "$tmp/err")"

# The child starts, leaks its timer and exits: its report is kept there.
echo go >&3
gone "$child" || fail "the child did not end"
set -- "$dir/$child"-*.report
[ -f "$1" ] || fail "the child wrote no report in '$dir': $(ls -A "$dir")"
grep -qs '^@sum ' "$1" || fail "the child's report is not complete"
report_part "$1" txt | grep -q "ERROR: asyncleak: 1 handle left open" ||
  fail "no report of the child's leak: $(cat "$1")"
exec 3>&-
rm -r "$dir"
gone "$reaper" || fail "the reaper $reaper outlived its directory"

# daemon(): its parent exits inside it, and the daemon is named as the
# child of that parent. It runs until the test lets it go.
exec 3<>"$tmp/hold"
run "$ASYNCLEAK" "$prog" daemon <&3
expect_status 0
daemon=$(sed -n "s/^asyncleak: process \([0-9][0-9]*\) (.*uv-late-child) \
is still running: .*/\1/p" "$tmp/err")
[ -n "$daemon" ] || fail "the daemon is not said to be running: $(cat "$tmp/err")"
line=$(grep "^asyncleak: '.*' is removed by process [0-9]* " "$tmp/err") ||
  fail "no word of the reaper: $(cat "$tmp/err")"
dir=${line#asyncleak: \'}
dir=${dir%%\'*}
reaper=${line#* is removed by process }
reaper=${reaper%% *}
reapers="$reapers $reaper"
echo go >&3
gone "$daemon" || fail "the daemon did not end"
set -- "$dir/$daemon"-*.report
report_part "$1" txt | grep -q "ERROR: asyncleak: 1 handle left open" ||
  fail "no report of the daemon's leak in '$dir': $(ls -A "$dir")"
exec 3>&-
rm -r "$dir"
gone "$reaper" || fail "the reaper $reaper outlived its directory"

# A child forked after its parent changed user cannot make its file: it
# says so through its parent's, and since its parent used libuv, which it
# carries, its lost report fails the run (tests/cli/fork-lost.sh).
if [ "$(id -u)" -ne 0 ]; then
  echo "$test_name: not root: a child forked after a change of user is not \
checked" >&2
  exit 0
fi
run "$ASYNCLEAK" "$prog" dropfork
expect_status 125
child=$(sed -n 's/^parent: child \([0-9][0-9]*\) ended$/\1/p' "$tmp/out")
[ -n "$child" ] || fail "the program said: $(cat "$tmp/out")"
grep -q "^asyncleak: process $child (.*uv-late-child) used libuv and left no \
complete report: it could not make its report file (Permission denied)" \
  "$tmp/err" || fail "the child is not named: $(cat "$tmp/err")"
! grep -q "no leaks" "$tmp/err" ||
  fail "the run is said clean: $(cat "$tmp/err")"
# The control: the same without the change of user is checked and clean.
run "$ASYNCLEAK" "$prog" fork
expect_status 0
grep -q "^asyncleak: no leaks: 1 loop(s), 1 handle(s) created, all closed\$" \
  "$tmp/err" || fail "the clean run: $(cat "$tmp/err")"
! grep -q "left no report" "$tmp/err" ||
  fail "a child said to be without a report: $(cat "$tmp/err")"
exit 0
