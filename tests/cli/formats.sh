# --json, --junit and --sarif: the run's report in forms other programs
# read. Each document is checked against its schema (docs/*.schema.json)
# and must say what the text report says.
. tests/cli/lib.sh

check_formats() {
  /usr/bin/python3 tests/cli/check-formats.py "$@"
}

# valid: the three documents of the last run pass their checks.
valid() {
  check_formats json "$tmp/r.json" docs/report.schema.json >"$tmp/problems" ||
    fail "invalid JSON report: $(cat "$tmp/problems")"
  check_formats sarif "$tmp/r.sarif" docs/sarif-required.schema.json \
    >"$tmp/problems" || fail "invalid SARIF: $(cat "$tmp/problems")"
  check_formats junit "$tmp/r.xml" >"$tmp/problems" ||
    fail "invalid JUnit XML: $(cat "$tmp/problems")"
}

# expect FILE EXPR VALUE: EXPR, a Python expression of the document d,
# prints VALUE (JSON for anything but a string).
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

# One uv_timer_t left open, created in start_heartbeat.
line=$(grep -n '/\* @leak \*/' tests/progs/uv-timer-leak.c | cut -d: -f1)
run_formats "$O/progs/uv-timer-leak"
expect_status 23
valid
j=$tmp/r.json
expect "$j" 'd["status"]' 23
expect "$j" 'd["leaks"]' 1
expect "$j" 'd["program"]["exit_code"]' 0
expect "$j" 'd["program"]["signal"]' null
expect "$j" 'len(d["processes"])' 1
p='d["processes"][0]'
expect "$j" "${p}['main']" true
expect "$j" "${p}['report']" complete
expect "$j" "${p}['totals']['handles_open']" 1
expect "$j" "len(${p}['leaks'])" 1
g="${p}['leaks'][0]"
expect "$j" "${g}['state']" open
expect "$j" "${g}['kind']" handle
expect "$j" "${g}['type']" uv_timer_t
expect "$j" "${g}['count']" 1
expect "$j" "${g}['baselined']" false
own="${g}['frames'][${g}['own_frame']]"
expect "$j" "${own}['function']" start_heartbeat
expect "$j" "${own}['file'].endswith('/uv-timer-leak.c')" true
expect "$j" "${own}['line']" "$line"
fingerprint=$(check_formats eval "$j" "${g}['fingerprint']")
# The text report shows the same fingerprint.
expect_line "$tmp/err" "  fingerprint $fingerprint"

s=$tmp/r.sarif
r='d["runs"][0]["results"]'
expect "$s" "len($r)" 1
expect "$s" "${r}[0]['ruleId']" asyncleak/handle-left-open
expect "$s" "${r}[0]['level']" error
loc="${r}[0]['locations'][0]['physicalLocation']"
expect "$s" "${loc}['region']['startLine']" "$line"
expect "$s" "${loc}['artifactLocation']['uri'].endswith('uv-timer-leak.c')" \
  true
expect "$s" "${r}[0]['partialFingerprints']['asyncleakFingerprint/v2']" \
  "$fingerprint"
expect "$s" "${r}[0]['message']['text']" \
  "1 handle of type uv_timer_t left open, created in start_heartbeat"
expect "$s" 'd["runs"][0]["invocations"][0]["exitCode"]' 23

x=$tmp/r.xml
expect "$x" 'len(d.findall("testsuite/testcase"))' 1
expect "$x" 'len(d.findall("testsuite/testcase/failure"))' 1
expect "$x" 'd.find("testsuite/testcase/failure").get("message")' \
  "1 handle of type uv_timer_t left open"
expect "$x" 'd.find("testsuite/testcase/failure").get("type")' open
expect "$x" 'd.find("testsuite").get("failures")' 1
# Test names stay the same from run to run, for a CI to follow a test's
# history: the program as typed, no pid; the pid is a property.
expect "$x" 'd.find("testsuite/testcase").get("name")' \
  "$O/progs/uv-timer-leak"
