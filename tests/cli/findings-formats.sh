# The findings of the debug checks in --json, --junit and --sarif: listed
# apart from the leaks, warnings unless --fail-on-findings, and each
# document valid against its schema.
. tests/cli/lib.sh

check_formats() {
  /usr/bin/python3 tests/cli/check-formats.py "$@"
}

valid() {
  check_formats json "$tmp/r.json" docs/report.schema.json >"$tmp/problems" ||
    fail "invalid JSON report: $(cat "$tmp/problems")"
  check_formats sarif "$tmp/r.sarif" docs/sarif-required.schema.json \
    >"$tmp/problems" || fail "invalid SARIF: $(cat "$tmp/problems")"
  check_formats junit "$tmp/r.xml" >"$tmp/problems" ||
    fail "invalid JUnit XML: $(cat "$tmp/problems")"
}

expect() {
  value=$(check_formats eval "$1" "$2" 2>&1) ||
    fail "cannot evaluate $2 in $(basename "$1"): $value"
  [ "$value" = "$3" ] ||
    fail "$(basename "$1"): $2 is '$value', expected '$3'"
}

run_formats() {
  rm -f "$tmp/r.json" "$tmp/r.xml" "$tmp/r.sarif"
  run "$ASYNCLEAK" --json="$tmp/r.json" --junit="$tmp/r.xml" \
    --sarif="$tmp/r.sarif" "$@"
}

prog=$O/progs/uv-use-after-close
src=tests/progs/uv-use-after-close.c
start=$(grep -n '/\* @start \*/' $src | cut -d: -f1)
close=$(grep -n '/\* @close \*/' $src | cut -d: -f1)

# A uv_timer_start after the close: a finding, not a failure.
run_formats --debug-checks "$prog" start
expect_status 0
valid
j=$tmp/r.json
p='d["processes"][0]'
expect "$j" 'd["leaks"]' 0
expect "$j" "${p}['totals']['findings']" 1
expect "$j" "${p}['totals']['findings_dropped']" 0
expect "$j" "len(${p}['leaks'])" 0
expect "$j" "len(${p}['findings'])" 1
f="${p}['findings'][0]"
expect "$j" "${f}['check']" use-after-close
expect "$j" "${f}['call']" uv_timer_start
expect "$j" "${f}['type']" uv_timer_t
expect "$j" "${f}['count']" 1
expect "$j" "${f}['fails']" false
expect "$j" "${f}['frames'][${f}['own_frame']]['function']" start_again
expect "$j" "${f}['frames'][${f}['own_frame']]['line']" "$start"
expect "$j" "${f}['related_frames'][0]['function']" close_timer
expect "$j" "${f}['related_frames'][0]['line']" "$close"
s=$tmp/r.sarif
r='d["runs"][0]["results"]'
expect "$s" "len($r)" 1
expect "$s" "${r}[0]['ruleId']" asyncleak/use-after-close
expect "$s" "${r}[0]['level']" warning
expect "$s" "${r}[0]['locations'][0]['physicalLocation']['region']['startLine']" "$start"
expect "$s" "${r}[0]['relatedLocations'][0]['physicalLocation']['region']['startLine']" "$close"
expect "$s" "${r}[0]['message']['text']" \
  "uv_timer_start on a uv_timer_t already closed, 1 time, in start_again; closed first in close_timer"
x=$tmp/r.xml
grep -q 'failures="0"' "$x" || fail "a finding failed the JUnit suite: $(cat "$x")"
grep -q '<system-out>use-after-close: uv_timer_start on a uv_timer_t already closed.*(not a failure)' "$x" ||
  fail "no finding in the JUnit system-out: $(cat "$x")"

# With --fail-on-findings: an error, a failure, and the status of leaks.
run_formats --debug-checks --fail-on-findings "$prog" start
expect_status 23
valid
expect "$j" 'd["leaks"]' 1
expect "$j" "${f}['fails']" true
expect "$s" "${r}[0]['level']" error
grep -q '<failure message="uv_timer_start on a uv_timer_t already closed, 1 time, in start_again; closed first in close_timer" type="use-after-close">' "$x" ||
  fail "no JUnit failure for the finding: $(cat "$x")"
