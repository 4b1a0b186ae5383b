# lldpd (1.0.16, on libevent 2.1) under asyncleak: a real program that
# chroots. Started as root, lldpd forks; the parent stays as its
# privileged monitor, and the child changes to the user _lldpd, chroots
# into /run/lldpd and runs the libevent loop. At start lldpd also forks a
# child that executes lldpcli to configure it. SIGTERM to the monitor
# reaches the loop's child, which frees its base with six events still on
# it and exits; the monitor then exits 0. Each process of lldpd that used
# libevent must leave a complete report: the chrooted one's names its
# frames (lldpd is stripped, but its functions are in its dynamic symbol
# table; the C library's come from libc6-dbg, which valgrind depends on),
# and asyncleak exits 23, the status of a program that exited 0
# and leaked.
#
# lldpd runs in the foreground (-d), receives only (-r), on the loopback
# interface only (-I lo), with its control socket (-u) and its
# configuration (-O, empty) in the test's directory. The chroot directory
# is built in: lldpd makes /run/lldpd and copies /etc/localtime into it,
# as it does at every start.
. tests/real/lib.sh

if [ "$(id -u)" -ne 0 ]; then
  echo "$test_name: not root: lldpd drops to its own user and chroots" >&2
  exit 0
fi
[ -x /usr/sbin/lldpd ] ||
  fail "lldpd is not installed (scripts/install-deps.sh)"
command -v python3 >/dev/null 2>&1 || fail "python3 is not installed"

bg=
mpid=
cpid=
# Whatever happens, no lldpd is left behind (and timeout passes its
# signal to its process group, lldpd included).
trap '[ -z "$cpid" ] || kill -KILL $cpid 2>/dev/null
      [ -z "$mpid" ] || kill -KILL $mpid 2>/dev/null
      [ -z "$bg" ] || { kill -TERM $bg 2>/dev/null; wait $bg; }
      rm -rf "$tmp"' EXIT

: >"$tmp/lldpd.conf"
# lldpcli, run by lldpd as its user, reaches the control socket through
# the test's directory.
chmod 0711 "$tmp" || fail "cannot open $tmp to lldpd's user"

# children PID: the pids of PID's children, from /proc (ps and pgrep
# are not used: they may hang with a sanitizer's runtime preloaded).
children() {
  for d in /proc/[0-9]*; do
    [ "$(awk '$1 == "PPid:" { print $2 }' "$d/status" 2>/dev/null)" = "$1" ] &&
      echo "${d#/proc/}"
  done
}

# start [COMMAND...]: runs lldpd in the background, under COMMAND if
# given, and waits until its chrooted child runs its loop (it then names
# itself "lldpd: no neighbor."). Sets $bg (timeout's pid), $mpid (the
# monitor's) and $cpid (the chrooted child's). Returns 1, with $bg
# waited for, when lldpd ended at start.
start() {
  rm -f "$tmp/ctl.sock"
  timeout -k 3 30 "$@" /usr/sbin/lldpd -d -r -I lo -u "$tmp/ctl.sock" \
    -O "$tmp/lldpd.conf" >"$tmp/out" 2>"$tmp/err" </dev/null &
  bg=$!
  mpid=
  cpid=
  i=0
  while :; do
    if [ -z "$mpid" ]; then
      # Under asyncleak the monitor is asyncleak's child.
      mpid=$(children $bg)
      [ $# -eq 0 ] || [ -z "$mpid" ] || mpid=$(children "$mpid")
    fi
    for p in ${mpid:+$(children "$mpid")}; do
      [ "$(readlink "/proc/$p/root")" = /run/lldpd ] &&
        tr '\0' ' ' <"/proc/$p/cmdline" | grep -q '^lldpd: .*neighbor' &&
        cpid=$p
    done
    [ -z "$cpid" ] || return 0
    kill -0 $bg 2>/dev/null || {
      mpid=
      status=0
      wait $bg || status=$?
      bg=
      return 1
    }
    i=$((i + 1))
    [ $i -le 100 ] || fail "lldpd did not start within 10 s: \
$(cat "$tmp/err")"
    sleep 0.1
  done
}

# stop: a second of lldpd's loop, then SIGTERM to the monitor, as a
# supervisor would send; waits for it (timeout bounds it) and sets
# $status.
stop() {
  sleep 1
  kill -TERM "$mpid" || fail "no lldpd monitor $mpid to stop"
  status=0
  wait $bg || status=$?
  bg=
  case $status in
    124 | 137) fail "lldpd did not end on SIGTERM within 30 s: \
$(cat "$tmp/err")" ;;
  esac
  # The chrooted child may outlive the monitor a moment; then it is gone,
  # or a zombie left to whoever reaps orphans.
  for p in $mpid $cpid; do
    i=0
    while grep -q '^State:[[:space:]]*[^Z]' "/proc/$p/status" 2>/dev/null; do
      i=$((i + 1))
      [ $i -le 50 ] || fail "lldpd $p still runs 5 s after the monitor ended"
      sleep 0.1
    done
  done
  mpid=
  cpid=
}

