# A process may enter a new user namespace only while it has one thread.
# The runtime's thread for live queries (lib/live.c), started at the first
# run of a loop, ends before the program's unshare(CLONE_NEWUSER), so that
# the call returns what it returns bare.
. tests/cli/lib.sh

prog=$O/progs/uv-unshare
run "$prog"
expect_status 0
bare=$(cat "$tmp/out")
case $bare in
  "0 "*) ;;
  *) echo "$test_name: skipped: unshare(CLONE_NEWUSER) fails bare here: $bare" >&2
     exit 77 ;;
esac
run "$ASYNCLEAK" "$prog"
expect_status 0
[ "$(cat "$tmp/out")" = "$bare" ] ||
  fail "unshare returned '$(cat "$tmp/out")' under asyncleak, '$bare' bare"
expect_no "$tmp/err" "ERROR"