grep -q 'failures="1"' "$x" || fail "the JUnit suite counts no failure: $(cat "$x")"

# The negative control: the memory made a timer again; nothing found.
run_formats --debug-checks --fail-on-findings "$prog" reuse
expect_status 0
valid
expect "$j" "${p}['totals']['findings']" 0
expect "$j" "len(${p}['findings'])" 0
expect "$s" "len($r)" 0
# The wrong thread: both threads' ids, the caller not the main thread,
# the loop's thread the process's main one; the run's beginning as the
# related stack.
prog=$O/progs/uv-wrong-thread
src=tests/progs/uv-wrong-thread.c
call=$(grep -n '/\* @call \*/' $src | cut -d: -f1)
runl=$(grep -n '/\* @run \*/' $src | cut -d: -f1)
run_formats --debug-checks --slow-callback=600000 "$prog" call
expect_status 0
valid
expect "$j" "len(${p}['findings'])" 1
expect "$j" "${f}['check']" wrong-thread
expect "$j" "${f}['call']" uv_timer_start
expect "$j" "${f}['type']" uv_timer_t
expect "$j" "${f}['fails']" false
expect "$j" "${f}['loop_thread'] == ${p}['pid']" true
expect "$j" "${f}['thread'] not in (None, ${p}['pid'])" true
expect "$j" "${f}['frames'][${f}['own_frame']]['function']" call_from_worker
expect "$j" "${f}['frames'][${f}['own_frame']]['line']" "$call"
expect "$j" "${f}['related_frames'][0]['function']" main
expect "$j" "${f}['related_frames'][0]['line']" "$runl"
expect "$s" "len($r)" 1
expect "$s" "${r}[0]['ruleId']" asyncleak/wrong-thread
expect "$s" "${r}[0]['level']" warning
expect "$s" "${r}[0]['locations'][0]['physicalLocation']['region']['startLine']" "$call"
expect "$s" "${r}[0]['relatedLocations'][0]['physicalLocation']['region']['startLine']" "$runl"
expect "$s" "${r}[0]['properties']['loopThread'] == ${r}[0]['properties']['pid']" true
grep -q '<system-out>wrong-thread: uv_timer_start on a uv_timer_t from thread [0-9]* while thread [0-9]* runs its loop, 1 time, in call_from_worker; the run of its loop began in main.*(not a failure)' "$x" ||
  fail "no wrong-thread finding in the JUnit system-out: $(cat "$x")"

run_formats --debug-checks --slow-callback=600000 --fail-on-findings "$prog" call
expect_status 23
valid
expect "$s" "${r}[0]['level']" error
grep -q '<failure message="uv_timer_start on a uv_timer_t from thread [0-9]* while thread [0-9]* runs its loop, 1 time, in call_from_worker; the run of its loop began in main" type="wrong-thread">' "$x" ||
  fail "no JUnit failure for the wrong thread: $(cat "$x")"

# The negative control: a loop handed over between threads.
run_formats --debug-checks --slow-callback=600000 --fail-on-findings "$prog" handover
expect_status 0
valid

