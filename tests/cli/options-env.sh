# ASYNCLEAK_OPTIONS keeps the user's options and gets report_dir last, so
# that it wins.
. tests/cli/lib.sh

show='echo "$ASYNCLEAK_OPTIONS"'
# A pattern: unquoted in the cases below.
dir="report_dir='/tmp/asyncleak.??????'"

run ASYNCLEAK_OPTIONS=stack_depth=8 TMPDIR=/tmp "$ASYNCLEAK" sh -c "$show"
expect_status 0
# shellcheck disable=SC2254
case $(cat "$tmp/out") in
  stack_depth=8:$dir) ;;
  *) fail "ASYNCLEAK_OPTIONS was '$(cat "$tmp/out")'" ;;
esac

run -u ASYNCLEAK_OPTIONS TMPDIR=/tmp "$ASYNCLEAK" sh -c "$show"
expect_status 0
# shellcheck disable=SC2254
case $(cat "$tmp/out") in
  $dir) ;;
  *) fail "ASYNCLEAK_OPTIONS was '$(cat "$tmp/out")'" ;;
esac

run ASYNCLEAK_OPTIONS= TMPDIR=/tmp "$ASYNCLEAK" sh -c "$show"
expect_status 0
# shellcheck disable=SC2254
case $(cat "$tmp/out") in
  $dir) ;;
  *) fail "ASYNCLEAK_OPTIONS was '$(cat "$tmp/out")'" ;;
esac
