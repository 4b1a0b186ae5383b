# --help prints the usage and every option to stdout.
. tests/cli/lib.sh

for option in --help -h; do
  run "$ASYNCLEAK" $option
  expect_status 0
  expect_line "$tmp/out" "usage: asyncleak [options] [--] program [args...]"
  for documented in --error-exitcode= --log-file= --quiet --help --version \
    --force-close --graceful-signals --drain-timeout= --json= --junit= \
    --sarif= --color= --suppressions= --gen-suppressions --baseline= \
    --write-baseline= --trace-children=; do
    grep -qF -- "$documented" "$tmp/out" ||
      fail "$option does not mention $documented"
  done
  [ ! -s "$tmp/err" ] || fail "$option wrote to stderr: $(cat "$tmp/err")"
  # Each flag names its ASYNCLEAK_OPTIONS key, which the runtime knows.
  for key in quiet error_exitcode log_path json junit sarif color \
    suppressions gen_suppressions baseline write_baseline trace_children \
    force_close graceful_signals drain_timeout_ms; do
    grep -qF -- "[$key]" "$tmp/out" || fail "$option does not name [$key]"
  done
done

# help=1 lists every option, the command's own included.
run ASYNCLEAK_OPTIONS=help=1 "$ASYNCLEAK" sh -c true
expect_status 0
for key in stack_depth max_addresses suppressions baseline color \
  trace_children json junit sarif write_baseline error_exitcode quiet; do
  grep -q "^  $key  *" "$tmp/err" || fail "help=1 does not list $key"
done
expect_no "$tmp/err" "unknown option"


# After the program's name, --help is the program's.
run "$ASYNCLEAK" sh -c 'echo "$1"' sh --help
expect_status 0
expect_line "$tmp/out" "--help"