# The slow-callback check: the creation site of the timer, the callback
# function by name and line, the count and the longest time.
prog=$O/progs/uv-slow-callback
src=tests/progs/uv-slow-callback.c
made=$(grep -n '/\* @timer \*/' $src | cut -d: -f1)
slow=$(grep -n '/\* @slow \*/' $src | cut -d: -f1)
run_formats --slow-callback=100 "$prog" timer
expect_status 0
valid
expect "$j" 'd["leaks"]' 0
expect "$j" "${p}['totals']['findings']" 2
expect "$j" "len(${p}['findings'])" 1
expect "$j" "${f}['check']" slow-callback
expect "$j" "${f}['call']" uv_timer_start
expect "$j" "${f}['type']" uv_timer_t
expect "$j" "${f}['count']" 2
expect "$j" "${f}['value'] >= 300" true
expect "$j" "${f}['fails']" false
expect "$j" "${f}['frames'][${f}['own_frame']]['function']" make_timer
expect "$j" "${f}['frames'][${f}['own_frame']]['line']" "$made"
expect "$j" "len(${f}['related_frames'])" 1
expect "$j" "${f}['related_frames'][0]['function']" slow_timer
expect "$j" "${f}['related_frames'][0]['line']" "$slow"
expect "$s" "len($r)" 1
expect "$s" "${r}[0]['ruleId']" asyncleak/slow-callback
expect "$s" "${r}[0]['level']" warning
expect "$s" "${r}[0]['locations'][0]['physicalLocation']['region']['startLine']" "$made"
expect "$s" "${r}[0]['relatedLocations'][0]['physicalLocation']['region']['startLine']" "$slow"
expect "$s" "${r}[0]['relatedLocations'][0]['message']['text']" \
  "the callback slow_timer"
expect "$s" "${r}[0]['properties']['value'] >= 300" true
grep -q 'failures="0"' "$x" || fail "a slow callback failed the JUnit suite: $(cat "$x")"
grep -q '<system-out>slow-callback: uv_timer_start callback on a uv_timer_t held its loop, 2 times, the longest [0-9]* ms, created in make_timer; the callback slow_timer (not a failure)' "$x" ||
  fail "no slow callback in the JUnit system-out: $(cat "$x")"

run_formats --slow-callback=100 --fail-on-findings "$prog" timer
expect_status 23
valid
expect "$s" "${r}[0]['level']" error
grep -q '<failure message="uv_timer_start callback on a uv_timer_t held its loop, 2 times, the longest [0-9]* ms, created in make_timer; the callback slow_timer" type="slow-callback">' "$x" ||
  fail "no JUnit failure for the slow callback: $(cat "$x")"
grep -q '^the callback:$' "$x" ||
  fail "no callback in the JUnit failure: $(cat "$x")"

# The negative control: a fast callback, nothing in any format.
run_formats --slow-callback=100 --fail-on-findings "$prog" fast
expect_status 0
valid
expect "$j" "${p}['totals']['findings']" 0
expect "$j" "len(${p}['findings'])" 0
expect "$s" "len($r)" 0

# Findings made before the process executed another program: counted in
# the totals, as dropped (no group to show), a JUnit failure of their own
# and a SARIF notification when they fail the run; never a "skipped"
# process, nor a failure that names no cause.
prog=$O/progs/uv-findings-exec
run_formats --debug-checks --fail-on-findings "$prog" exec
expect_status 23
valid
expect "$j" "${p}['totals']['findings']" 1
expect "$j" "${p}['totals']['findings_dropped']" 1
n='d["runs"][0]["invocations"][0]["toolExecutionNotifications"]'
expect "$s" "len($r)" 0
expect "$s" "len($n)" 1
expect "$s" "${n}[0]['properties']['kind']" findings-before-exec
expect "$s" "${n}[0]['level']" error
grep -q '<failure message="1 finding(s) of the debug checks made before the process executed another program: counted, not shown" type="findings-before-exec"/>' "$x" ||
  fail "no JUnit failure for the findings before the exec: $(cat "$x")"
grep -q 'type="unlisted"' "$x" && fail "an unlisted failure: $(cat "$x")"
grep -q '<skipped' "$x" && fail "the process was skipped: $(cat "$x")"
# Not failing: a warning, and no JUnit failure.
run_formats --debug-checks "$prog" exec
expect_status 0
valid
expect "$s" "${n}[0]['level']" warning
grep -q 'failures="0"' "$x" || fail "a JUnit failure: $(cat "$x")"
# The negative control: no finding, nothing said.
run_formats --debug-checks --fail-on-findings "$prog" clean
expect_status 0
valid
expect "$s" "'toolExecutionNotifications' in d['runs'][0]['invocations'][0]" false
exit 0
