# gdbus, GLib 2.74's D-Bus tool (Debian's libglib2.0-bin), under
# asyncleak, on a private session bus of dbus-run-session's:
# a) `gdbus call` asks the bus whether org.freedesktop.DBus has an owner,
#    prints "(true,)" and exits 0, as alone. Its synchronous call runs on
#    GDBus's worker thread and private contexts of GLib's, which are
#    GLib's own: gdbus itself uses no context, and asyncleak says it
#    checked no loop, and exits 0.
# b) `gdbus monitor` watches the bus's own name, prints its first two
#    lines, then the NameOwnerChanged signals of a client that comes and
#    goes, and runs the default context until a signal ends it. It
#    handles neither SIGTERM nor SIGINT: either kills it, as alone
#    (status 143 or 130). Its name watch and signal subscription are
#    GDBus's, not sources: when the signal comes, no source of gdbus's is
#    attached (a list of the default context's sources, taken then, is
#    empty). asyncleak reports the default context, never freed, and
#    nothing else, and keeps the status.
. tests/real/lib.sh

for c in gdbus dbus-run-session dbus-daemon; do
  command -v $c >/dev/null 2>&1 ||
    skip "$c is not installed (scripts/install-deps.sh)"
done

bus=
mon=
# Whatever happens, no monitor or bus is left behind.
trap '[ -z "$mon" ] || { kill -KILL $mon; wait $mon; } 2>/dev/null
      [ -z "$bus" ] || { touch "$tmp/bus.done"; wait $bus; }
      rm -rf "$tmp"' EXIT

# The private bus: dbus-run-session starts a session bus and runs a
# shell that hands its address over and waits to be told to end (or for
# timeout to end it). Every run below is on this bus, and on no other.
timeout -k 3 120 $plain dbus-run-session -- sh -c '
  echo "$DBUS_SESSION_BUS_ADDRESS" >"$1/bus.tmp" && mv "$1/bus.tmp" "$1/bus"
  until [ -e "$1/bus.done" ]; do sleep 0.1; done' sh "$tmp" \
  >"$tmp/bus.out" 2>&1 </dev/null &
bus=$!
await_file "$tmp/bus" $bus dbus-run-session "$tmp/bus.out"
DBUS_SESSION_BUS_ADDRESS=$(cat "$tmp/bus")
export DBUS_SESSION_BUS_ADDRESS

followed=yes
glib_runtime || followed=

# checked STATUS: asyncleak's run ended with STATUS, and did not fail.
checked() {
  expect_status "$1"
  for bad in SIGSEGV "cannot find" "left no report" "ERROR: asyncleak"; do
    expect_no "$tmp/err" "$bad"
  done
}

call="gdbus call --session --dest org.freedesktop.DBus \
--object-path /org/freedesktop/DBus \
--method org.freedesktop.DBus.NameHasOwner org.freedesktop.DBus"

# a) gdbus call, alone and under asyncleak.
# shellcheck disable=SC2086 # $call is words
got=$(timeout -k 3 30 $plain $call 2>&1) ||
  fail "alone, gdbus call failed: $got"
[ "$got" = "(true,)" ] || fail "alone, gdbus call printed: $got"
rm -f "$tmp/report.json"
# shellcheck disable=SC2086
run "$ASYNCLEAK" --json="$tmp/report.json" $call
expect_line "$tmp/out" "(true,)"
[ "$(wc -l <"$tmp/out")" -eq 1 ] ||
  fail "under asyncleak, gdbus call printed: $(cat "$tmp/out")"
checked 0
# With GLib followed or not, asyncleak sees no loop of gdbus's: GDBus's
# contexts and sources are GLib's own, never counted.
unwatched gdbus
if [ -n "$followed" ]; then
  expect status=0 exit=0 loops=0 handles_created=0 handles_open=0 \
    requests_created=0
fi

