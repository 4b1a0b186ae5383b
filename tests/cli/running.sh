# How asyncleak tells a process of the run that is still running from one
# that ended without a report, shown with <pid>.start files a program
# writes itself: a process with that pid that started before the file was
# written is still running; one that started after it was given the pid
# of a process that had ended; a zombie has ended; and so has a pid no
# process has. Only the directory of a process still running is kept, and
# only once it has had a moment to end.
# The script runs without the runtime, which would note its children
# itself.
. tests/cli/lib.sh

cat >"$tmp/fake" <<'SCRIPT'
#!/bin/sh
dir=${ASYNCLEAK_OPTIONS##*report_dir=\'}
dir=${dir%\'}
cd "$1" || exit 1
# start NAME: a process, noted as NAME.
start() {
  sleep 30 </dev/null >/dev/null 2>&1 &
  echo $! >"$1.pid"
  printf 'ppid=%s\nforked=%s\nexe=/%s\n' $$ $$ "$1" >"$dir/$!.start"
}
start running
start reused
touch -d '1 hour ago' "$dir/$(cat reused.pid).start"
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
printf 'ppid=1\nforked=1\nexe=/zombie\n' >"$dir/$(cat zombie.pid).start"
# Above any pid the kernel gives.
printf 'ppid=1\nforked=1\nexe=/ended\n' >"$dir/4194304.start"
SCRIPT
chmod 755 "$tmp/fake"

trap 'for f in running reused zombie-parent; do
        [ -s "$tmp/$f.pid" ] && kill "$(cat "$tmp/$f.pid")" 2>/dev/null
      done; rm -rf "$tmp"' EXIT
run "$ASYNCLEAK" env -u LD_PRELOAD "$tmp/fake" "$tmp"
expect_status 0
set -- "$tmp"/asyncleak.*
[ $# -eq 1 ] && [ -d "$1" ] || fail "not one report directory kept: $*"
dir=$1
running=$(cat "$tmp/running.pid")
ended="ended without a report: it was killed before it could write one, or \
executed a program asyncleak does not trace"
expect_line "$tmp/err" "asyncleak: process $running (/running) is still \
running: when it exits it writes its report, if it leaks, to \
'$dir/$running.txt'; that directory is kept"
reused=$(cat "$tmp/reused.pid")
zombie=$(cat "$tmp/zombie.pid")
expect_line "$tmp/err" "asyncleak: process $reused (/reused) $ended"
expect_line "$tmp/err" "asyncleak: process $zombie (/zombie) $ended"
expect_line "$tmp/err" "asyncleak: process 4194304 (/ended) $ended"
[ "$(grep -c "^asyncleak: process " "$tmp/err")" -eq 4 ] ||
  fail "unexpected lines: $(cat "$tmp/err")"
# What was read is gone; what the running process will write has room.
[ "$(ls "$dir")" = "$running.start" ] ||
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
