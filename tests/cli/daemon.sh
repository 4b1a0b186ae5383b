# A daemon's double fork (tests/progs/uv-daemon.c), and daemon(3)
# (tests/progs/uv-daemon-call.c). The double fork: the program forks, the
# child calls setsid(), forks the daemon and exits, and the program exits
# while the daemon runs on. asyncleak does not wait for the daemon: it
# returns the program's status, prints the reports of the processes that
# have ended, and names the one still running and where its report will
# be; that directory is kept, and the daemon writes its report there when
# it exits. A reaper removes it once the daemon has ended, unless the
# daemon left a report of leaks there (tests/cli/running-reaper.sh).
# Each daemon runs until the test releases it, at most 10 s.
. tests/cli/lib.sh

reapers=
trap 'for p in $reapers; do kill -KILL "$p" 2>/dev/null; done
      rm -rf "$tmp"' EXIT

prog=$O/progs/uv-daemon
exe=$(cd "$(dirname "$prog")" && pwd -P)/uv-daemon
line=$(grep -n '/\* @daemon \*/' tests/progs/uv-daemon.c | cut -d: -f1)

# expect_leak FILE: the daemon's report, with its own timer only.
expect_leak() {
  grep -q "^==$daemon==ERROR: asyncleak: 1 handle left open at exit\$" "$1" &&
    grep -q "^    #0 0x[0-9a-f]* in start_daemon_timer .*uv-daemon.c:$line\$" \
      "$1" || fail "the daemon's report: $(cat "$1")"
}

# wait_until TEST...: runs TEST every 0.1 s until it succeeds, for 5 s at
# most.
wait_until() {
  tries=0
  until "$@"; do
    tries=$((tries + 1))
    [ "$tries" -lt 50 ] || fail "still not true after 5 s: $*"
    sleep 0.1
  done
}

