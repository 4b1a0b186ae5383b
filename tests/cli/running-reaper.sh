# A report directory kept for processes still running when asyncleak ends
# is not left in TMPDIR for good: asyncleak names the process that removes
# it, a reaper in a session of its own, which removes it once they have
# ended; when one of them left a report of leaks there, the directory stays
# for it to be read (24 hours), and the reaper with it, unless the user
# removes it first.
. tests/cli/lib.sh

prog=$O/progs/uv-graceful-outside
[ -x "$prog" ] || fail "'$prog' is not built"

reapers=
trap 'for p in $reapers; do kill -KILL "$p" 2>/dev/null; done
      [ ! -s "$tmp/child" ] || kill -KILL "$(cat "$tmp/child")" 2>/dev/null
      rm -rf "$tmp"' EXIT

# kept COMMAND: runs asyncleak sh -c COMMAND, which leaves a child running
# whose pid it writes to $tmp/child; sets $dir and $reaper.
kept() {
  rm -f "$tmp/child"
  run "$ASYNCLEAK" sh -c "$1"
  expect_status 0
  child=$(cat "$tmp/child")
  grep -q "^asyncleak: process $child (.*) is still running" "$tmp/err" ||
    fail "the child is not said to be running: $(cat "$tmp/err")"
  line=$(grep "^asyncleak: '.*' is removed by process [0-9]* once they have \
ended, or 24 hours after this run when one of them leaves a report of \
leaks there\$" "$tmp/err") || fail "no word of the reaper: $(cat "$tmp/err")"
  dir=${line#asyncleak: \'}
  dir=${dir%%\'*}
  reaper=${line#* is removed by process }
  reaper=${reaper%% *}
  reapers="$reapers $reaper"
  [ -d "$dir" ] || fail "'$dir' was not kept"
  # Not in the run's session: Ctrl-C or timeout(1) would take it along.
  # (Its session from /proc: ps(1) hangs with a sanitizer preloaded.)
  [ "$(sed 's/.*) //' "/proc/$reaper/stat" | cut -d' ' -f4)" = "$reaper" ] ||
    fail "the reaper $reaper is not in a session of its own"
}

# A child that leaks nothing: once it has ended, the directory goes, and
# so does the reaper. It runs until the test ends it, however slow the
# machine: it must still be running when asyncleak reads the reports.
kept "sleep 60 </dev/null >/dev/null 2>&1 & echo \$! >$tmp/child"
kill -TERM "$child"
gone "$child" || fail "the child did not end"
gone "$reaper" || fail "the reaper $reaper did not end"
[ ! -e "$dir" ] || fail "'$dir' is still there: $(ls -A "$dir")"

# A child that leaks, ended by SIGTERM: its report stays for reading, and
# the reaper waits with it. How long cannot be waited for here: the check
# is made once the reaper has gone to sleep for it (while it waits for
# the child, it sleeps in poll()).
kept "$prog sleep </dev/null >/dev/null 2>&1 & echo \$! >$tmp/child"
# Once: a pid signalled again after its process ended may be another's.
kill -TERM "$child"
gone "$child" || fail "the child did not end"
i=0
until grep -qs '^@sum ' "$dir/$child"-*.report; do
  i=$((i + 1))
  [ $i -le 200 ] || fail "the child wrote no report"
  sleep 0.05
done
report_part "$dir/$child"-*.report txt >"$tmp/txt"
grep -q "ERROR: asyncleak: 1 handle left open" "$tmp/txt" ||
  fail "no report of the leak in '$dir'"
if [ -r "/proc/$reaper/wchan" ]; then
  i=0
  until [ "$(cat "/proc/$reaper/wchan")" = hrtimer_nanosleep ]; do
    i=$((i + 1))
    [ $i -le 200 ] || fail "the reaper $reaper did not wait for the report"
    sleep 0.05
  done
  grep -qs '^@txt ' "$dir/$child"-*.report ||
    fail "the report went with the child"
else
  echo "$test_name: no /proc/PID/wchan: the wait is not checked" >&2
fi
kill -0 "$reaper" 2>/dev/null || fail "the reaper ended"
# The user removes the directory: the reaper has nothing left to do.
rm -r "$dir"
gone "$reaper" || fail "the reaper $reaper outlived its directory"
exit 0
