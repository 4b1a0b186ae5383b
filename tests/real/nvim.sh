# Neovim, which runs on libuv, under asyncleak: it must run to completion
# with its own exit status, and asyncleak must have seen its loop.
. tests/cli/lib.sh

home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
export HOME="$home" XDG_CONFIG_HOME="$home" XDG_DATA_HOME="$home" \
  XDG_STATE_HOME="$home" XDG_CACHE_HOME="$home"

out=$(timeout -k 5 60 "$ASYNCLEAK" --error-exitcode=0 \
  nvim --headless --clean -c 'qa!' 2>&1 </dev/null)
status=$?
[ "$status" -eq 0 ] || fail "nvim -c 'qa!' exited $status: $out"
case $out in
  *"no supported event loop"*) fail "asyncleak did not see nvim's libuv: $out" ;;
  *"cannot find"*) fail "unresolved libuv function: $out" ;;
esac
case $out in
  *"loop"*) ;;
  *) fail "no report of nvim's loops: $out" ;;
esac

out=$(timeout -k 5 60 "$ASYNCLEAK" --error-exitcode=0 \
  nvim --headless --clean -c 'cq 3' 2>&1 </dev/null)
status=$?
[ "$status" -eq 3 ] || fail "nvim -c 'cq 3' exited $status, expected 3: $out"

# The debug checks (docs/debug-checks.md) change nothing in how nvim ends
# and find nothing: no call of nvim's on a loop while another thread runs
# it, no handle closed twice or started once closed, no callback of its
# start or quit that holds a loop 100 ms.
out=$(timeout -k 5 60 "$ASYNCLEAK" --error-exitcode=0 --debug-checks \
  nvim --headless --clean -c 'qa!' 2>&1 </dev/null)
status=$?
[ "$status" -eq 0 ] || fail "nvim -c 'qa!' under --debug-checks exited $status: $out"
case $out in
  *"no supported event loop"* | *"cannot find"* | *finding*)
    fail "under --debug-checks, nvim -c 'qa!': $out" ;;
  *"loop"*) ;;
  *) fail "no report of nvim's loops under --debug-checks: $out" ;;
esac
exit 0
