# Creation sites told apart: a baseline of one leak in main still catches
# a second made by another call in main, and keeps matching when the
# program is built again with its lines moved, with debug information or
# without; a stripped program's
# generated suppressions are accepted and hide exactly its leaks; a C++
# method is named demangled; an old baseline is refused with a warning.
. tests/cli/lib.sh

two=$O/progs/uv-two-sites
src=tests/progs/uv-two-sites.c
first=$(grep -n '@first' "$src" | grep -v CHECK | cut -d: -f1)
second=$(grep -n '@second' "$src" | grep -v CHECK | cut -d: -f1)

# fingerprint_at FILE LINE: the fingerprint of the group whose frame #0 is
# at that line of uv-two-sites.c.
fingerprint_at() {
  awk -v want="uv-two-sites.c:$2\$" '
    /^    #0 / { hit = $0 ~ want }
    hit && /^  fingerprint / { print $2; exit }' "$1"
}

run "$ASYNCLEAK" "$two" both
expect_status 23
fp1=$(fingerprint_at "$tmp/err" "$first")
fp2=$(fingerprint_at "$tmp/err" "$second")
[ -n "$fp1" ] && [ -n "$fp2" ] ||
  fail "no fingerprint for one of the two sites: $(cat "$tmp/err")"
[ "$fp1" != "$fp2" ] ||
  fail "two calls in main share the fingerprint $fp1"

# A baseline written from a run leaking only the first site.
run "$ASYNCLEAK" --write-baseline="$tmp/base" "$two" first
expect_status 23
[ "$(head -n 1 "$tmp/base" | cut -d: -f1)" = "# asyncleak baseline v2" ] ||
  fail "the baseline has no version 2 header: $(cat "$tmp/base")"
[ "$(grep -vc '^#' "$tmp/base")" -eq 1 ] ||
  fail "expected 1 fingerprint in the baseline: $(cat "$tmp/base")"
grep -q "^$fp1 " "$tmp/base" ||
  fail "the baseline does not hold the first site's $fp1: $(cat "$tmp/base")"

# The second site is new: the run fails and names it alone.
run "$ASYNCLEAK" --baseline="$tmp/base" "$two" both
expect_status 23
expect_line "$tmp/err" "  fingerprint $fp2"
expect_no "$tmp/err" "fingerprint $fp1"
grep -q "^    #0 0x[0-9a-f]* in main .*uv-two-sites.c:$second\$" "$tmp/err" ||
  fail "the new leak is not named at line $second: $(cat "$tmp/err")"
expect_line "$tmp/err" "In the baseline, not reported: 1 group (1 resource)"
# The negative control: the baselined leak alone passes.
run "$ASYNCLEAK" --baseline="$tmp/base" "$two" first
expect_status 0
expect_no "$tmp/err" "ERROR"

# Two builds of a copy with blank lines above main, and above the whole
# file: the lines move, the fingerprints do not.
run "$ASYNCLEAK" --write-baseline="$tmp/both" "$two" both
expect_status 23
for n in 1 2; do
  awk -v n="$n" '/^int main/ { for (i = 0; i < 5 * n; i++) print "" } 1' \
    "$src" >"$tmp/moved$n.c"
  cc -std=gnu11 -O0 -g -o "$tmp/moved$n" "$tmp/moved$n.c" -luv ||
    fail "cannot build the moved copy $n"
  run "$ASYNCLEAK" "$tmp/moved$n" both
  expect_status 23
  line=$(grep -n '@second' "$tmp/moved$n.c" | grep -v CHECK | cut -d: -f1)
  [ "$line" -ne "$second" ] || fail "the copy's lines did not move"
  grep -q "in main .*moved$n.c:$line\$" "$tmp/err" ||
    fail "the moved leak is not at line $line: $(cat "$tmp/err")"
  run "$ASYNCLEAK" --baseline="$tmp/both" "$tmp/moved$n" both
  expect_status 0
  expect_line "$tmp/err" "In the baseline, not reported: 2 groups (2 resources)"
done

