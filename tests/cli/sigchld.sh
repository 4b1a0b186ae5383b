# A SIGCHLD that asyncleak was started with ignored stays ignored for the
# program: its children are reaped by the kernel, as without asyncleak,
# and waitpid() finds none (ECHILD). asyncleak itself still gets the
# program's status. The control: started with the default, the program
# reaps its child itself.
. tests/cli/lib.sh

status_py=tests/cli/status.py
cat >"$tmp/reaper.py" <<'PY'
import os
import sys
out = open(sys.argv[1], "w")
pid = os.fork()
if pid == 0:
    os._exit(3)
try:
    _, status = os.waitpid(pid, 0)
    out.write("reaped %d\n" % os.WEXITSTATUS(status))
except ChildProcessError:
    out.write("reaped by the kernel\n")
out.close()
os._exit(7)
PY

how=$(python3 "$status_py" --sigchld-ignored "$ASYNCLEAK" \
  python3 "$tmp/reaper.py" "$tmp/reaped" 2>"$tmp/err") ||
  fail "status.py failed"
expect_line "$tmp/reaped" "reaped by the kernel"
[ "$how" = "exit 7" ] || fail "asyncleak ended with '$how', not 'exit 7':
$(cat "$tmp/err")"

how=$(python3 "$status_py" "$ASYNCLEAK" python3 "$tmp/reaper.py" \
  "$tmp/reaped" 2>"$tmp/err") || fail "status.py failed"
expect_line "$tmp/reaped" "reaped 3"
[ "$how" = "exit 7" ] || fail "asyncleak ended with '$how', not 'exit 7'"
exit 0
