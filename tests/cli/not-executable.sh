# A file that cannot be executed: status 126, and the reason.
. tests/cli/lib.sh

denied() {
  expect_status 126
  expect_line "$tmp/err" "asyncleak: cannot execute '$1': Permission denied"
}

# Root too may execute a file only when some execute bit is set.
printf '#!/bin/sh\nexit 3\n' >"$tmp/script"
chmod 644 "$tmp/script"
run "$ASYNCLEAK" "$tmp/script"
denied "$tmp/script"

run "$ASYNCLEAK" "$tmp"
denied "$tmp"

# Found through PATH, with nothing better later in PATH.
run PATH="$tmp" "$ASYNCLEAK" script
denied script

# As with execvp(), an executable file later in PATH is the one run.
mkdir "$tmp/bin"
cp "$tmp/script" "$tmp/bin/script"
chmod 755 "$tmp/bin/script"
run PATH="$tmp:$tmp/bin" "$ASYNCLEAK" script
expect_status 3

# Neither ELF nor a script: execv() fails in the child, and the parent says
# why.
echo 'plain text' >"$tmp/text"
chmod 755 "$tmp/text"
run "$ASYNCLEAK" "$tmp/text"
expect_status 126
expect_line "$tmp/err" \
  "asyncleak: cannot execute '$tmp/text': Exec format error"
[ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "more was said: $(cat "$tmp/err")"
