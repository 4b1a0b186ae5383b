#!/bin/sh
# Runs the unit tests, then each again under valgrind memcheck (skipped in a
# sanitizer build, where valgrind cannot run).
#
#   tests/run-unit.sh BUILD_DIR TEST...
set -u

O=$1
shift
pass=0
fail=0

# run NAME COMMAND...: runs one test command and counts it.
run() {
  name=$1
  shift
  if "$@" >"$O/unit.log" 2>&1; then
    pass=$((pass + 1))
    echo "PASS $name"
  else
    fail=$((fail + 1))
    echo "FAIL $name"
    sed 's/^/  | /' "$O/unit.log"
  fi
}

for t in "$@"; do
  run "$(basename "$t")" "$t"
  [ -n "${SANITIZE:-}" ] && continue
  run "$(basename "$t") (memcheck)" valgrind -q --error-exitcode=99 \
    --leak-check=full --errors-for-leak-kinds=definite \
    --suppressions=valgrind.supp "$t"
done

echo "unit: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
