# A program that uses no event loop: nothing was checked, which is not
# called a success.
. tests/cli/lib.sh

said="asyncleak: no supported event loop library (libuv, libevent, libev, GLib) was used by"

run "$ASYNCLEAK" /bin/true
expect_status 0
expect_line "$tmp/err" "$said '/bin/true'; nothing was checked"
expect_no "$tmp/err" "no leaks"

run "$ASYNCLEAK" -q /bin/true
expect_status 0
[ ! -s "$tmp/err" ] || fail "-q printed: $(cat "$tmp/err")"
