# The descriptors the runtime keeps do not take the numbers a program
# counts on (tests/progs/plugin/fd-numbers.c): a program that closed its
# stdin gets 0 from its next dup() after a seccomp filter or a chroot,
# for which the runtime opened the symbolizer's files; and daemon(3),
# which the runtime does itself, leaves /dev/null on stdin inherited by
# what the daemon executes.
. tests/cli/lib.sh

prog=$O/progs/fd-numbers
runtime=$(readlink -f "$(dirname "$ASYNCLEAK")/../lib/libasyncleak.so")
[ -x "$prog" ] || fail "'$prog' is not built"
preload="${LD_PRELOAD:+$LD_PRELOAD:}$runtime"
mkdir "$tmp/root"

for how in seccomp chroot; do
  if [ $how = chroot ] && [ "$(id -u)" -ne 0 ]; then
    echo "$test_name: chroot: not root, skipped" >&2
    continue
  fi
  # Bare, then with the runtime, then under the command.
  run "$prog" $how "$tmp/root"
  expect_status 0
  expect_line "$tmp/out" "dup: 0"
  run LD_PRELOAD="$preload" "$prog" $how "$tmp/root"
  expect_status 0
  expect_line "$tmp/out" "dup: 0"
  run "$ASYNCLEAK" "$prog" $how "$tmp/root"
  expect_status 0
  expect_line "$tmp/out" "dup: 0"
done

# wait_for FILE: until the daemon wrote it, 10 s at most.
wait_for() {
  tries=0
  until [ -s "$1" ]; do
    tries=$((tries + 1))
    [ "$tries" -lt 100 ] || fail "the daemon did not write '$1'"
    sleep 0.1
  done
}

run "$prog" daemon "$tmp/bare"
expect_status 0
wait_for "$tmp/bare"
expect_line "$tmp/bare" "stdin: inherited"
run LD_PRELOAD="$preload" "$prog" daemon "$tmp/preloaded"
expect_status 0
wait_for "$tmp/preloaded"
expect_line "$tmp/preloaded" "stdin: inherited"
exit 0
