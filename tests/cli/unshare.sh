# Some calls only a process of one thread may make: unshare(CLONE_NEWUSER),
# also as a system call, and setns() into a user or mount namespace. The
# runtime's thread for live queries (lib/live.c), started at the first
# run of a loop, ends before them, so that each returns what it returns
# bare, also after the program closed every descriptor it did not open
# (the thread's socket among them), and without a wait.
. tests/cli/lib.sh

prog=$O/progs/uv-unshare
tried=0
for how in unshare syscall setns closed; do
  run "$prog" "$how"
  expect_status 0
  bare=$(cat "$tmp/out")
  case $bare in
    "0 "*) ;;
    *) echo "$test_name: $how fails bare here ($bare): not tried" >&2
       continue ;;
  esac
  run "$ASYNCLEAK" "$prog" "$how"
  [ "$status" -ne 124 ] || fail "$how hung under asyncleak"
  expect_status 0
  [ "$(cat "$tmp/out")" = "$bare" ] ||
    fail "$how returned '$(cat "$tmp/out")' under asyncleak, '$bare' bare"
  expect_no "$tmp/err" "ERROR"
  tried=$((tried + 1))
done
if [ $tried -eq 0 ]; then
  echo "$test_name: skipped: no namespace call works bare here" >&2
  exit 77
fi