pid=$(check_formats eval "$j" 'd["processes"][0]["pid"]')
expect "$x" \
  'd.find("testsuite/testcase/properties/property[@name=\"pid\"]").get("value")' \
  "$pid"
# Several processes running the same program: numbered in the order they
# started, the same in two runs.
names() {
  run "$ASYNCLEAK" --junit="$tmp/r.xml" sh -c \
    "'$O/progs/uv-timer-leak' >/dev/null 2>&1; '$O/progs/uv-timer-leak' >/dev/null 2>&1; true"
  check_formats eval "$tmp/r.xml" \
    '" | ".join(c.get("name") for c in d.findall("testsuite/testcase"))'
}
first=$(names)
second=$(names)
[ "$first" = "$second" ] ||
  fail "test names changed between runs: '$first', then '$second'"
abs=$(cd "$(dirname "$O/progs/uv-timer-leak")" && pwd -P)/uv-timer-leak
case " $first " in
  *" | $abs | $abs #2 "* | *" | $abs | $abs #2") ;;
  *) fail "not numbered in order of start: '$first'" ;;
esac

# A program that closes everything: nothing fails, and the documents still
# have their shape. Its uv_spawn child runs true, which uses no loop.
run_formats "$O/progs/uv-every-type" clean
expect_status 0
valid
expect "$j" 'd["status"]' 0
expect "$j" 'd["leaks"]' 0
expect "$j" 'sum([len(p["leaks"]) for p in d["processes"]])' 0
expect "$j" 'len([p for p in d["processes"] if p["main"]])' 1
expect "$s" 'len(d["runs"][0]["results"])' 0
expect "$x" 'len(d.findall("testsuite/testcase/failure"))' 0
expect "$x" 'd.find("testsuite").get("failures")' 0

# Handles whose close never completed beside one left open: only the open
# one fails, in every document; the closing ones are there, with their
# state, and fail nothing (JSON fails=false, a SARIF note, JUnit's
# system-out).
run_formats "$O/progs/uv-close-no-run" leak
expect_status 23
valid
expect "$j" 'd["leaks"]' 1
expect "$j" 'd["processes"][0]["totals"]["handles_open"]' 1
expect "$j" 'd["processes"][0]["totals"]["handles_closing"]' 2
expect "$j" '[(g["state"], g["type"], g["fails"]) for g in d["processes"][0]["leaks"]]' \
  '[["open", "uv_check_t", true], ["closing", "uv_timer_t", false], ["closing", "uv_idle_t", false]]'
expect "$s" '[(r["ruleId"], r["level"]) for r in d["runs"][0]["results"]]' \
  '[["asyncleak/handle-left-open", "error"], ["asyncleak/handle-closing", "note"], ["asyncleak/handle-closing", "note"]]'
expect "$x" 'd.find("testsuite").get("failures")' 1
expect "$x" 'd.find("testsuite/testcase/system-out").text.count("closing, the close never completed (not a failure)")' 2
# With --fail-on-closing they fail too.
run_formats --fail-on-closing "$O/progs/uv-close-no-run"
expect_status 23
valid
expect "$j" 'd["leaks"]' 3
expect "$j" '[g["fails"] for g in d["processes"][0]["leaks"]]' '[true, true, true]'
expect "$s" '[r["level"] for r in d["runs"][0]["results"]]' '["error", "error", "error"]'
expect "$x" 'd.find("testsuite").get("failures")' 3

# A libevent program's leaks: the documents name libevent's types, and
# nothing in them says libuv, the SARIF rules' texts, shown beside each
# result, included. The negative control closes everything.
run_formats "$O/progs/ev-event-leak"
expect_status 23
valid
expect "$j" 'd["leaks"]' 3
expect "$s" '[r["ruleId"] for r in d["runs"][0]["results"]]' \
  '["asyncleak/handle-left-open", "asyncleak/handle-left-open", "asyncleak/handle-left-open"]'
expect "$s" 'd["runs"][0]["results"][0]["message"]["text"]' \
  "1 handle of type event (added) left open, created in main"
