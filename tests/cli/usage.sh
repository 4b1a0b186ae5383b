# Bad options and values: one line saying what is wrong, the usage line,
# status 125, and the program not run.
. tests/cli/lib.sh

usage="usage: asyncleak [options] [--] program [args...]"

rejects() {
  run "$ASYNCLEAK" "$@" sh -c 'echo ran'
  expect_status 125
  expect_line "$tmp/err" "$said"
  expect_line "$tmp/err" "$usage"
  [ "$(wc -l <"$tmp/err")" -eq 2 ] ||
    fail "more than two lines for '$1': $(cat "$tmp/err")"
  [ ! -s "$tmp/out" ] || fail "the program ran despite '$1'"
}

for value in x -1 256 1000 '' 2x 0x10; do
  said="asyncleak: invalid value '$value' for --error-exitcode"
  rejects "--error-exitcode=$value"
done

for value in abc -1 600001 '' +5 0x10 ' 5' 1e3; do
  said="asyncleak: invalid value '$value' for --drain-timeout"
  rejects "--drain-timeout=$value"
done

said="asyncleak: unknown option '--foo'"
rejects --foo
said="asyncleak: unknown option '-x'"
rejects -x
said="asyncleak: unknown option '--quiet=1'"
rejects --quiet=1
said="asyncleak: option '--error-exitcode' needs a value"
rejects --error-exitcode
said="asyncleak: option '--drain-timeout' needs a value"
rejects --drain-timeout
said="asyncleak: unknown option '--force-close=1'"
rejects --force-close=1
said="asyncleak: unknown option '--graceful-signals=yes'"
rejects --graceful-signals=yes
said="asyncleak: invalid value '' for --log-file"
rejects --log-file=

run "$ASYNCLEAK"
expect_status 125
expect_line "$tmp/err" "$usage"
run "$ASYNCLEAK" -q --
expect_status 125
expect_line "$tmp/err" "$usage"

# Good values, and the options end at the program or at "--".
for value in 0 1 23 255; do
  run "$ASYNCLEAK" --error-exitcode=$value /bin/true
  expect_status 0
done
for value in 0 3000 600000; do
  run "$ASYNCLEAK" --drain-timeout=$value /bin/true
  expect_status 0
done
run "$ASYNCLEAK" -
expect_status 127
expect_line "$tmp/err" "asyncleak: '-': command not found"
run "$ASYNCLEAK" -- sh -c 'exit 4' --foo
expect_status 4
run "$ASYNCLEAK" -q sh -c 'echo "$1"' sh --foo
expect_status 0
expect_line "$tmp/out" "--foo"

for flag in --json --junit --sarif --write-baseline --suppressions --baseline \
  --color --trace-children; do
  said="asyncleak: option '$flag' needs a value"
  rejects "$flag"
  said="asyncleak: invalid value '' for $flag"
  rejects "$flag="
done
said="asyncleak: unknown option '--gen-suppressions=1'"
rejects --gen-suppressions=1
said="asyncleak: invalid value 'on' for --color"
rejects --color=on
said="asyncleak: invalid value 'all' for --trace-children"
rejects --trace-children=all

# A malformed value in ASYNCLEAK_OPTIONS is named, and the program runs,
# as the defaults say.
run ASYNCLEAK_OPTIONS="error_exitcode=lots:json=" "$ASYNCLEAK" sh -c 'echo ran'
expect_status 0
expect_line "$tmp/out" "ran"
expect_line "$tmp/err" "asyncleak: warning: invalid value 'lots' for option 'error_exitcode' in ASYNCLEAK_OPTIONS; ignored"
expect_line "$tmp/err" "asyncleak: warning: invalid value '' for option 'json' in ASYNCLEAK_OPTIONS; ignored"
run ASYNCLEAK_OPTIONS="stack_depth=deep:no_such_key=1" "$ASYNCLEAK" sh -c 'echo ran'
expect_status 0
expect_line "$tmp/out" "ran"
expect_line "$tmp/err" "asyncleak: invalid value 'deep' for option 'stack_depth' (a number from 1 to 64); keeping 16"
expect_line "$tmp/err" "asyncleak: unknown option 'no_such_key' ignored (help=1 lists them)"

# An unterminated quote would swallow what the command adds after it, the
# report directory among it: refused, the program not run.
run ASYNCLEAK_OPTIONS="json='x" "$ASYNCLEAK" sh -c 'echo ran'
expect_status 125
expect_line "$tmp/err" "asyncleak: ASYNCLEAK_OPTIONS has an unterminated quote in the value of 'json'"
[ ! -s "$tmp/out" ] || fail "the program ran despite the quote"
