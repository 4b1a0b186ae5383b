# A program that installs a seccomp allowlist (tests/progs/uv-seccomp.c)
# ends as it would bare. When the filter kills or traps what it does not
# allow, the runtime makes no system call at exit that the filter could
# refuse, writes no report, and tells why; when it only makes calls fail,
# the report is attempted, and its loss has the filter for a cause.
# Without a filter, or when the kernel refuses it, the same program is
# reported. The same holds for a program that forks, executes and makes
# loops once locked in.
. tests/cli/lib.sh

prog=$O/progs/uv-seccomp
rt=$O/lib/libasyncleak.so
said="asyncleak: the program installs a seccomp filter: asyncleak writes no \
report at exit, for its own system calls might be refused or kill the process"

if [ -n "${SANITIZE:-}" ]; then
  echo "$test_name: a sanitizer's own exit work is refused by the filter" >&2
  exit 0
fi
run "$prog" kill prctl leak
if [ "$status" -eq 77 ]; then
  echo "$test_name: $(cat "$tmp/out")" >&2
  exit 0
fi

lost="asyncleak: '$prog' (pid [0-9]*) used libuv and left no complete \
report: the program installed a seccomp filter that"

# expect_sealed: the run under the command was not killed by SIGSYS, the
# program ended as it means to, and the report is missing with its cause,
# which fails the run.
expect_sealed() {
  [ "$status" -eq 125 ] ||
    fail "$what: under asyncleak, status $status; stderr: $(cat "$tmp/err")"
  expect_line "$tmp/out" "locked in, ending"
  expect_no "$tmp/err" "SIGSYS"
  if [ $action = errno ]; then
    grep -q "^$lost makes the calls it does not allow fail" "$tmp/err"
  else
    grep -q "^$lost kills or traps the calls it does not allow" "$tmp/err"
  fi || fail "$what: under asyncleak, no cause: $(cat "$tmp/err")"
}

for action in kill trap errno; do
  for how in prctl syscall; do
    for end in leak clean; do
      what="$action through $how, $end"
      # Bare: the filter lets the program end as it means to.
      run "$prog" $action $how $end
      [ "$status" -eq 0 ] || fail "$what: bare, status $status"
      expect_line "$tmp/out" "locked in, ending"

      # The runtime preloaded, no command: the program's own end. A filter
      # that kills or traps: one line, said before it was in force, and no
      # report. One that only makes calls fail: the report is attempted.
      run LD_PRELOAD="$rt" "$prog" $action $how $end
      [ "$status" -eq 0 ] ||
        fail "$what: preloaded, status $status; stderr: $(cat "$tmp/err")"
      expect_line "$tmp/out" "locked in, ending"
      if [ $action = errno ]; then
        expect_no "$tmp/err" "seccomp"
      else
        [ "$(cat "$tmp/err")" = "$said" ] ||
          fail "$what: preloaded, stderr: $(cat "$tmp/err")"
      fi

      # Under the command: not killed by SIGSYS; the report is missing,
      # with its cause, and the run fails unless told only to warn.
      run "$ASYNCLEAK" "$prog" $action $how $end
      expect_sealed
      run "$ASYNCLEAK" --missing-reports=warn "$prog" $action $how $end
      [ "$status" -eq 0 ] ||
        fail "$what: --missing-reports=warn, status $status"
    done
  done
done

# Locked in, the program forks a child that makes a loop and a timer and
# tries to execute a missing program, spawns that program, and makes a
# loop and a timer of its own (busy): the runtime makes no system call of
# its own for any of it under a filter that kills or traps (no child=,
# exec= or uses= line, no /proc, getcwd or access, no unwind, no record),
# so the program ends as bare.
for action in kill trap errno; do
  for how in prctl syscall; do
    for end in leak clean; do
      what="$action through $how, $end, busy"
      run "$prog" $action $how $end busy
      [ "$status" -eq 0 ] || fail "$what: bare, status $status"
      expect_line "$tmp/out" "locked in, ending"
      run LD_PRELOAD="$rt" "$prog" $action $how $end busy
      [ "$status" -eq 0 ] ||
        fail "$what: preloaded, status $status; stderr: $(cat "$tmp/err")"
      expect_line "$tmp/out" "locked in, ending"
      run "$ASYNCLEAK" "$prog" $action $how $end busy
      expect_sealed
    done
  done
done

# The controls: no filter, or one the kernel refused. The runtime still
# reports the timer left open, and says nothing of a filter.
for action in none invalid; do
  for how in prctl syscall; do
    run LD_PRELOAD="$rt" "$prog" $action $how leak
    [ "$status" -eq 0 ] || fail "$action $how: status $status"
    expect_line "$tmp/out" "locked in, ending"
    grep -q "ERROR: asyncleak: 1 handle left open at exit\$" "$tmp/err" ||
      fail "$action $how: no report: $(cat "$tmp/err")"
    if [ $action = invalid ]; then
      expect_line "$tmp/err" "$said"
      expect_line "$tmp/err" "asyncleak: the seccomp filter was not \
installed: the report will be written after all"
    else
      expect_no "$tmp/err" "seccomp filter"
    fi
    run "$ASYNCLEAK" "$prog" $action $how leak
    [ "$status" -eq 23 ] || fail "$action $how under asyncleak: status \
$status; stderr: $(cat "$tmp/err")"
    grep -q "ERROR: asyncleak: 1 handle left open at exit\$" "$tmp/err" ||
      fail "$action $how under asyncleak: no report: $(cat "$tmp/err")"
  done
done
exit 0
