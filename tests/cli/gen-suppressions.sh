# Every line --gen-suppressions writes, for libuv and libevent, for each
# type and verdict a report shows (open, closing, pending, closed or
# cancelled by force, an event added, added when its base was freed, never
# freed, once, the objects libevent builds on events, its requests), is
# accepted by --suppressions and suppresses that leak: the run fed its own
# lines back reports nothing. A line written for one leak leaves another
# one reported.
. tests/cli/lib.sh

# generated FILE: the rules in the "Suppressions for the leaks above" part
# of the report in FILE.
generated() {
  awk '/^Suppressions for the leaks above/ { on = 1; next }
       on && /^$/ { on = 0 }
       on && !/^#/' "$1"
}

# round_trip STATUS FLAGS PROGRAM [ARGS...]: the program's leaks, their
# rules, and the run with them, which ends with STATUS and reports none.
round_trip() {
  want=$1
  flags=$2
  shift 2
  # shellcheck disable=SC2086 # FLAGS are words
  run "$ASYNCLEAK" --gen-suppressions $flags "$@"
  [ "$status" -ne 0 ] && [ "$status" -ne 125 ] ||
    fail "$*: expected leaks, got status $status: $(cat "$tmp/err")"
  generated "$tmp/err" >"$tmp/gen.supp"
  [ -s "$tmp/gen.supp" ] ||
    fail "$*: no suppression written: $(cat "$tmp/err")"
  cp "$tmp/err" "$tmp/first"
  # shellcheck disable=SC2086
  run "$ASYNCLEAK" --suppressions="$tmp/gen.supp" $flags "$@"
  [ "$status" -eq "$want" ] ||
    fail "$*: with its own suppressions, expected status $want, got $status
rules:
$(cat "$tmp/gen.supp")
first run:
$(cat "$tmp/first")
second run:
$(cat "$tmp/err")"
  expect_no "$tmp/err" "malformed"
  expect_no "$tmp/err" "ERROR: asyncleak"
  expect_no "$tmp/err" "SUMMARY: asyncleak"
  expect_line "$tmp/err" "Suppressions used:"
}

p=$O/progs
# libevent: events added, never freed, added when the base was freed, once.
round_trip 0 "" "$p/ev-event-leak"
grep -qx 'event_added:^main\$' "$tmp/gen.supp" ||
  fail "no event_added rule: $(cat "$tmp/gen.supp")"
grep -qx 'event_never_freed:^main\$' "$tmp/gen.supp" ||
  fail "no event_never_freed rule: $(cat "$tmp/gen.supp")"
round_trip 0 "" "$p/ev-event-leak" base-free
round_trip 0 "" "$p/ev-once"
grep -qx 'event_once:^main\$' "$tmp/gen.supp" ||
  fail "no event_once rule: $(cat "$tmp/gen.supp")"
round_trip 0 "" "$p/ev-once" base-free
# What libevent builds on events, and its requests.
round_trip 0 "" "$p/ev-bufferevent"
round_trip 0 "" "$p/ev-http"
grep -qx 'evhttp_request:^main\$' "$tmp/gen.supp" ||
  fail "no evhttp_request rule: $(cat "$tmp/gen.supp")"
round_trip 0 "" "$p/ev-http" listener
round_trip 0 "" "$p/ev-dns"
grep -qx 'evdns_getaddrinfo_request:^main\$' "$tmp/gen.supp" ||
  fail "no evdns_getaddrinfo_request rule: $(cat "$tmp/gen.supp")"
# Events closed and requests cancelled by force, on a graceful signal:
# the process still ends by it.
round_trip 143 "--graceful-signals --force-close" "$p/ev-dns" signal
# An event closed by force has the kind it has left added.
round_trip 0 "--force-close" "$p/ev-force-site"
grep -qx 'event_added:^main\$' "$tmp/gen.supp" ||
  fail "no event_added rule under force: $(cat "$tmp/gen.supp")"

# libuv: every handle type, requests pending, closing, closed and
# cancelled by force.
round_trip 0 "" "$p/uv-every-type"
round_trip 0 "" "$p/uv-req-kinds" pending
round_trip 0 "" "$p/uv-req-fs"
round_trip 0 "--fail-on-closing" "$p/uv-close-no-run"
round_trip 0 "--force-close" "$p/uv-finally-force" call
round_trip 0 "--force-close" "$p/uv-req-work" force

# Negative controls: the rule for one leak leaves another reported. Two
# events of main, one never freed and two added: the never-freed one's
# rule hides it alone.
printf 'event_never_freed:^main$\n' >"$tmp/one.supp"
run "$ASYNCLEAK" --suppressions="$tmp/one.supp" "$p/ev-event-leak"
expect_status 23
expect_line "$tmp/err" "SUMMARY: asyncleak: 2 handles left open (2 event (added)) from 2 creation sites; 1 of 1 loop not closed"
expect_no "$tmp/err" "of type event (never freed)"
# The same site's never-freed event, with force, is not an added one's.
printf 'event_added:^main$\n' >"$tmp/one.supp"
run "$ASYNCLEAK" --force-close --suppressions="$tmp/one.supp" \
  "$p/ev-force-site"
expect_status 23
expect_line "$tmp/err" "1 handle of type event (never freed), created at:"
expect_no "$tmp/err" "closed by force at shutdown, created at:"
# libuv: the vendor's timer rule leaves the program's idle handle.
run "$ASYNCLEAK" --gen-suppressions "$p/uv-suppress"
expect_status 23
generated "$tmp/err" | grep '^uv_timer:' >"$tmp/one.supp"
[ -s "$tmp/one.supp" ] || fail "no uv_timer rule: $(cat "$tmp/err")"
run "$ASYNCLEAK" --suppressions="$tmp/one.supp" "$p/uv-suppress"
expect_status 23
expect_frame0 "$tmp/err" start_own_idle uv-suppress.c
expect_no "$tmp/err" "in start_vendor_timer"
exit 0
