# --log-file: what asyncleak would print goes to the file, %p being the
# program's pid; the program's own output is left alone.
. tests/cli/lib.sh

umask 022
said="asyncleak: no supported event loop library (libuv, libevent, libev, GLib) was used by"

run "$ASYNCLEAK" --log-file="$tmp/log.%p" sh -c 'echo $$; echo out >&2'
expect_status 0
pid=$(cat "$tmp/out")
log="$tmp/log.$pid"
[ -f "$log" ] || fail "no '$log'; there is: $(ls "$tmp")"
[ "$(stat -c %a "$log")" = 644 ] || fail "'$log' has mode $(stat -c %a "$log")"
expect_line "$tmp/err" "out"
expect_no "$tmp/err" "asyncleak:"

yes old | head -n 100 >"$tmp/log"
run "$ASYNCLEAK" --log-file="$tmp/log" /bin/true
expect_status 0
expect_line "$tmp/log" "$said '/bin/true'; nothing was checked"
expect_no "$tmp/log" "old"
[ ! -s "$tmp/err" ] || fail "stderr has: $(cat "$tmp/err")"

# A log file that cannot be created: said on stderr, and the reports go
# there instead; but the file asked for was not written, and the run fails
# as asyncleak's own failure, whatever the program's status.
run "$ASYNCLEAK" --log-file="$tmp/no-such-dir/log" sh -c 'exit 3'
expect_status 125
expect_line "$tmp/err" "asyncleak: cannot open '$tmp/no-such-dir/log': No such \
file or directory; the reports go to stderr"
expect_line "$tmp/err" "asyncleak: no supported event loop library (libuv, \
libevent, libev, GLib) was used by 'sh'; nothing was checked"

# A log file that cannot be written (a full disk) is an error too, as a
# --json file is; the control, a log that can be, passes.
run "$ASYNCLEAK" --log-file=/dev/full /bin/true
expect_status 125
expect_line "$tmp/err" "asyncleak: cannot write the log file '/dev/full': \
No space left on device"
run "$ASYNCLEAK" --log-file=/dev/null /bin/true
expect_status 0
[ ! -s "$tmp/err" ] || fail "stderr has: $(cat "$tmp/err")"
