# How asyncleak reads the report directory, shown with reports a program
# writes there itself. Their pids are above any the kernel gives, so that
# they cannot meet the runtime's own.
. tests/cli/lib.sh

cat >"$tmp/fake" <<'SCRIPT'
#!/bin/sh
dir=${ASYNCLEAK_OPTIONS##*report_dir=\'}
dir=${dir%\'}
sum() {
  printf 'pid=%s\nlibs=libuv\nloops=1\nloops_unclosed=1\n' "$1" >"$dir/$1.sum"
  printf 'handles_created=%s\nhandles_open=%s\ngroups=1\n' "$2" "$3" \
    >>"$dir/$1.sum"
}
echo "report of 10000000" >"$dir/10000000.txt"
sum 10000000 5 2
echo "report of 9999999" >"$dir/9999999.txt"
sum 9999999 1 1
sum 9999998 4 0
echo "half a report" >"$dir/10000001.txt"
echo "not a report" >"$dir/notes.txt"
echo "not a report" >"$dir/010000002.txt"
ln -s "$dir/10000000.txt" "$dir/10000003.txt"
mkfifo "$dir/10000004.txt"
exit "${1:-0}"
SCRIPT
chmod 755 "$tmp/fake"

run "$ASYNCLEAK" "$tmp/fake"
expect_status 23
# The reports in pid order, an incomplete one said to be so; nothing else.
grep -v "^asyncleak: '$tmp/fake' (pid [0-9]*) left no report" "$tmp/err" \
  >"$tmp/seen"
cat >"$tmp/expected" <<EOF2
report of 9999999
report of 10000000
asyncleak: process 10000001 left an incomplete report
half a report
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