# Without debug information (names, no lines), the two calls in main are
# still apart, and a build with its lines moved keeps both fingerprints.
for n in 0 1; do
  awk -v n="$n" '/^int main/ { for (i = 0; i < 5 * n; i++) print "" } 1' \
    "$src" >"$tmp/nodebug$n.c"
  cc -std=gnu11 -O0 -o "$tmp/nodebug$n" "$tmp/nodebug$n.c" -luv ||
    fail "cannot build the copy $n without debug information"
  run "$ASYNCLEAK" "$tmp/nodebug$n" both
  expect_status 23
  grep '^  fingerprint ' "$tmp/err" | sort >"$tmp/nodebug$n.fp"
  [ "$(sort -u "$tmp/nodebug$n.fp" | wc -l)" -eq 2 ] ||
    fail "two calls in main without lines share a fingerprint: $(cat "$tmp/err")"
  ! grep -q 'nodebug.*\.c:' "$tmp/err" ||
    fail "the copy $n has lines after all: $(cat "$tmp/err")"
done
cmp -s "$tmp/nodebug0.fp" "$tmp/nodebug1.fp" ||
  fail "moving lines changed fingerprints without debug information: \
$(cat "$tmp/nodebug0.fp" "$tmp/nodebug1.fp")"

# A baseline of version 1 matches nothing, and says so.
{ echo "# asyncleak baseline: the leaks --baseline ignores, one fingerprint a line"
  grep -v '^#' "$tmp/both"; } >"$tmp/v1"
run "$ASYNCLEAK" --baseline="$tmp/v1" "$two" both
expect_status 23
expect_line "$tmp/err" "asyncleak: the baseline file '$tmp/v1' was written by an older asyncleak, whose fingerprints no longer match: every leak is reported; write it again with --write-baseline"

# A stripped program: its generated suppressions are accepted and hide
# its two leaks, and name no frame of the C library, loader or asyncleak.
stripped=$O/progs/uv-stripped
run "$ASYNCLEAK" --gen-suppressions "$stripped"
expect_status 23
grep '^uv_' "$tmp/err" >"$tmp/stripped.supp"
[ "$(wc -l <"$tmp/stripped.supp")" -eq 2 ] ||
  fail "expected 2 suppressions: $(cat "$tmp/err")"
! grep -Eq 'libc|ld-linux|libasyncleak|_start' "$tmp/stripped.supp" ||
  fail "a suppression names a system frame: $(cat "$tmp/stripped.supp")"
run "$ASYNCLEAK" --suppressions="$tmp/stripped.supp" "$stripped"
expect_status 0
expect_no "$tmp/err" "ERROR"
expect_line "$tmp/err" "asyncleak: no leaks reported: 1 loop(s), 2 handle(s) created; 1 loop(s) never closed; 2 suppressed"
# Each line hides its own site only.
head -n 1 "$tmp/stripped.supp" >"$tmp/one.supp"
run "$ASYNCLEAK" --suppressions="$tmp/one.supp" "$stripped"
expect_status 23
grep -q "^SUMMARY: asyncleak: 1 handle left open" "$tmp/err" ||
  fail "one line hid more than its site: $(cat "$tmp/err")"

# C++: the method is named as written, and a suppression of that name
# hides it.
method=$O/progs/sites-method
line=$(grep -n '@method' tests/progs/sites/method.cc | cut -d: -f1)
run "$ASYNCLEAK" --gen-suppressions "$method"
expect_status 23
grep -q "^    #0 0x[0-9a-f]* in sites::Poller::start(int) .*method.cc:$line\$" \
  "$tmp/err" || fail "the method is not named demangled: $(cat "$tmp/err")"
expect_no "$tmp/err" "_ZN5sites"
expect_line "$tmp/err" 'uv_timer:^sites::Poller::start(int)$'
grep '^uv_timer:' "$tmp/err" >"$tmp/cxx.supp"
run "$ASYNCLEAK" --suppressions="$tmp/cxx.supp" "$method"
expect_status 0
run "$ASYNCLEAK" "$method" close
expect_status 0
expect_no "$tmp/err" "Poller"

# An inlined helper: two frames at one pc in the JSON report too, the
# helper marked inlined, main not.
run "$ASYNCLEAK" --json="$tmp/inline.json" "$O/progs/uv-inline-helper"
expect_status 23
python3 - "$tmp/inline.json" <<'PY' || fail "inlined frames: $(cat "$tmp/inline.json")"
import json, sys
group = json.load(open(sys.argv[1]))["processes"][0]["leaks"][0]
f = group["frames"]
assert f[0]["function"] == "make_timer" and f[0]["inlined"] is True, f[0]
assert f[1]["function"] == "main" and f[1]["inlined"] is False, f[1]
assert f[0]["pc"] == f[1]["pc"], (f[0]["pc"], f[1]["pc"])
assert f[0]["line"] != f[1]["line"], f
assert group["own_frame"] == 0, group["own_frame"]
PY
exit 0
