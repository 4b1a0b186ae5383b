# When the program dies of a signal, asyncleak prints the reports, writes
# its files, and then dies of the same signal, without a core dump of its
# own: a supervisor sees "killed by SIGTERM", not "exited with 143". A
# shell still shows 128+N. A program that exits with 143 itself is not
# taken for one killed.
. tests/cli/lib.sh

status_py=$PWD/tests/cli/status.py
case $ASYNCLEAK in
  /*) asyncleak=$ASYNCLEAK ;;
  *) asyncleak=$PWD/$ASYNCLEAK ;;
esac

# ends SIGNAL: the program kills itself with SIGNAL; asyncleak must end by
# it, after its report and its JSON file.
ends() {
  rm -f "$tmp/run.json"
  # Core dumps allowed, as far as the hard limit lets: asyncleak must not
  # make one all the same.
  how=$(ulimit -c unlimited 2>/dev/null || ulimit -c "$(ulimit -H -c)"
        cd "$tmp" && python3 "$status_py" "$asyncleak" \
          --json="$tmp/run.json" sh -c "kill -$1 \$\$" 2>"$tmp/err") ||
    fail "status.py failed"
  [ "$how" = "signal $2" ] ||
    fail "kill -$1: asyncleak ended with '$how', not 'signal $2'; stderr:
$(cat "$tmp/err")"
  grep -q "^asyncleak: 'sh' (pid [0-9]*) was killed by signal $2 " \
    "$tmp/err" || fail "no word of the signal: $(cat "$tmp/err")"
  grep -q '"status": '"$((128 + $2))" "$tmp/run.json" ||
    fail "the JSON report was not written before: $(cat "$tmp/run.json")"
}

ends TERM 15
ends INT 2
ends HUP 1
ends KILL 9
# A signal whose default makes a core: the program's, not asyncleak's.
# A sanitizer in the runtime keeps SIGSEGV for itself, and reports it.
[ -n "${SANITIZE:-}" ] || ends SEGV 11
ends ABRT 6

# The shell's view: 128+N, as before.
run "$ASYNCLEAK" sh -c 'kill -TERM $$'
expect_status 143

# The control: a program that exits with 143 is not killed, nor is
# asyncleak.
how=$(python3 "$status_py" "$ASYNCLEAK" sh -c 'exit 143' 2>"$tmp/err")
[ "$how" = "exit 143" ] || fail "exit 143 became '$how'"
expect_no "$tmp/err" "killed"

# asyncleak's own failure wins over the program's signal: a JSON file
# that cannot be written is exit 125, not the signal.
how=$(python3 "$status_py" "$ASYNCLEAK" --json=/dev/full \
  sh -c 'kill -TERM $$' 2>"$tmp/err")
[ "$how" = "exit 125" ] || fail "with --json=/dev/full: '$how'"
exit 0
