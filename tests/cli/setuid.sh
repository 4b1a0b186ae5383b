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
