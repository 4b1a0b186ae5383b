# A leak's fingerprint does not depend on force mode: a libevent event
# still added has the same one whether its base was freed with it on it or
# force deleted it first, and an event never added, which force leaves
# alone, keeps its own. So a baseline written without --force-close holds
# with it, and the two groups of one line keep two fingerprints in both
# runs. libuv's, whose type never depends on the verdict, likewise; and
# libev's, a watcher started when its loop was destroyed or stopped by
# force.
. tests/cli/lib.sh

# fingerprints JSON: "TYPE<TAB>FINGERPRINT" for each leak group, sorted,
# with the verdict's words taken out of the type.
fingerprints() {
  python3 - "$1" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
rows = []
for p in report["processes"]:
    for leak in p["leaks"]:
        kind = leak["type"].replace(" when its base was freed", "")
        kind = kind.replace(" (started when its loop was destroyed)", "")
        rows.append("%s\t%s" % (kind, leak["fingerprint"]))
print("\n".join(sorted(rows)))
PY
}

prog=$O/progs/ev-force-site

run "$ASYNCLEAK" --json="$tmp/plain.json" --write-baseline="$tmp/base" "$prog"
expect_status 23
expect_line "$tmp/err" "1 handle of type event (added when its base was freed), created at:"
expect_line "$tmp/err" "1 handle of type event (never freed), created at:"
run "$ASYNCLEAK" --force-close --json="$tmp/forced.json" "$prog"
expect_status 23
# Force deleted the added one, and did nothing to the other: that one is
# not said to be closed by force.
expect_line "$tmp/err" "1 handle of type event (added) closed by force at shutdown, created at:"
expect_line "$tmp/err" "1 handle of type event (never freed), created at:"
expect_no "$tmp/err" "of type event closed by force"
expect_no "$tmp/err" "of type event (never freed) closed by force"

fingerprints "$tmp/plain.json" >"$tmp/plain"
fingerprints "$tmp/forced.json" >"$tmp/forced"
[ "$(wc -l <"$tmp/plain")" -eq 2 ] ||
  fail "expected 2 groups without force: $(cat "$tmp/plain")"
cmp -s "$tmp/plain" "$tmp/forced" ||
  fail "fingerprints differ with force: $(cat "$tmp/plain") against $(cat "$tmp/forced")"
# Two groups, two fingerprints.
[ "$(cut -f2 "$tmp/forced" | sort -u | wc -l)" -eq 2 ] ||
  fail "two groups share a fingerprint: $(cat "$tmp/forced")"

# The baseline written without force covers both groups with it.
run "$ASYNCLEAK" --force-close --baseline="$tmp/base" "$prog"
expect_status 0
expect_line "$tmp/err" "In the baseline, not reported: 2 groups (2 resources)"
expect_no "$tmp/err" "ERROR"

# Negative control: without the never-added group's line, that group alone
# is reported, in both modes.
never=$(grep -F "event (never freed)" "$tmp/plain" | cut -f2)
grep -v "^$never" "$tmp/base" >"$tmp/part"
run "$ASYNCLEAK" --force-close --baseline="$tmp/part" "$prog"
expect_status 23
expect_line "$tmp/err" "In the baseline, not reported: 1 group (1 resource)"
expect_line "$tmp/err" "  fingerprint $never"
expect_no "$tmp/err" "closed by force at shutdown, created at:"

# libuv: a handle closed by force has the fingerprint it has left open.
prog=$O/progs/uv-finally-force
run "$ASYNCLEAK" --json="$tmp/plain.json" "$prog" call
expect_status 23
run "$ASYNCLEAK" --force-close --json="$tmp/forced.json" "$prog" call
expect_status 23
expect_line "$tmp/err" "1 handle of type uv_check_t closed by force at shutdown, created at:"
fingerprints "$tmp/plain.json" >"$tmp/plain"
fingerprints "$tmp/forced.json" >"$tmp/forced"
grep -q "^uv_check_t	" "$tmp/plain" ||
  fail "no uv_check_t group without force: $(cat "$tmp/plain")"
cmp -s "$tmp/plain" "$tmp/forced" ||
  fail "libuv's fingerprints differ with force: $(cat "$tmp/plain") against $(cat "$tmp/forced")"
# libev: a watcher stopped by force has the fingerprint it has when the
# loop is destroyed with it started; the pending ev_once, which force
# cannot take back, keeps its own.
prog=$O/progs/libev-force
run "$ASYNCLEAK" --json="$tmp/plain.json" "$prog"
expect_status 23
expect_line "$tmp/err" "1 handle of type ev_timer (started when its loop was destroyed), created at:"
run "$ASYNCLEAK" --force-close --json="$tmp/forced.json" "$prog"
expect_status 23
expect_line "$tmp/err" "1 handle of type ev_timer closed by force at shutdown, created at:"
fingerprints "$tmp/plain.json" >"$tmp/plain"
fingerprints "$tmp/forced.json" >"$tmp/forced"
[ "$(grep -c '^ev_' "$tmp/plain")" -eq 3 ] ||
  fail "expected ev_timer, ev_io and ev_once groups: $(cat "$tmp/plain")"
cmp -s "$tmp/plain" "$tmp/forced" ||
  fail "libev's fingerprints differ with force: $(cat "$tmp/plain") against $(cat "$tmp/forced")"
exit 0
