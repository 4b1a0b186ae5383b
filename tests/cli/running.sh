# How asyncleak tells a process of the run that is still running from one
# that ended without a report, shown with report files a program writes
# itself (docs/report-format.md): a process with the pid and start time of
# a file's name is still running, and one with that pid and another start
# time was given the pid of a process that had ended. A file without a
# start time (its process could not read /proc) is judged by when it was
# last written: a process with its pid that started before is still
# running, one that started after is another. A zombie has ended; and so
# has a pid no process has. One that used a loop library and ended fails
# the run; the others are noted. Only the directory of a process still
# running is kept, and only once it has had a moment to end.
# The script runs without the runtime, which would note its children
# itself.
. tests/cli/lib.sh

cat >"$tmp/fake" <<'SCRIPT'
#!/bin/sh
dir=${ASYNCLEAK_OPTIONS##*report_dir=\'}
dir=${dir%\'}
cd "$1" || exit 1
# note NAME PID START: the report file of a process that ran NAME.
note() {
  printf 'pid=%s\nppid=%s\nforked=%s\nexe=/%s\n' "$2" $$ $$ "$1" \
    >"$dir/$2-$3.report"
}
# start NAME [START]: a process, noted as NAME, with its own start time
# unless told another.
start() {
  sleep 30 </dev/null >/dev/null 2>&1 &
  echo $! >"$1.pid"
  note "$1" $! "${2:-$(cut -d' ' -f22 "/proc/$!/stat")}"
}
start running
start reused 1
start running0 0
start reused0 0
touch -d '1 hour ago' "$dir/$(cat reused0.pid)-0.report"
# A child that ends after its parent became a program that never reaps.
sh -c 'sleep 0.2 & echo $! >zombie.pid; exec sleep 30' </dev/null \
  >/dev/null 2>&1 &
echo $! >zombie-parent.pid
tries=0
until [ -s zombie.pid ] &&
      [ "$(cut -d' ' -f3 "/proc/$(cat zombie.pid)/stat")" = Z ]; do
  tries=$((tries + 1))
  [ "$tries" -lt 100 ] || exit 1
  sleep 0.05
done 2>/dev/null
note zombie "$(cat zombie.pid)" "$(cut -d' ' -f22 "/proc/$(cat zombie.pid)/stat")"
# Above any pid the kernel gives; it used libuv.
note ended 4194304 5
echo uses=libuv >>"$dir/4194304-5.report"
SCRIPT
chmod 755 "$tmp/fake"

trap 'for f in running reused running0 reused0 zombie-parent; do
        [ -s "$tmp/$f.pid" ] && kill "$(cat "$tmp/$f.pid")" 2>/dev/null
      done; rm -rf "$tmp"' EXIT
run "$ASYNCLEAK" env -u LD_PRELOAD "$tmp/fake" "$tmp"
expect_status 125
set -- "$tmp"/asyncleak.*
[ $# -eq 1 ] && [ -d "$1" ] || fail "not one report directory kept: $*"
dir=$1
running=$(cat "$tmp/running.pid")
running_file=$(cd "$dir" && echo "$running"-*.report)
running0=$(cat "$tmp/running0.pid")
ended="left no report: it ended having used no loop library; nothing was \
lost"
expect_line "$tmp/err" "asyncleak: process $running (/running) is still \
running: when it exits it writes its report, if it leaks, to \
'$dir/$running_file'; that directory is kept"
expect_line "$tmp/err" "asyncleak: process $running0 (/running0) is still \
running: when it exits it writes its report, if it leaks, to \
'$dir/$running0-0.report'; that directory is kept"
for name in reused reused0 zombie; do
  expect_line "$tmp/err" "asyncleak: note: process $(cat "$tmp/$name.pid") \
(/$name) $ended"
done
expect_line "$tmp/err" "asyncleak: process 4194304 (/ended) used libuv and \
left no complete report: it was killed by a signal the runtime cannot \
catch or does not handle, its report did not finish in time, or it could \
not be written (a full disk, a file size limit)"
[ "$(grep -c "^asyncleak: \(note: \)\{0,1\}process " "$tmp/err")" -eq 6 ] ||
  fail "unexpected lines: $(cat "$tmp/err")"
# What was read is gone; what the running processes will write has room.
[ "$(ls "$dir" | sort)" = "$(printf '%s\n' "$running_file" \
  "$running0-0.report" | sort)" ] ||
  fail "the directory kept holds: $(ls "$dir")"

# A child that ends just after the program is given a moment: it is not
# said to be running, and no directory is kept.
rm -rf "$dir"
run "$ASYNCLEAK" sh -c 'sleep 0.05 & sleep 0.02'
expect_status 0
expect_no "$tmp/err" "process "
set -- "$tmp"/asyncleak.*
[ ! -e "$1" ] || fail "kept: $*"
exit 0
