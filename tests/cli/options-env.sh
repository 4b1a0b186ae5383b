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

# The flags for the runtime go after the user's options, so that they win,
# in the order given, and before report_dir.
run ASYNCLEAK_OPTIONS=drain_timeout_ms=100:force_close=0 TMPDIR=/tmp \
  "$ASYNCLEAK" --drain-timeout=250 --graceful-signals --force-close \
  sh -c "$show"
expect_status 0
# shellcheck disable=SC2254
case $(cat "$tmp/out") in
  drain_timeout_ms=100:force_close=0:drain_timeout_ms=250:graceful_signals=1:force_close=1:$dir) ;;
  *) fail "ASYNCLEAK_OPTIONS was '$(cat "$tmp/out")'" ;;
esac

run -u ASYNCLEAK_OPTIONS TMPDIR=/tmp "$ASYNCLEAK" --force-close sh -c "$show"
expect_status 0
# shellcheck disable=SC2254
case $(cat "$tmp/out") in
  force_close=1:$dir) ;;
  *) fail "ASYNCLEAK_OPTIONS was '$(cat "$tmp/out")'" ;;
esac

# The last --drain-timeout counts, and 0 is passed on like any other value.
run -u ASYNCLEAK_OPTIONS TMPDIR=/tmp "$ASYNCLEAK" --drain-timeout=5 \
  --drain-timeout=0 sh -c "$show"
expect_status 0
# shellcheck disable=SC2254
case $(cat "$tmp/out") in
  drain_timeout_ms=0:$dir) ;;
  *) fail "ASYNCLEAK_OPTIONS was '$(cat "$tmp/out")'" ;;
esac
