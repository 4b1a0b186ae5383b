# A program that writes its whole report and then dies of a signal, as the
# runtime makes it do under --graceful-signals: 128 + the signal, the line
# saying how it died, its report, and no word of a missing one. killed.sh
# covers the program that writes none. The fake writes the report itself,
# so the runtime's own, written on the signal, is turned off.
. tests/cli/lib.sh

cat >"$tmp/fake" <<'SCRIPT'
#!/bin/sh
# fake SIGNAL OPEN, or fake SIGNAL partial for a report without its
# totals. Not exec'd into anything: $$ is the pid asyncleak started, and
# its report file is the one the runtime made for it as sh started.
dir=${ASYNCLEAK_OPTIONS##*report_dir=\'}
dir=${dir%\'}
echo $$
for file in "$dir/$$"-*.report; do :; done
block() {
  printf '@%s %d\n%s\n\n' "$1" $((${#2} + 1)) "$2" >>"$file"
}
block txt "report of $$"
if [ "$2" != partial ]; then
  block sum "$(printf 'pid=%s\nlibs=libuv\nloops=1\nloops_unclosed=0\n\
handles_created=2\nhandles_open=%s' $$ "$2")"
fi
kill -"$1" $$
SCRIPT
chmod 755 "$tmp/fake"

excuse="asyncleak: it was killed before it could write its report (SIGTERM: \
a handler of its own, --handle-signals=no, or a report slower than \
report_timeout_ms); handles open at that moment are not listed"

run "$ASYNCLEAK" --handle-signals=no "$tmp/fake" TERM 0
expect_status 143
pid=$(cat "$tmp/out")
expect_line "$tmp/err" "asyncleak: '$tmp/fake' (pid $pid) was killed by \
signal 15 (SIGTERM: Terminated)"
expect_line "$tmp/err" "report of $pid"
expect_no "$tmp/err" "$excuse"
expect_no "$tmp/err" "left no report"
# The report is complete: it can say that nothing leaked.
expect_line "$tmp/err" \
  "asyncleak: no leaks: 1 loop(s), 2 handle(s) created, all closed"

# What it left open is counted; the status is still the signal's.
run "$ASYNCLEAK" --handle-signals=no "$tmp/fake" INT 1
expect_status 130
pid=$(cat "$tmp/out")
expect_line "$tmp/err" "asyncleak: '$tmp/fake' (pid $pid) was killed by \
signal 2 (SIGINT: Interrupt)"
expect_line "$tmp/err" "asyncleak: 1 handle(s) left open in 1 process(es)"
expect_no "$tmp/err" "$excuse"

# A report without its totals is not complete: as without one.
run "$ASYNCLEAK" --handle-signals=no "$tmp/fake" TERM partial
expect_status 143
pid=$(cat "$tmp/out")
expect_line "$tmp/err" "asyncleak: process $pid left an incomplete report"
expect_line "$tmp/err" "$excuse"
expect_no "$tmp/err" "no leaks"
