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

for t in "$@"; do
  if "$t" >"$O/unit.log" 2>&1; then
    pass=$((pass + 1))
    echo "PASS $(basename "$t")"
  else
    fail=$((fail + 1))
    echo "FAIL $(basename "$t")"
    sed 's/^/  | /' "$O/unit.log"
  fi
  [ -n "${SANITIZE:-}" ] && continue
  if valgrind -q --error-exitcode=99 --leak-check=full \
      --errors-for-leak-kinds=definite --suppressions=tests/valgrind.supp \
      "$t" >"$O/unit.log" 2>&1; then
    pass=$((pass + 1))
    echo "PASS $(basename "$t") (memcheck)"
  else
    fail=$((fail + 1))
    echo "FAIL $(basename "$t") (memcheck)"
    sed 's/^/  | /' "$O/unit.log"
  fi
done

echo "unit: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
