# Reports survive what a program does to itself after start: the runtime
# opens its report file as the process starts and keeps it, so that a
# change of user, a limit on open files, a seccomp filter, a chroot, a
# file size limit or a report directory deep in the tree do not lose it.
# A process that used libuv and left no complete report fails the run,
# with the cause named, unless --missing-reports=warn; one that used no
# loop library is only noted. Each way is run leaking (the leak must be
# reported) and clean (the negative control: nothing reported, status 0).
. tests/cli/lib.sh

prog=$O/progs/uv-lose-report
[ -x "$prog" ] || fail "'$prog' is not built"
leak_line="SUMMARY: asyncleak: 1 handle left open (1 uv_timer_t) from 1 \
creation site; 1 of 1 loop not closed"
clean_line="asyncleak: no leaks: 1 loop(s), 1 handle(s) created, all closed"

# both HOW [ARG]: the leak is reported and fails the run; the clean run
# passes. Where the program can no longer open files (nofile, seccomp, a
# user without access to its /proc, chroot) the frames may not be
# symbolized in the process: only the report is checked.
both() {
  run "$ASYNCLEAK" "$prog" "$1" leak ${2:+"$2"}
  expect_status 23
  expect_line "$tmp/err" "$leak_line"
  case $1 in
  nofile | seccomp | setuid | chroot) ;;
  *) grep -q "^    #0 0x[0-9a-f]* in main .*uv-lose-report.c:[0-9]*$" "$tmp/err" ||
       fail "$1: no frame in main: $(cat "$tmp/err")" ;;
  esac
  expect_no "$tmp/err" "no complete report"
  run "$ASYNCLEAK" "$prog" "$1" clean ${2:+"$2"}
  expect_status 0
  expect_line "$tmp/err" "$clean_line"
  expect_no "$tmp/err" "report"
}

both none
both nofile
both seccomp
# A soft file size limit is raised for the runtime's own writes, and
# SIGXFSZ held off.
both fsize
# A soft RLIMIT_AS is raised for the report, which libdw needs room for.
both as

