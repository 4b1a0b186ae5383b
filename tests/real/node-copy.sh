# NodeSource's node carries its own libuv, linked into the executable
# (Debian's node links libuv.so.1 instead): asyncleak cannot watch it,
# and the run must say so and fail, whether the script leaves a handle or
# not. Skipped, saying why, when node is absent or uses the system libuv.
. tests/cli/lib.sh

node=$(command -v node) || { echo "$test_name: skipped: node is not installed"; exit 0; }
if ldd "$node" | grep -q 'libuv\.so'; then
  echo "$test_name: skipped: '$node' links the system's libuv"
  exit 0
fi

said="asyncleak: process [0-9]* carries its own copy of libuv, in \
'$(readlink -f "$node")': asyncleak cannot watch it, and nothing made with \
it was checked"

# A timer left referenced would keep node running: unref'd, it is still
# open at exit.
for script in 'setInterval(() => {}, 1000).unref()' 'console.log("bye")'; do
  run "$ASYNCLEAK" "$node" -e "$script"
  expect_status 125
  grep -qx -- "$said" "$tmp/err" ||
    fail "node -e '$script': no line '$said' in stderr, which has:
$(cat "$tmp/err")"
  expect_no "$tmp/err" "no leaks"
  expect_no "$tmp/err" "no supported event loop library"
done
