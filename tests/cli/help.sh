# --help prints the usage and every option to stdout.
. tests/cli/lib.sh

for option in --help -h; do
  run "$ASYNCLEAK" $option
  expect_status 0
  expect_line "$tmp/out" "usage: asyncleak [options] [--] program [args...]"
  for documented in --error-exitcode= --log-file= --quiet --help --version \
    --force-close --graceful-signals --drain-timeout=; do
    grep -qF -- "$documented" "$tmp/out" ||
      fail "$option does not mention $documented"
  done
  [ ! -s "$tmp/err" ] || fail "$option wrote to stderr: $(cat "$tmp/err")"
done

# After the program's name, --help is the program's.
run "$ASYNCLEAK" sh -c 'echo "$1"' sh --help
expect_status 0
expect_line "$tmp/out" "--help"