# configured: lldpcli reached lldpd's control socket and told it to
# resume, as it does at every start.
configured() {
  grep -q 'lldpd should resume operations$' "$tmp/err" ||
    fail "lldpcli did not configure lldpd: $(cat "$tmp/err")"
}

# a) Alone, lldpd starts, chroots and exits 0 on SIGTERM. Where it cannot
# (no chroot or change of user allowed in this container), there is
# nothing to test.
if ! start; then
  echo "$test_name: lldpd cannot run here: it exited $status at start: \
$(tail -n 3 "$tmp/err")" >&2
  exit 0
fi
stop
[ "$status" -eq 0 ] || fail "lldpd alone exited $status on SIGTERM: \
$(cat "$tmp/err")"
configured

# b) Under asyncleak, plainly and with --graceful-signals (lldpd handles
# SIGTERM itself: the same report), each process that used libevent
# leaves a complete report. The chrooted child's lists the six events
# lldpd's loop made (levent_loop) and left on its base when it freed it,
# with their frames named by function; the monitor made no base and
# leaks nothing (now and then it leaves no report, then noted as a
# process that used no loop library); the child that executed lldpcli is
# only noted.
for flags in "" --graceful-signals; do
  # shellcheck disable=SC2086
  start "$ASYNCLEAK" $flags --json="$tmp/report.json" ||
    fail "lldpd under asyncleak $flags exited $status at start: \
$(cat "$tmp/err")"
  monitor=$mpid
  chrooted=$cpid
  stop
  out=$(python3 - "$tmp/report.json" "$monitor" "$chrooted" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
monitor, chrooted = int(sys.argv[2]), int(sys.argv[3])
procs = {p["pid"]: p for p in doc["processes"]}
errors = []
if (doc["status"], doc["program"]["exit_code"], doc["program"]["signal"]) \
        != (23, 0, None):
    errors.append("status %d, the program's exit %s, signal %s, expected "
                  "23, 0, none" % (doc["status"], doc["program"]["exit_code"],
                                   doc["program"]["signal"]))
if doc["program"]["pid"] != monitor:
    errors.append("the program is %d, not the monitor %d"
                  % (doc["program"]["pid"], monitor))
if chrooted not in procs:
    errors.append("no process %d" % chrooted)
elif procs[chrooted]["report"] != "complete":
    errors.append("chrooted: report %s" % procs[chrooted]["report"])
# Only processes that used no loop library may lack a report: the child
# that executed lldpcli, and the monitor, which links libevent but makes
# no base (its report, when written, lists nothing).
for pid, p in procs.items():
    if p["report"] == "complete":
        if pid != chrooted and p["leaks"]:
            errors.append("process %d leaks" % pid)
        continue
    missing = p.get("missing")
    cause = missing["cause"] if missing else ""
    if (missing is None or missing["verdict"] != "noted"
            or not ("executed '/usr/sbin/lldpcli'" in cause
                    or (pid == monitor and "used no loop library" in cause))):
        errors.append("process %d: report %s, %s"
                      % (pid, p["report"], missing))
if chrooted in procs:
    p = procs[chrooted]
    if p["totals"]["handles_open"] != 6:
        errors.append("chrooted: %d handles open"
                      % p["totals"]["handles_open"])
    for g in p["leaks"]:
        if (g["state"], g["type"]) != (
                "open", "event (added when its base was freed)"):
            errors.append("chrooted: a group %s %s" % (g["state"], g["type"]))
print("\n".join(errors))
sys.exit(1 if errors else 0)
EOF
  ) || fail "$out
stderr was:
$(cat "$tmp/err")"
  for bad in "left no complete report" "Frames not fully named" \
    "cannot create" "cannot open" "killed by signal"; do
    expect_no "$tmp/err" "$bad"
  done
  expect_line "$tmp/err" \
    "==$chrooted==ERROR: asyncleak: 6 handles left open at exit"
  count 6 '^    #0 0x[0-9a-f]+ in levent_loop \(lldpd\+0x[0-9a-f]+\)$'
  count 6 '^    #1 0x[0-9a-f]+ in lldpd_main \(lldpd\+0x[0-9a-f]+\)$'
  # No frame is a bare address or only module+offset.
  count 0 '^    #[0-9]+ 0x[0-9a-f]+ \(|^    #[0-9]+ 0x[0-9a-f]+$| in \?\? '
  count 1 "^  loop 1 \(libevent 0x[0-9a-f]+\) created in levent_loop \
\(lldpd\+0x[0-9a-f]+\) by thread $chrooted \(main\): freed with what is \
listed above still on it\$"
  expect_line "$tmp/err" "asyncleak: 6 handle(s) left open in 1 process(es)"
  configured
done
exit 0