# A report directory whose file names pass PATH_MAX: the runtime opens
# its file through the directory.
deep=$tmp
while [ ${#deep} -lt 3980 ]; do
  deep=$deep/dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd
done
mkdir -p "$deep" || fail "cannot make '$deep'"
run TMPDIR="$deep" "$ASYNCLEAK" "$prog" none leak
expect_status 23
expect_line "$tmp/err" "$leak_line"
run TMPDIR="$deep" "$ASYNCLEAK" "$prog" none clean
expect_status 0
expect_line "$tmp/err" "$clean_line"

# Under a hard RLIMIT_AS with no room left, the report is still made: the
# debug information that does not fit is left out, the frames are named by
# module+offset, and the report says why.
# A sanitizer reserves more address space than such a limit allows.
if [ -z "${SANITIZE:-}" ]; then
  run "$ASYNCLEAK" "$prog" as-hard leak
  expect_status 23
  expect_line "$tmp/err" "$leak_line"
  grep -q "^Frames not fully named: not enough memory to read the debug \
information of " "$tmp/err" || fail "no word of the frames: $(cat "$tmp/err")"
  run "$ASYNCLEAK" "$prog" as-hard clean
  expect_status 0
  expect_line "$tmp/err" "$clean_line"
fi

lost="asyncleak: '$prog' (pid [0-9]*) used libuv and left no complete report"
# Nothing of the file can be written: the cause is not known, the run
# fails all the same.
run "$ASYNCLEAK" "$prog" fsize-hard leak
expect_status 125
grep -q "^$lost: .*a file size limit)\$" "$tmp/err" ||
  fail "no loss said: $(cat "$tmp/err")"

# A child that used libuv and was killed fails the run, though the program
# exited 0; a child that used no loop library (sleep) is only noted.
run "$ASYNCLEAK" sh -c "'$prog' sigkill leak; exit 0"
expect_status 125
grep -q "^asyncleak: process [0-9]* (.*uv-lose-report) used libuv and left \
no complete report: it was killed by a signal" "$tmp/err" ||
  fail "no loss said: $(cat "$tmp/err")"
# --missing-reports=warn only warns, and the status is the program's.
run "$ASYNCLEAK" --missing-reports=warn sh -c "'$prog' sigkill leak; exit 0"
expect_status 0
grep -q "^asyncleak: warning: process [0-9]* (.*uv-lose-report) used libuv \
and left no complete report: it was killed by a signal" "$tmp/err" ||
  fail "no warning: $(cat "$tmp/err")"
run ASYNCLEAK_OPTIONS=missing_reports=warn "$ASYNCLEAK" sh -c \
  "'$prog' sigkill leak; exit 0"
expect_status 0
run "$ASYNCLEAK" sh -c 'sleep 30 & pid=$!; sleep 0.2; kill -KILL $pid;
  wait $pid; exit 0'
expect_status 0
grep -q "^asyncleak: note: process [0-9]* (.*sleep) left no report: it \
ended having used no loop library; nothing was lost\$" "$tmp/err" ||
  fail "no note: $(cat "$tmp/err")"
expect_no "$tmp/err" "SIGKILL"

# A new image of a process whose name meets a finished report (a reused
# pid) takes another name, and its report is read.
run "$ASYNCLEAK" "$prog" collide leak
expect_status 23
expect_line "$tmp/err" "$leak_line"

# A pid reused in one run: two programs that are each pid 1 of their own
# namespace.
if unshare -p -f true 2>/dev/null; then
  run "$ASYNCLEAK" sh -c "unshare -p -f '$prog' none leak;
    unshare -p -f '$prog' none leak"
  expect_status 23
  [ "$(grep -c "^==1==ERROR: asyncleak: 1 handle left open" "$tmp/err")" \
    -eq 2 ] || fail "not two reports of pid 1: $(cat "$tmp/err")"
  expect_line "$tmp/err" "asyncleak: 2 handle(s) left open in 2 process(es)"
  run "$ASYNCLEAK" sh -c "unshare -p -f '$prog' none clean;
    unshare -p -f '$prog' none clean"
  expect_status 0
  expect_line "$tmp/err" \
    "asyncleak: no leaks: 2 loop(s), 2 handle(s) created, all closed"
else
  echo "$test_name: no pid namespaces here: the reuse run is skipped"
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "$test_name: not root: the change of user and root are not tried"
  exit 0
fi
# Where user 65534 can read the program and the runtime.
pub=$(mktemp -d /tmp/asyncleak-channel.XXXXXX) || fail "no public directory"
trap 'rm -rf "$tmp" "$pub"' EXIT
chmod 755 "$pub"
cp "$prog" "$pub/prog"
mkdir "$pub/lib" && cp "$(dirname "$ASYNCLEAK")/../lib/libasyncleak.so" \
  "$pub/lib/" 2>/dev/null
prog=$pub/prog
both setuid
mkdir "$pub/empty"
both chroot "$pub/empty"

# inetd: a child that changes user and executes a program with no loop
# library is not said to have lost anything; one that executes a libuv
# program, which cannot reach the report directory, fails the run.
run "$ASYNCLEAK" "$prog" inetd clean /bin/true
expect_status 0
expect_line "$tmp/out" "service status 0"
expect_no "$tmp/err" "no complete report"
expect_no "$tmp/err" "ended without"
expect_line "$tmp/err" "$clean_line"
run "$ASYNCLEAK" "$prog" inetd clean "$prog"
expect_status 125
expect_line "$tmp/out" "service status 0"
grep -q "^asyncleak: process [0-9]* (.*prog) used libuv and left no \
complete report: it executed '$prog', which uses libuv, and that program \
wrote nothing" "$tmp/err" || fail "no loss said: $(cat "$tmp/err")"
exit 0
