# How asyncleak reads the report directory, shown with reports a program
# writes there itself. Their pids are above any the kernel gives, so that
# they cannot meet the runtime's own.
. tests/cli/lib.sh

cat >"$tmp/fake" <<'SCRIPT'
#!/bin/sh
dir=${ASYNCLEAK_OPTIONS##*report_dir=\'}
dir=${dir%\'}
# block PID KIND TEXT: one part of the report file of process PID, which
# started at tick 1 (docs/report-format.md).
block() {
  printf '@%s %d\n%s\n\n' "$2" $((${#3} + 1)) "$3" >>"$dir/$1-1.report"
}
sum() {
  block "$1" sum "$(printf 'pid=%s\nlibs=libuv\nloops=1\nloops_unclosed=1\n\
handles_created=%s\nhandles_open=%s\ngroups=1' "$1" "$2" "$3")"
}
block 10000000 txt "report of 10000000"
sum 10000000 5 2
block 9999999 txt "report of 9999999"
sum 9999999 1 1
sum 9999998 4 0
[ "$2" = half ] && block 10000001 txt "half a report"
echo "not a report" >"$dir/notes.txt"
echo "not a report" >"$dir/010000002-1.report"
echo "not a report" >"$dir/10000002.report"
ln -s "$dir/10000000-1.report" "$dir/10000003-1.report"
mkfifo "$dir/10000004-1.report"
exit "${1:-0}"
SCRIPT
chmod 755 "$tmp/fake"

run "$ASYNCLEAK" "$tmp/fake" 0 half
expect_status 23
# The reports in pid order, an incomplete one said to be so; nothing else.
grep -v "^asyncleak: '$tmp/fake' (pid [0-9]*) left no report" "$tmp/err" \
  >"$tmp/seen"
cat >"$tmp/expected" <<EOF2
report of 9999999
report of 10000000
asyncleak: process 10000001 left an incomplete report
half a report
asyncleak: process 10000001 (?) used a loop library and left no complete \
report: it ended while writing its report
asyncleak: 1 process(es) used a loop library and left no complete report: \
what they leaked is not known; the run fails (--missing-reports=warn only \
warns)
asyncleak: 3 handle(s) left open in 2 process(es)
EOF2
diff "$tmp/expected" "$tmp/seen" >"$tmp/diff" ||
  fail "unexpected output: $(cat "$tmp/diff")"

# Quiet does not hide leaks.
run "$ASYNCLEAK" -q "$tmp/fake"
expect_status 23
expect_line "$tmp/err" "report of 9999999"
expect_line "$tmp/err" "asyncleak: 3 handle(s) left open in 2 process(es)"

run "$ASYNCLEAK" --error-exitcode=0 "$tmp/fake"
expect_status 0
run "$ASYNCLEAK" --error-exitcode=255 "$tmp/fake"
expect_status 255
run "$ASYNCLEAK" "$tmp/fake" 5
expect_status 5

# Without its leaks, the half report alone fails the run, even when leaks
# do not (--error-exitcode=0): what it held is not known.
run "$ASYNCLEAK" --error-exitcode=0 "$tmp/fake" 0 half
expect_status 125
run "$ASYNCLEAK" --error-exitcode=0 --missing-reports=warn "$tmp/fake" 0 half
expect_status 0
expect_line "$tmp/err" "asyncleak: warning: 1 process(es) used a loop \
library and left no complete report: what they leaked is not known \
(--missing-reports=warn)"