# monitor MODE SIGNAL [FLAG]: runs gdbus monitor alone (MODE alone) or
# under asyncleak (MODE asyncleak, with FLAG if given, its JSON report in
# $tmp/report.json), waits for its first two lines, runs a client whose
# coming and going it must print, then sends SIGNAL to gdbus; sets
# $status. The shell starts background commands with SIGINT ignored: env
# restores its default.
monitor() {
  rm -f "$tmp/report.json" "$tmp/out" "$tmp/err"
  if [ "$1" = asyncleak ]; then
    # shellcheck disable=SC2086 # no FLAG is no word
    timeout -k 3 30 env --default-signal=INT "$ASYNCLEAK" ${3:-} \
      --json="$tmp/report.json" gdbus monitor --session \
      --dest org.freedesktop.DBus >"$tmp/out" 2>"$tmp/err" </dev/null &
  else
    timeout -k 3 30 env --default-signal=INT $plain gdbus monitor \
      --session --dest org.freedesktop.DBus \
      >"$tmp/out" 2>"$tmp/err" </dev/null &
  fi
  mon=$!
  i=0
  until grep -qx 'The name org.freedesktop.DBus is owned by org.freedesktop.DBus' \
    "$tmp/out" 2>/dev/null; do
    kill -0 $mon 2>/dev/null ||
      fail "gdbus monitor ended at start: $(cat "$tmp/out" "$tmp/err")"
    i=$((i + 1))
    [ $i -le 100 ] || fail "gdbus monitor printed nothing within 10 s: \
$(cat "$tmp/out" "$tmp/err")"
    sleep 0.1
  done
  expect_line "$tmp/out" \
    "Monitoring signals from all objects owned by org.freedesktop.DBus"
  # A client connects and leaves: the bus says so twice.
  # shellcheck disable=SC2086
  timeout -k 3 30 $plain $call >/dev/null 2>&1 || fail "gdbus call failed"
  i=0
  until [ "$(grep -cE "^/org/freedesktop/DBus: org\\.freedesktop\\.DBus\\.NameOwnerChanged \\(':1\\.[0-9]+', '(:1\\.[0-9]+)?', '(:1\\.[0-9]+)?'\\)\$" \
    "$tmp/out")" -ge 2 ]; do
    i=$((i + 1))
    [ $i -le 100 ] || fail "gdbus monitor did not print the client's \
NameOwnerChanged within 10 s: $(cat "$tmp/out" "$tmp/err")"
    sleep 0.1
  done
  # gdbus itself: timeout's child, or asyncleak's child under it.
  gpid=$(children $mon)
  [ "$1" = alone ] || gpid=$(children "$gpid")
  [ -n "$gpid" ] || fail "no gdbus under $mon"
  # Asked with asyncleak ps (docs/live.md): the main thread waits in the
  # default context, on which gdbus has no source of its own; GDBus's
  # worker thread and its private context are GLib's, not listed.
  if [ "$1" != alone ] && glib_runtime; then
    timeout -k 2 30 "$ASYNCLEAK" ps "$gpid" >"$tmp/ps.txt" 2>"$tmp/ps.err" ||
      fail "asyncleak ps failed: $(cat "$tmp/ps.err")"
    expect_line "$tmp/ps.txt" "Process $gpid: 1 loop"
    grep -q "^Loop 1 (GLib, the default loop) at 0x[0-9a-f]*\$" "$tmp/ps.txt" ||
      fail "not the default context: $(cat "$tmp/ps.txt")"
    grep -q "^  thread $gpid (main) runs it: waiting for events" \
      "$tmp/ps.txt" || fail "gdbus's thread not waiting: $(cat "$tmp/ps.txt")"
    expect_line "$tmp/ps.txt" "  nothing of the program's is open on it"
  fi
  kill "-$2" "$gpid" || fail "no gdbus $gpid to signal"
  status=0
  # (dash says "Terminated" of a job a signal ended: not for the log.)
  wait $mon 2>/dev/null || status=$?
  mon=
  case $status in
    124 | 137) fail "gdbus monitor did not end on SIG$2 within 30 s: \
$(cat "$tmp/out" "$tmp/err")" ;;
  esac
}

# b) gdbus monitor ended by SIGTERM, then by SIGINT: alone, the signal
# kills it (128 + its number); under asyncleak, the same.
for sig in TERM:143 INT:130; do
  monitor alone "${sig%:*}"
  [ "$status" -eq "${sig#*:}" ] ||
    fail "alone, gdbus monitor ended $status on SIG${sig%:*}"
  monitor asyncleak "${sig%:*}"
  grep -q "^asyncleak: 'gdbus' (pid [0-9]*) was killed by signal [0-9]* (SIG${sig%:*}: " \
    "$tmp/err" || fail "asyncleak did not say gdbus was killed by \
SIG${sig%:*}: $(cat "$tmp/err")"
  checked "${sig#*:}"
  if [ -z "$followed" ]; then
    unwatched gdbus
    continue
  fi
  # The default context, run by g_main_loop_run and never freed, and
  # nothing on it: the program was killed, so there is no exit code.
  expect status="${sig#*:}" loops=1 loops_unclosed=1 handles_created=0 \
    handles_open=0 handles_closing=0 requests_pending=0
  expect_line "$tmp/err" "asyncleak: no leaks: 1 loop(s), 0 handle(s) \
created, all closed; 1 loop(s) never closed"
done

# c) The debug checks (docs/debug-checks.md) change nothing in what gdbus
# prints or in how it ends, and find nothing: a) and b) again, once each.
# What they could check of a GLib program is its own sources (their
# callbacks timed, an attach after their destroy); gdbus has none, and
# GLib's own, of GDBus's worker thread, are not the program's: a finding
# of theirs would be a false one. (GLib's contexts are thread-safe: no
# wrong-thread check.)
rm -f "$tmp/report.json"
# shellcheck disable=SC2086
run "$ASYNCLEAK" --debug-checks --json="$tmp/report.json" $call
expect_line "$tmp/out" "(true,)"
[ "$(wc -l <"$tmp/out")" -eq 1 ] ||
  fail "under --debug-checks, gdbus call printed: $(cat "$tmp/out")"
checked 0
unwatched gdbus
expect_no "$tmp/err" "finding"
if [ -n "$followed" ]; then
  expect status=0 exit=0 loops=0 handles_created=0 handles_open=0 \
    requests_created=0 findings=0
fi
monitor asyncleak TERM --debug-checks
grep -q "^asyncleak: 'gdbus' (pid [0-9]*) was killed by signal [0-9]* (SIGTERM: " \
  "$tmp/err" || fail "asyncleak did not say gdbus was killed by SIGTERM: \
$(cat "$tmp/err")"
checked 143
expect_no "$tmp/err" "finding"
if [ -n "$followed" ]; then
  expect status=143 loops=1 loops_unclosed=1 handles_created=0 \
    handles_open=0 handles_closing=0 requests_pending=0 findings=0
  expect_line "$tmp/err" "asyncleak: no leaks: 1 loop(s), 0 handle(s) \
created, all closed; 1 loop(s) never closed"
else
  unwatched gdbus
fi

[ -n "$followed" ] ||
  skip "GLib is not followed by this runtime (no g_main_loop_run in \
libasyncleak.so): only gdbus's behaviour under asyncleak was checked"
exit 0
