# Handles that force mode closed at shutdown are leaks: they fail the run
# and are said, quiet or not. Resources asyncleak_ensure_closure closed are
# a warning only. The reports are written by the program itself, as in
# reports.sh, with pids above any the kernel gives; the shell's own
# report, written by the runtime as it ends, makes the run's reports
# complete, so that "no leaks" could be said.
. tests/cli/lib.sh

cat >"$tmp/fake" <<'SCRIPT'
#!/bin/sh
# fake OPEN:FORCED:ENSURED...: one process's report for each argument.
dir=${ASYNCLEAK_OPTIONS##*report_dir=\'}
dir=${dir%\'}
# block PID KIND TEXT: one part of the report file of process PID, which
# started at tick 1 (docs/report-format.md).
block() {
  printf '@%s %d\n%s\n\n' "$2" $((${#3} + 1)) "$3" >>"$dir/$1-1.report"
}
pid=10000000
for counts in "$@"; do
  open=${counts%%:*}
  ensured=${counts##*:}
  forced=${counts#*:}
  forced=${forced%:*}
  block $pid txt "report of $pid"
  block $pid sum "$(printf 'pid=%s\nlibs=libuv\nloops=1\nloops_unclosed=0\n\
handles_created=3\nhandles_open=%s\nhandles_forced=%s\n\
resources_ensured=%s\ngroups=1' "$pid" "$open" "$forced" "$ensured")"
  pid=$((pid + 1))
done
SCRIPT
chmod 755 "$tmp/fake"

forced="asyncleak: 2 handle(s) closed by force at shutdown in 1 process(es)"
ensured="asyncleak: warning: 1 resource(s) were closed at shutdown by \
asyncleak_ensure_closure"
clean="asyncleak: no leaks: 1 loop(s), 3 handle(s) created, all closed"

# Forced only: a leak, and never "no leaks".
run "$ASYNCLEAK" "$tmp/fake" 0:2:0
expect_status 23
expect_line "$tmp/err" "report of 10000000"
expect_line "$tmp/err" "$forced"
expect_no "$tmp/err" "left open"
expect_no "$tmp/err" "no leaks"
expect_no "$tmp/err" "warning"

# Quiet hides neither the report nor the line.
run "$ASYNCLEAK" -q "$tmp/fake" 0:2:0
expect_status 23
expect_line "$tmp/err" "report of 10000000"
expect_line "$tmp/err" "$forced"

run "$ASYNCLEAK" --error-exitcode=0 "$tmp/fake" 0:2:0
expect_status 0
expect_line "$tmp/err" "$forced"
run "$ASYNCLEAK" --error-exitcode=7 "$tmp/fake" 0:2:0
expect_status 7

# Open and forced add up each on its own line; the program's own failure
# still comes first.
run "$ASYNCLEAK" "$tmp/fake" 1:2:0 0:1:0
expect_status 23
expect_line "$tmp/err" "asyncleak: 1 handle(s) left open in 1 process(es)"
expect_line "$tmp/err" \
  "asyncleak: 3 handle(s) closed by force at shutdown in 2 process(es)"

# Ensured only: a warning, the run clean all the same.
run "$ASYNCLEAK" "$tmp/fake" 0:0:1
expect_status 0
expect_line "$tmp/err" "$ensured"
expect_line "$tmp/err" "$clean"
expect_no "$tmp/err" "closed by force"

run "$ASYNCLEAK" -q "$tmp/fake" 0:0:1
expect_status 0
[ "$(cat "$tmp/err")" = "$ensured" ] ||
  fail "quiet printed other than the warning: $(cat "$tmp/err")"

run "$ASYNCLEAK" "$tmp/fake" 0:0:1 0:0:2
expect_status 0
expect_line "$tmp/err" "asyncleak: warning: 3 resource(s) were closed at \
shutdown by asyncleak_ensure_closure"

# Both lines are about the run: they go to the log file with the rest.
run "$ASYNCLEAK" --log-file="$tmp/log" "$tmp/fake" 0:2:1
expect_status 23
expect_line "$tmp/log" "$forced"
expect_line "$tmp/log" "$ensured"
[ ! -s "$tmp/err" ] || fail "stderr has: $(cat "$tmp/err")"
