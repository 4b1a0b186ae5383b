# A program that runs as another user cannot have the runtime preloaded:
# asyncleak warns, and still runs it.
. tests/cli/lib.sh

said="asyncleak: warning: '$tmp/true' is setuid: the loader ignores \
LD_PRELOAD, nothing will be seen"

cp /bin/true "$tmp/true"
chmod 4755 "$tmp/true"

# Set-user-ID to its owner, the one running it: nothing changes.
run "$ASYNCLEAK" "$tmp/true"
expect_status 0
expect_no "$tmp/err" "warning"

if [ "$(id -u)" -ne 0 ]; then
  echo "$test_name: not root: cannot give a file to another user" >&2
  exit 0
fi
chown 65534 "$tmp/true"
chmod 4755 "$tmp/true"
run "$ASYNCLEAK" "$tmp/true"
expect_status 0
expect_line "$tmp/err" "$said"
[ "$(grep -c warning "$tmp/err")" -eq 1 ] || fail "warned more than once"

# The runtime in a set-user-ID process reads no option from the
# environment: ASYNCLEAK_OPTIONS is chosen by whoever runs the program.
# The control first: run as its owner, the options are obeyed.
prog=$tmp/secure-options
cp "$O/progs/secure-options" "$prog"
chmod 755 "$tmp"
mkdir -m 777 "$tmp/logs"
opts="help=1:log_path=$tmp/logs/report"
run ASYNCLEAK_OPTIONS="$opts" "$prog"
expect_status 0
expect_line "$tmp/out" "ran"
grep -q "^asyncleak: options" "$tmp/err" || fail "help=1 was not obeyed:
$(cat "$tmp/err")"
[ -s "$tmp/logs/report" ] || fail "log_path was not obeyed"
rm -f "$tmp/logs/report"

chown 65534 "$prog"
chmod 4755 "$prog"
run ASYNCLEAK_OPTIONS="$opts" "$prog"
expect_status 0
expect_line "$tmp/out" "ran"
expect_no "$tmp/err" "asyncleak: options"
[ ! -e "$tmp/logs/report" ] || fail "log_path was obeyed in a setuid process"
# Its report goes where the defaults say: standard error.
grep -q "ERROR: asyncleak: 1 handle left open at exit" "$tmp/err" ||
  fail "no report on stderr:
$(cat "$tmp/err")"