expect "$s" 'd["runs"][0]["tool"]["driver"]["rules"][0]["shortDescription"]["text"]' \
  "A handle of the program's event loop was still open when the program exited."
expect "$x" 'd.find("testsuite/testcase/failure").get("message")' \
  "1 handle of type event (added) left open"
for doc in "$j" "$s" "$x"; do
  ! grep -qi libuv "$doc" ||
    fail "$(basename "$doc") of a libevent program says libuv: $(grep -i libuv "$doc")"
done
run_formats "$O/progs/ev-event-leak" clean
expect_status 0
valid
expect "$j" 'd["leaks"]' 0
expect "$s" 'len(d["runs"][0]["results"])' 0
expect "$x" 'len(d.findall("testsuite/testcase/failure"))' 0

# A program killed by a signal: its report is missing. It used no loop
# library: noted, and skipped in JUnit. Arguments are any bytes: invalid
# UTF-8 still makes valid documents.
run_formats sh -c 'kill -KILL $$' "$(printf 'a"b\\c\001\377')"
expect_status 137
valid
expect "$j" 'd["program"]["signal"]' SIGKILL
expect "$j" 'd["program"]["exit_code"]' null
expect "$j" 'd["command"][3]' "$(printf 'a"b\\c\001\357\277\275')"
expect "$s" 'd["runs"][0]["invocations"][0]["executionSuccessful"]' false
expect "$x" 'len(d.findall("testsuite/testcase/error"))' 0
expect "$x" 'len(d.findall("testsuite/testcase/skipped"))' 1
expect "$j" 'd["processes"][0]["missing"]["verdict"]' noted
expect "$j" 'd["processes"][0]["report"]' missing

# A child that used libuv and was killed: its lost report fails the run,
# and is a failure in every format; the negative control loses nothing.
run_formats sh -c "'$O/progs/uv-lose-report' sigkill leak; exit 0"
expect_status 125
valid
expect "$j" '[p["missing"]["verdict"] for p in d["processes"] if p["missing"]]' \
  '["fails"]'
expect "$x" 'len(d.findall("testsuite/testcase/failure[@type=\"missing-report\"]"))' 1
expect "$s" '[n["level"] for n in d["runs"][0]["invocations"][0]["toolExecutionNotifications"]]' \
  '["error"]'
run_formats sh -c "'$O/progs/uv-lose-report' none clean; exit 0"
expect_status 0
valid
expect "$j" '[p["missing"] for p in d["processes"]]' '[null, null]'
expect "$x" 'len(d.findall("testsuite/testcase/failure"))' 0

# A file that cannot be written stops the run before the program runs.
run "$ASYNCLEAK" --json="$tmp/no-such-dir/r.json" sh -c "touch '$tmp/ran'"
expect_status 125
grep -qF "'$tmp/no-such-dir/r.json'" "$tmp/err" ||
  fail "the path is not named: $(cat "$tmp/err")"
[ ! -e "$tmp/ran" ] || fail "the program ran"

# A document may go to the command's own output: through a pipe, or into
# the file standard output goes to, after what the program wrote there.
{
  timeout -k 5 60 "$ASYNCLEAK" --json=/dev/stdout \
    "$O/progs/uv-timer-leak" 2>"$tmp/err"
  echo $? >"$tmp/piped.status"
} | cat >"$tmp/piped.json"
[ "$(cat "$tmp/piped.status")" -eq 23 ] ||
  fail "status $(cat "$tmp/piped.status") through a pipe: $(cat "$tmp/err")"
expect "$tmp/piped.json" 'd["leaks"]' 1
run "$ASYNCLEAK" --json=/dev/stdout sh -c 'echo program output'
expect_status 0
[ "$(head -n 1 "$tmp/out")" = "program output" ] ||
  fail "the program's output was overwritten: $(head -n 3 "$tmp/out")"
tail -n +2 "$tmp/out" >"$tmp/after.json"
expect "$tmp/after.json" 'd["command"][2]' "echo program output"
