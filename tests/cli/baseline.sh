# --write-baseline records the fingerprints of a run's leaks; --baseline
# ignores them, so that only new leaks fail the run. A fingerprint does not
# move when lines move or the program is rebuilt.
. tests/cli/lib.sh

prog=$O/progs/uv-suppress

run "$ASYNCLEAK" --write-baseline="$tmp/base" "$prog"
expect_status 23
grep -v '^#' "$tmp/base" >"$tmp/lines"
[ "$(wc -l <"$tmp/lines")" -eq 2 ] ||
  fail "expected 2 fingerprints in the baseline: $(cat "$tmp/base")"
# Each line is a fingerprint the text report shows, and names its site.
for site in start_vendor_timer start_own_idle; do
  line=$(grep " in $site\$" "$tmp/lines") ||
    fail "no baseline line for $site: $(cat "$tmp/base")"
  fp=${line%% *}
  expect_line "$tmp/err" "  fingerprint $fp"
done

# Everything in the baseline: nothing fails, and the report says what it
# left out.
run "$ASYNCLEAK" --baseline="$tmp/base" "$prog"
expect_status 0
expect_line "$tmp/err" "In the baseline, not reported: 2 groups (2 resources)"
expect_no "$tmp/err" "start_vendor_timer"
expect_no "$tmp/err" "ERROR"
expect_line "$tmp/err" "asyncleak: no leaks reported: 1 loop(s), 2 handle(s) created; 1 loop(s) never closed; 2 in the baseline"

# A leak missing from the baseline is new, and fails the run alone.
grep -v " in start_own_idle\$" "$tmp/base" >"$tmp/old"
run "$ASYNCLEAK" --baseline="$tmp/old" "$prog"
expect_status 23
expect_frame0 "$tmp/err" start_own_idle uv-suppress.c
expect_no "$tmp/err" "in start_vendor_timer"
expect_line "$tmp/err" "In the baseline, not reported: 1 group (1 resource)"

# The same source moved down three lines and built again: same
# fingerprints, so still nothing new.
{ printf '\n\n\n'; cat tests/progs/uv-suppress.c; } >"$tmp/moved.c"
cc -std=gnu11 -O0 -g -o "$tmp/moved" "$tmp/moved.c" -luv ||
  fail "cannot build the moved program"
run "$ASYNCLEAK" --baseline="$tmp/base" "$tmp/moved"
expect_status 0
expect_line "$tmp/err" "In the baseline, not reported: 2 groups (2 resources)"
# ...while its lines did move.
run "$ASYNCLEAK" "$tmp/moved"
expect_status 23
vendor=$(grep -n '@vendor' "$tmp/moved.c" | grep -v CHECK | cut -d: -f1)
grep -q "in start_vendor_timer .*moved.c:$vendor\$" "$tmp/err" ||
  fail "the moved program's leak is not at line $vendor: $(cat "$tmp/err")"

# A written baseline holds the leaks already in one too: the new file
# replaces the old.
run "$ASYNCLEAK" --baseline="$tmp/old" --write-baseline="$tmp/again" "$prog"
expect_status 23
[ "$(grep -vc '^#' "$tmp/again")" -eq 2 ] ||
  fail "the rewritten baseline lost a line: $(cat "$tmp/again")"

# The same through ASYNCLEAK_OPTIONS.
run ASYNCLEAK_OPTIONS="baseline=$tmp/base" "$ASYNCLEAK" "$prog"
expect_status 0

# Bad baselines stop the run before the program starts.
run "$ASYNCLEAK" --baseline="$tmp/none" sh -c 'echo ran'
expect_status 125
expect_line "$tmp/err" "asyncleak: cannot read the baseline file '$tmp/none': No such file or directory"
[ ! -s "$tmp/out" ] || fail "the program ran without its baseline"
printf '# fine\n0123456789abcdeg bad digit\n' >"$tmp/bad"
run "$ASYNCLEAK" --baseline="$tmp/bad" sh -c 'echo ran'
expect_status 125
expect_line "$tmp/err" "asyncleak: $tmp/bad:2: malformed baseline line: expected a fingerprint of 16 hex digits"
[ ! -s "$tmp/out" ] || fail "the program ran with a malformed baseline"
# An unwritable --write-baseline too.
run "$ASYNCLEAK" --write-baseline="$tmp/no/such/dir" sh -c 'echo ran'
expect_status 125
expect_line "$tmp/err" "asyncleak: cannot write the --write-baseline file '$tmp/no/such/dir': No such file or directory"
[ ! -s "$tmp/out" ] || fail "the program ran with nowhere to write"

# One file for both: the runtime reads it at start, the command rewrites
# it at the end.
cp "$tmp/base" "$tmp/same"
run "$ASYNCLEAK" --baseline="$tmp/same" --write-baseline="$tmp/same" "$prog"
expect_status 0
[ "$(grep -vc '^#' "$tmp/same")" -eq 2 ] ||
  fail "the baseline read and written in one run lost lines: $(cat "$tmp/same")"

# A run that never happens leaves existing files as they were, and creates
# none.
echo "old" >"$tmp/keep.json"
run TMPDIR="$tmp/no-such-dir" "$ASYNCLEAK" --json="$tmp/keep.json" \
  --junit="$tmp/new.xml" "$prog"
expect_status 125
[ "$(cat "$tmp/keep.json")" = old ] || fail "a failed run emptied --json"
[ ! -e "$tmp/new.xml" ] || fail "a failed run left --junit's file"

# Files past the runtime's bounds are refused before the program runs.
{ echo "handle:x"; head -c 4200000 /dev/zero | tr '\0' '#'; echo; } \
  >"$tmp/big.supp"
run "$ASYNCLEAK" --suppressions="$tmp/big.supp" sh -c 'echo ran'
expect_status 125
expect_line "$tmp/err" "asyncleak: the suppressions file '$tmp/big.supp' is larger than 4194304 bytes"
[ ! -s "$tmp/out" ] || fail "the program ran with an oversized file"
exit 0
