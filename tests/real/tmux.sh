# tmux, which runs on libevent 2.1 (libevent_core), under asyncleak. The
# first client forks the server, which daemonizes (fork, then daemon()), so
# asyncleak returns with the client's report and names the server as still
# running, with the report directory it keeps; the server writes its report
# there when kill-server ends it. tmux must behave as it does alone: the
# session is made, a second client sees it, kill-server ends the server.
#
# What is left open is events in tmux's own memory (event_set,
# signal_set) that it never deletes before exit(): in each process the
# eight signal events of proc_set_signals (SIGINT, SIGHUP, SIGCHLD,
# SIGCONT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH), and the read event of a
# client's connection to the server, or of the server's listening socket
# and its tidy timer. The server's base is the one the first client made
# before it forked; the server calls event_reinit on it, which makes it
# the server's: its report lists it, never closed.
. tests/cli/lib.sh

command -v tmux >/dev/null 2>&1 ||
  fail "tmux is not installed (scripts/install-deps.sh)"

unset TMUX TERM
HOME=$tmp TMUX_TMPDIR=$tmp SHELL=/bin/sh
export HOME TMUX_TMPDIR SHELL
sock=
server=
pane=
running=
# Whatever happens, no server and no pane are left behind: kill-server on
# our socket, then, after 2 s, SIGKILL for what still runs of the
# processes the first run named as running, or the second one named.
# shellcheck disable=SC2317 # run by the trap
cleanup() {
  if [ -n "$sock" ] && [ -S "$sock" ]; then
    timeout -k 2 5 tmux -S "$sock" kill-server >/dev/null 2>&1
  fi
  for p in $server $running; do
    i=0
    while kill -0 "$p" 2>/dev/null && [ "$i" -lt 20 ]; do
      i=$((i + 1))
      sleep 0.1
    done
    kill -KILL "$p" 2>/dev/null
  done
  [ -z "$pane" ] || kill -KILL -- "-$pane" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

# check_client FILE PID: FILE holds asyncleak's output for tmux client PID,
# which exited 0 with its signal events and the read event of its
# connection to the server.
check_client() {
  grep -qx "==$2==ERROR: asyncleak: 9 handles left open at exit" "$1" ||
    fail "no report of the client $2: $(cat "$1")"
  for sig in 1 2 10 12 15 17 18 28; do
    grep -qx "  0x[0-9a-f]* on loop 1, thread $2 (main), added: signal $sig, persistent" "$1" ||
      fail "no signal $sig event in the client's report: $(cat "$1")"
  done
  [ "$(grep -c "^  0x[0-9a-f]* on loop 1, thread $2 (main), added: fd [0-9]* read\$" "$1")" -eq 1 ] ||
    fail "not one read event in the client's report: $(cat "$1")"
  [ "$(grep -cx "1 handle of type event (added), created at:" "$1")" -eq 9 ] ||
    fail "not 9 groups in the client's report: $(cat "$1")"
  expect_line "$1" "Loops (libevent): 1 seen, 0 closed, 1 not closed:"
  expect_line "$1" "SUMMARY: asyncleak: 9 handles left open (9 event (added)) from 9 creation sites; 1 of 1 loop not closed"
  expect_line "$1" "asyncleak: 9 handle(s) left open in 1 process(es)"
  expect_no "$1" "killed by signal"
  expect_no "$1" "no supported event loop"
  expect_no "$1" "finding"
}

# session NAME [FLAG]: the whole run, on the socket $tmp/NAME, each
# client under asyncleak with FLAG if given: the session is made, a
# second client sees it, kill-server ends the server, and the reports
# are checked.
session() {
  sock=$tmp/$1
  server=
  pane=
  running=
  flags=${2:-}
  # The first client: it starts the server and the session, and exits 0
  # (asyncleak's 23: it leaked). The server and the pane's processes run on.
  # shellcheck disable=SC2086 # no FLAG is no word
  run "$ASYNCLEAK" $flags tmux -S "$sock" -f /dev/null new-session -d -s t 'sleep 30'
  mv "$tmp/err" "$tmp/err1"
  status1=$status
  running=$(sed -n 's/^asyncleak: process \([0-9]*\) (.*) is still running: .*/\1/p' \
    "$tmp/err1")
  out1=$(cat "$tmp/out")

  # A second client, under asyncleak too, sees the session, and says the
  # server's pid and the pane's.
  # shellcheck disable=SC2086 # no FLAG is no word
  run "$ASYNCLEAK" $flags tmux -S "$sock" display-message -p \
    '#{session_name} #{pid} #{pane_pid}'
  mv "$tmp/err" "$tmp/err2"
  # shellcheck disable=SC2046
  set -- $(cat "$tmp/out")
  { [ $# -eq 3 ] && [ "$1" = t ]; } ||
    fail "display-message (status $status) printed: $(cat "$tmp/out"); \
stderr: $(cat "$tmp/err2"); new-session (status $status1): $(cat "$tmp/err1")"
  server=$2 pane=$3
  [ "$status" -eq 23 ] ||
    fail "display-message: status $status: $(cat "$tmp/err2")"
  client2=$(sed -n 's/^==\([0-9]*\)==ERROR: asyncleak: .*/\1/p' "$tmp/err2")
  check_client "$tmp/err2" "$client2"

  [ "$status1" -eq 23 ] ||
    fail "new-session: status $status1: $(cat "$tmp/err1")"
  [ -z "$out1" ] || fail "tmux new-session printed: $out1"
  client=$(sed -n 's/^==\([0-9]*\)==ERROR: asyncleak: .*/\1/p' "$tmp/err1")
  [ -n "$client" ] || fail "no report of the first client: $(cat "$tmp/err1")"
  check_client "$tmp/err1" "$client"

  # The first run named the server as still running, and its report
  # directory, which it kept (the lines of the pane's processes, and of
  # processes that ended without a report, depend on timing: not checked).
  said=$(sed -n "s|^asyncleak: process $server (\(.*/\)\{0,1\}tmux) is still running: when it exits it writes its report, if it leaks, to '\(.*\)/$server-[0-9]*\.report'; that directory is kept\$|\2|p" "$tmp/err1")
  [ -n "$said" ] || fail "the server $server is not said to be running: \
$(grep '^asyncleak:' "$tmp/err1")"
  dir=$said
  [ -d "$dir" ] || fail "the report directory '$dir' was not kept"
  set -- "$dir/$server"-*.report
  file=$1
  [ -f "$file" ] || fail "no report file of the server: $(ls "$dir")"
  ! grep -q '^@sum ' "$file" || fail "the server wrote its report while it ran"

  # kill-server: the server ends (tmux sends itself SIGTERM, which it
  # handles through libevent, and exits 0) and writes its report.
  timeout -k 2 10 tmux -S "$sock" kill-server || fail "kill-server failed"
  i=0
  while ! grep -q '^@sum ' "$file" || kill -0 "$server" 2>/dev/null; do
    i=$((i + 1))
    [ $i -le 100 ] || fail "the server did not end and report within 10 s: \
$(ls "$dir")"
    sleep 0.1
  done
  sum=$tmp/server.sum
  report_part "$file" sum >"$sum"
  for l in "ended=exit" "libs=libevent" "handles_open=10" \
    "requests_pending=0" "groups=10"; do
    grep -qx "$l" "$sum" || fail "no $l in the server's totals: $(cat "$sum")"
  done
  txt=$tmp/server.txt
  report_part "$file" txt >"$txt"
  [ -s "$txt" ] || fail "no text report of the server: $(cat "$file")"
  expect_line "$txt" "==$server==ERROR: asyncleak: 10 handles left open at exit"
  [ "$(grep -cx "1 handle of type event (added), created at:" "$txt")" -eq 10 ] ||
    fail "not 10 groups in the server's report: $(cat "$txt")"
  for sig in 1 2 10 12 15 17 18 28; do
    grep -qx "  0x[0-9a-f]* on loop 1, thread $server (main), added: signal $sig, persistent" "$txt" ||
      fail "no signal $sig event in the server's report: $(cat "$txt")"
  done
  grep -qx "  0x[0-9a-f]* on loop 1, thread $server (main), added: timer" "$txt" ||
    fail "no tidy timer in the server's report: $(cat "$txt")"
  grep -qx "  0x[0-9a-f]* on loop 1, thread $server (main), added: fd [0-9]* read" "$txt" ||
    fail "no accept event in the server's report: $(cat "$txt")"
  expect_line "$txt" "Loops (libevent): 1 seen, 0 closed, 1 not closed:"
  grep -qx "  loop 1 (libevent 0x[0-9a-f]*) created in .* by thread $server (main): never closed" "$txt" ||
    fail "the server's base is not listed as its own: $(cat "$txt")"
  expect_line "$txt" "SUMMARY: asyncleak: 10 handles left open (10 event (added)) from 10 creation sites; 1 of 1 loop not closed"
  # No process of tmux's, the server's pane included, has a finding of
  # the debug checks: the line of each report's totals says 0, or there
  # is no such line (a process killed before the runtime wrote one).
  if grep -h '^findings=' "$dir"/*.report | grep -vqx 'findings=0'; then
    fail "findings in tmux's reports: $(cat "$dir"/*.report)"
  fi
  grep -qx "findings=0" "$sum" ||
    fail "no findings=0 in the server's totals: $(cat "$sum")"
  expect_no "$txt" "finding"
  sock=
}

session sock

# The debug checks (docs/debug-checks.md) change nothing in what tmux
# does or in what is reported of it, and find nothing. Each of tmux's
# processes is one thread; the server's base was made by the first
# client, which forked it before running it, and the server runs it
# itself from then on: no call on it is another thread's. tmux frees no
# event (its events are in its own structures, set again with
# event_set), and its callbacks are quick. A pane's process, forked from
# a callback of the server's, deletes the server's signal events before
# it executes the pane's command: what it finds then is not shown, but
# the runtime notes its number before the exec and the command counts it
# (none here).
session sock-debug --debug-checks
exit 0
