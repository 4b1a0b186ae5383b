# A server that changes user and then forks libuv workers
# (tests/progs/plugin/fork-setuid.c): a worker cannot make its report
# file in the run's directory, which belongs to root. It says so through
# its parent's file ("child_error="), and since its parent used libuv,
# which it carries, its lost report fails the run, with the cause, whether
# it leaked or not: what it did cannot be known. --missing-reports=warn
# only warns. The control: a worker forked before the change of user
# makes its file, and its report is judged as any other.
. tests/cli/lib.sh

prog=$O/progs/fork-setuid
[ -x "$prog" ] || fail "'$prog' is not built"
if [ "$(id -u)" -ne 0 ]; then
  echo "$test_name: not root: cannot change user" >&2
  exit 0
fi
# The program must reach its own binary and libraries as user 65534.
cp "$prog" "$tmp/fork-setuid"
chmod 755 "$tmp" "$tmp/fork-setuid"
prog=$tmp/fork-setuid
cause="used libuv and left no complete report: it could not make its \
report file (Permission denied): its parent had changed user or root \
directory before forking it, and it ran on with the libuv its parent used"

for end in leak clean; do
  run "$ASYNCLEAK" "$prog" after $end
  expect_status 125
  expect_line "$tmp/out" "the worker ended"
  grep -q "^asyncleak: process [0-9]* ([^)]*fork-setuid) $cause" \
    "$tmp/err" || fail "after, $end: no cause: $(cat "$tmp/err")"
  run "$ASYNCLEAK" --missing-reports=warn "$prog" after $end
  expect_status 0
  grep -q "^asyncleak: warning: process [0-9]* ([^)]*fork-setuid) $cause" \
    "$tmp/err" || fail "after, $end, warn: no warning: $(cat "$tmp/err")"
done

# The control: forked before the change of user, the worker reports.
run "$ASYNCLEAK" "$prog" before clean
expect_status 0
expect_line "$tmp/out" "the worker ended"
expect_no "$tmp/err" "left no complete report"
run "$ASYNCLEAK" "$prog" before leak
expect_status 23
grep -q "ERROR: asyncleak: 1 handle left open at exit\$" "$tmp/err" ||
  fail "before, leak: no report: $(cat "$tmp/err")"
expect_no "$tmp/err" "left no complete report"
exit 0
