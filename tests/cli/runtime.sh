# The runtime, libasyncleak.so.0 (the soname's name), is found in ../lib from
# the command's own directory, and only a path LD_PRELOAD can hold will do.
. tests/cli/lib.sh

runtime="$(dirname "$ASYNCLEAK")/../lib/libasyncleak.so.0"
[ -f "$runtime" ] || fail "no runtime beside '$ASYNCLEAK'"
top=$(readlink -f "$tmp")

# layout DIR: asyncleak in DIR/bin, and the runtime in DIR/lib.
layout() {
  mkdir -p "$1/bin" "$1/lib"
  cp "$ASYNCLEAK" "$1/bin/asyncleak"
  cp "$runtime" "$1/lib/libasyncleak.so.0"
}

layout "$top/prefix"
run "$top/prefix/bin/asyncleak" sh -c 'echo "$LD_PRELOAD"'
expect_status 0
expect_line "$tmp/out" "${LD_PRELOAD:+$LD_PRELOAD:}$top/prefix/lib/libasyncleak.so.0"

rm "$top/prefix/lib/libasyncleak.so.0"
run "$top/prefix/bin/asyncleak" /bin/true
expect_status 125
expect_line "$tmp/err" \
  "asyncleak: cannot find the runtime '$top/prefix/bin/../lib/libasyncleak.so.0'"

for odd in "a:b" "a b"; do
  layout "$top/$odd"
  run "$top/$odd/bin/asyncleak" sh -c 'echo ran'
  expect_status 125
  expect_line "$tmp/err" "asyncleak: the runtime \
'$top/$odd/lib/libasyncleak.so.0' cannot go into LD_PRELOAD: its path holds a \
colon or a space"
  [ ! -s "$tmp/out" ] || fail "the program ran"
done
