# Programs with their own copy of a loop library, linked from Debian's
# static archives: their calls to it never reach the runtime. Leaking or
# clean, such a run must not pass (status 125), and must name the copy;
# one that also uses the system's libuv is reported as incomplete, and
# fails on what it leaked there as usual.
. tests/cli/lib.sh

copy_line() { # PROG LIBRARY
  echo "asyncleak: process [0-9]* carries its own copy of $2, in '.*/$1': \
asyncleak cannot watch it, and nothing made with it was checked"
}

expect_match() { # FILE ERE
  grep -qx -- "$2" "$1" || fail "no line matching '$2' in $(basename "$1"), \
which has:
$(cat "$1")"
}

for p in copy-uv copy-uv-exported copy-uv-stripped copy-event copy-libev \
  copy-libev-exported copy-libev-stripped; do
  [ -x "$O/progs/$p" ] || fail "'$O/progs/$p' is not built"
  case $p in
  copy-event) lib=libevent ;;
  copy-libev*) lib=libev ;;
  *) lib=libuv ;;
  esac
  for mode in leak clean; do
    run "$ASYNCLEAK" "$O/progs/$p" "$mode"
    expect_status 125
    expect_match "$tmp/err" "$(copy_line "$p" "$lib")"
    expect_line "$tmp/err" "asyncleak: nothing was checked: '$O/progs/$p' \
carries its own copy of a loop library, which asyncleak cannot watch"
    expect_no "$tmp/err" "no leaks"
    expect_no "$tmp/err" "no supported event loop library"
    [ -s "$tmp/out" ] || fail "$p $mode did not run"
  done
  # Quiet does not hide it.
  run "$ASYNCLEAK" -q "$O/progs/$p" clean
  expect_status 125
  expect_match "$tmp/err" "$(copy_line "$p" "$lib")"
done

# A leak found still fails as a leak (23); the program's own failure wins.
run "$ASYNCLEAK" "$O/progs/copy-mixed" leak
expect_status 23
expect_line "$tmp/err" "==$(sed -n 's/^==\([0-9]*\)==ERROR.*/\1/p' \
  "$tmp/err")==ERROR: asyncleak: 1 handle left open at exit"
expect_frame0 "$tmp/err" plugin_start plugin-timer.c
expect_match "$tmp/err" "$(copy_line copy-mixed libuv)"

run "$ASYNCLEAK" "$O/progs/copy-mixed" clean
expect_status 125
expect_match "$tmp/err" "$(copy_line copy-mixed libuv)"
expect_line "$tmp/err" "asyncleak: the check is incomplete: no leaks in \
what could be watched (1 loop(s), 1 handle(s) created), but the copies of \
a loop library named above were not checked"
expect_no "$tmp/err" "no leaks:"

# --error-exitcode=0 lets leaks pass, not what could not be watched.
run "$ASYNCLEAK" --error-exitcode=0 "$O/progs/copy-mixed" leak
expect_status 125

# The machine-readable reports say it too.
run "$ASYNCLEAK" --json="$tmp/r.json" --junit="$tmp/r.xml" \
  --sarif="$tmp/r.sarif" "$O/progs/copy-uv" clean
expect_status 125
python3 - "$tmp/r.json" "$tmp/r.xml" "$tmp/r.sarif" <<'PY' || fail "reports"
import json, jsonschema, sys, xml.etree.ElementTree as ET
j = json.load(open(sys.argv[1]))
jsonschema.validate(j, json.load(open("docs/report.schema.json")))
assert j["status"] == 125, j["status"]
main = [p for p in j["processes"] if p["main"]][0]
assert [c["library"] for c in main["copies"]] == ["libuv"], main["copies"]
assert main["copies"][0]["object"].endswith("/copy-uv"), main["copies"]
x = ET.parse(sys.argv[2]).getroot()
assert x.get("failures") == "1" and x.get("skipped") == "0", x.attrib
f = x.find(".//failure")
assert f.get("type") == "unwatched" and "copy of libuv" in f.get("message")
s = json.load(open(sys.argv[3]))
inv = s["runs"][0]["invocations"][0]
assert inv["executionSuccessful"] is False and inv["exitCode"] == 125
n = inv["toolExecutionNotifications"]
assert len(n) == 1 and n[0]["level"] == "error", n
assert n[0]["properties"]["library"] == "libuv", n
PY

# Each copy of libev is found by what its object holds: the one exporting
# libev's functions by them, the others by libev's string alone.
for p in copy-libev-exported copy-libev copy-libev-stripped; do
  exports=$(nm -D --defined-only "$O/progs/$p" | grep -c ' ev_run$')
  case $p in
  *-exported) [ "$exports" -eq 1 ] || fail "$p does not export ev_run" ;;
  *) [ "$exports" -eq 0 ] || fail "$p exports ev_run" ;;
  esac
done

# A copy of libev, in the JSON report.
run "$ASYNCLEAK" --json="$tmp/r.json" "$O/progs/copy-libev-stripped" clean
expect_status 125
python3 - "$tmp/r.json" <<'PY' || fail "libev's copy in the JSON report"
import json, jsonschema, sys
j = json.load(open(sys.argv[1]))
jsonschema.validate(j, json.load(open("docs/report.schema.json")))
main = [p for p in j["processes"] if p["main"]][0]
assert [c["library"] for c in main["copies"]] == ["libev"], main["copies"]
assert main["copies"][0]["object"].endswith("/copy-libev-stripped")
PY

# Negative controls: the system's libuv and libevent are no copies, and a
# program using them cleanly passes; one using no loop is not failed.
run "$ASYNCLEAK" "$O/progs/uv-plugin" clean
expect_status 0
expect_no "$tmp/err" "own copy"
run "$ASYNCLEAK" "$O/progs/ev-event-leak" clean
expect_status 0
expect_no "$tmp/err" "own copy"
run "$ASYNCLEAK" /bin/true
expect_status 0
expect_no "$tmp/err" "own copy"
# Debian's libev.so.4 is libev itself, not a copy: whatever the runtime
# makes of the program, it does not call the run unwatched.
for mode in leak clean; do
  run "$ASYNCLEAK" "$O/progs/copy-libev-shared" "$mode"
  [ "$status" -ne 125 ] || fail "copy-libev-shared $mode: status 125; \
stderr was:
$(cat "$tmp/err")"
  expect_no "$tmp/err" "own copy"
  [ -s "$tmp/out" ] || fail "copy-libev-shared $mode did not run"
done
run "$ASYNCLEAK" "$O/progs/copy-libev-shared" clean
expect_status 0