# start STATE ARGS...: runs asyncleak with ARGS (its flags, the program and
# its arguments), the daemon's state in STATE; sets $daemon to the
# daemon's pid and $dir to the report directory that was kept.
start() {
  state=$1
  shift
  mkdir "$state"
  rm -rf "$tmp"/asyncleak.*
  run "$ASYNCLEAK" "$@"
  started="program: daemon \([0-9][0-9]*\) started, its parent exited with"
  daemon=$(sed -n "s/^$started status 0\$/\\1/p" "$tmp/out")
  [ -n "$daemon" ] || fail "the program said: $(cat "$tmp/out")"
  set -- "$tmp"/asyncleak.*
  [ $# -eq 1 ] && [ -d "$1" ] ||
    fail "not one report directory kept: $*; stderr: $(cat "$tmp/err")"
  dir=$1
  reaper=$(sed -n "s/^asyncleak: '.*' is removed by process \([0-9]*\) .*/\1/p" \
    "$tmp/err" "$tmp/log.txt" 2>/dev/null)
  [ -n "$reaper" ] || fail "no reaper named: $(cat "$tmp/err")"
  reapers="$reapers $reaper"
  # asyncleak returned with the daemon still running, which has written
  # nothing yet.
  [ ! -s "$state/daemon.log" ] ||
    fail "the daemon ended first: $(cat "$state/daemon.log")"
  set -- "$dir/$daemon"-*.report
  [ "$(ls "$dir")" = "${1##*/}" ] ||
    fail "the directory kept holds: $(ls "$dir")"
  file=$1
  ! grep -q '^@' "$file" || fail "the daemon reported: $(cat "$file")"
}

# What asyncleak says of the daemon.
said() {
  echo "asyncleak: process $daemon ($exe) is still running: when it exits \
it writes its report, if it leaks, to '$file'; that directory is kept"
  echo "asyncleak: '$dir' is removed by process $reaper once they have ended, \
or 24 hours after this run when one of them leaves a report of leaks there"
}

# It is released, and its report lands in the directory kept.
end_daemon() {
  touch "$1/release"
  wait_until grep -qx "daemon $daemon: done" "$1/daemon.log"
  # It says it is done before it exits, and reports as it exits.
  wait_until grep -q '^@sum ' "$file"
  report_part "$file" txt >"$1/txt"
  report_part "$file" sum >"$1/sum"
  # The report of a leak stays for the user, and the reaper with it.
  kill -0 "$reaper" 2>/dev/null || fail "the reaper $reaper is gone"
  [ "$(cat "$1/daemon.log")" = "daemon $daemon: done" ] ||
    fail "the daemon said: $(cat "$1/daemon.log")"
}

# A daemon that leaks. Nothing else did, but the run is not said to be
# clean: what the daemon leaks is not known yet.
start "$tmp/leak" "$prog" "$tmp/leak" leak
expect_status 0
[ "$(cat "$tmp/err")" = "$(said)" ] ||
  fail "asyncleak said: $(cat "$tmp/err")"
end_daemon "$tmp/leak"
expect_leak "$tmp/leak/txt"
grep -qx "handles_open=1" "$tmp/leak/sum" ||
  fail "the daemon's totals: $(cat "$file")"

# A clean daemon: no report of a leak, and once it has ended the reaper
# removes the directory, and ends.
start "$tmp/clean" "$prog" "$tmp/clean" clean
expect_status 0
[ "$(cat "$tmp/err")" = "$(said)" ] ||
  fail "asyncleak said: $(cat "$tmp/err")"
touch "$tmp/clean/release"
wait_until grep -qx "daemon $daemon: done" "$tmp/clean/daemon.log"
wait_until [ ! -e "$dir" ]
wait_until sh -c "! kill -0 $reaper 2>/dev/null"

# The program's own status, and the line in the log file.
start "$tmp/log" --log-file="$tmp/log.txt" "$prog" "$tmp/log" leak 5
expect_status 5
[ ! -s "$tmp/err" ] || fail "stderr has: $(cat "$tmp/err")"
[ "$(cat "$tmp/log.txt")" = "$(said)" ] ||
  fail "the log file has: $(cat "$tmp/log.txt")"
end_daemon "$tmp/log"
expect_leak "$tmp/log/txt"

# The user removed the directory before the daemon ended: the daemon says
# where its report could not go, and ends as it would have.
start "$tmp/gone" "$prog" "$tmp/gone" leak
rm -r "$dir"
touch "$tmp/gone/release"
wait_until grep -qx "daemon $daemon: done" "$tmp/gone/daemon.log"
grep -q "$dir/$daemon" "$tmp/gone/daemon.log" ||
  fail "the daemon said: $(cat "$tmp/gone/daemon.log")"
[ ! -e "$dir" ] || fail "'$dir' was made again"

# daemon(3) (tests/progs/uv-daemon-call.c): the parent ends at once, from
# inside libc, and the child carries on with the timer made before. The
# timer is the daemon's to report, once; the parent has nothing left.
prog=$O/progs/uv-daemon-call
exe=$(cd "$(dirname "$prog")" && pwd -P)/uv-daemon-call
line=$(grep -n '/\* @carried \*/' tests/progs/uv-daemon-call.c | cut -d: -f1)

# call_start STATE leak|clean: as start, for uv-daemon-call, whose
# daemon tells its pid in STATE/daemon.pid.
call_start() {
  mkdir "$1"
  rm -rf "$tmp"/asyncleak.*
  run "$ASYNCLEAK" "$prog" "$1" "$2"
  expect_status 0
  wait_until test -s "$1/daemon.pid"
  daemon=$(cat "$1/daemon.pid")
  set -- "$tmp"/asyncleak.*
  [ $# -eq 1 ] && [ -d "$1" ] ||
    fail "not one report directory kept: $*; stderr: $(cat "$tmp/err")"
  dir=$1
  reaper=$(sed -n "s/^asyncleak: '.*' is removed by process \([0-9]*\) .*/\1/p" \
    "$tmp/err")
  [ -n "$reaper" ] || fail "no reaper named: $(cat "$tmp/err")"
  reapers="$reapers $reaper"
  # Only the daemon's file: the parent's, with nothing in it, is gone.
  set -- "$dir/$daemon"-*.report
  [ "$(ls "$dir")" = "${1##*/}" ] ||
    fail "the directory kept holds: $(ls "$dir")"
  file=$1
  # Nothing of the parent's: no report, none missing.
  [ "$(cat "$tmp/err")" = "$(said)" ] ||
    fail "asyncleak said: $(cat "$tmp/err")"
}

call_start "$tmp/call-leak" leak
end_daemon "$tmp/call-leak"
grep -q "^==$daemon==ERROR: asyncleak: 1 handle left open at exit\$" \
  "$tmp/call-leak/txt" &&
  grep -q "^    #0 0x[0-9a-f]* in make_carried_timer .*uv-daemon-call.c:$line\$" \
    "$tmp/call-leak/txt" ||
  fail "the daemon's report: $(cat "$tmp/call-leak/txt")"
grep -qx "handles_open=1" "$tmp/call-leak/sum" ||
  fail "the daemon's totals: $(cat "$file")"

# The control: the daemon closes the timer it was handed. No report of a
# leak, and the reaper removes the directory.
call_start "$tmp/call-clean" clean
touch "$tmp/call-clean/release"
wait_until grep -qx "daemon $daemon: done" "$tmp/call-clean/daemon.log"
wait_until [ ! -e "$dir" ]
exit 0
