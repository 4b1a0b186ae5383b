# The scenario runner never lets a file check nothing silently: a listed
# program with no directive, or with a line that looks like a directive
# but does not parse, fails; RUN-BY names the shell test that runs a
# program with no run of its own, and that test must exist. A shell test
# that skips says so, and is not counted as passed.
. tests/cli/lib.sh

runner() {
  status=0
  tests/run-scenarios.sh "$O" "$@" >"$tmp/out" 2>&1 || status=$?
}

mkdir "$tmp/progs"
printf '/* A program with no expectations at all. */\nint main(void) { return 0; }\n' \
  >"$tmp/progs/none.c"
runner "$tmp/progs/none.c"
expect_status 1
expect_line "$tmp/out" "FAIL none.c"
expect_line "$tmp/out" "  no directive parsed: the file would check nothing"

# Each of these lines would have been skipped without a word.
for bad in '[Leak] RUN: leak' 'CHECK-COUNT: x' 'CHECKNOT: x' 'RUN-AS: x' \
  'EXIT : 3'; do
  printf '/*\n * RUN: none\n * %s\n */\n' "$bad" >"$tmp/progs/bad.c"
  runner "$tmp/progs/bad.c"
  expect_status 1
  expect_line "$tmp/out" "FAIL bad.c"
  grep -qF -- "| 3: * $bad" "$tmp/out" ||
    fail "'$bad' not named: $(cat "$tmp/out")"
done

# mawk, the checker, reads no {n,m}: a CHECK with one would never match.
printf '/*\n * RUN: none\n * CHECK: ^a{2,}$\n */\n' >"$tmp/progs/interval.c"
runner "$tmp/progs/interval.c"
expect_status 1
expect_line "$tmp/out" "FAIL interval.c"
expect_line "$tmp/out" "  a CHECK with a {n,m} interval, which the checker's awk does not read:"

# RUN-BY: skipped when the test exists, a failure when it does not.
printf '/*\n * RUN-BY: tests/cli/daemon.sh\n */\n' >"$tmp/progs/by.c"
runner "$tmp/progs/by.c"
expect_status 0
expect_line "$tmp/out" "SKIP by.c (run by tests/cli/daemon.sh)"
printf '/*\n * RUN-BY: tests/cli/no-such-test.sh\n */\n' >"$tmp/progs/by.c"
runner "$tmp/progs/by.c"
expect_status 1
expect_line "$tmp/out" "FAIL by.c"

# A shell test passes by exiting 0 and is skipped by exiting 77, its last
# line saying why; any other status fails it.
printf 'echo some output\necho "t: skipped: no such program" >&2\nexit 77\n' \
  >"$tmp/skips.sh"
runner "$tmp/skips.sh"
expect_status 0
expect_line "$tmp/out" "SKIP $tmp/skips.sh: t: skipped: no such program"
expect_line "$tmp/out" "scenarios: 0 passed, 0 failed, 1 skipped"
printf 'exit 0\n' >"$tmp/passes.sh"
runner "$tmp/passes.sh"
expect_status 0
expect_line "$tmp/out" "PASS $tmp/passes.sh"
expect_line "$tmp/out" "scenarios: 1 passed, 0 failed"
printf 'echo why\nexit 78\n' >"$tmp/fails.sh"
runner "$tmp/fails.sh"
expect_status 1
expect_line "$tmp/out" "FAIL $tmp/fails.sh"
expect_line "$tmp/out" "  | why"
exit 0
