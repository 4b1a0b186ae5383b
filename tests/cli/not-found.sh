# A program that is nowhere: status 127, as in the shell.
. tests/cli/lib.sh

run "$ASYNCLEAK" asyncleak-no-such-program
expect_status 127
expect_line "$tmp/err" \
  "asyncleak: 'asyncleak-no-such-program': command not found"

run "$ASYNCLEAK" "$tmp/no-such-program"
expect_status 127
expect_line "$tmp/err" "asyncleak: '$tmp/no-such-program': command not found"

# In no directory of PATH.
run PATH=/nonexistent "$ASYNCLEAK" true
expect_status 127
expect_line "$tmp/err" "asyncleak: 'true': command not found"

# Without PATH, the default of execvp(): /bin:/usr/bin.
run -u PATH "$ASYNCLEAK" true
expect_status 0
