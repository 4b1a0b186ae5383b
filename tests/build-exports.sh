# The runtime exports exactly what lib/libasyncleak.map lists: the list,
# the symbols the objects make visible (AL_EXPORT), and the built library's
# dynamic symbols are one set; the API the headers declare is in it; and
# the symbols carry no version, which would keep a versioned C library
# function from being interposed.
. tests/cli/lib.sh

lib=$O/lib/libasyncleak.so.0
[ -f "$lib" ] || fail "no $lib"

# The names of the map's global part, comments removed.
sed -e 's|/\*.*\*/||' lib/libasyncleak.map |
  awk '/\/\*/ { c = 1 } !c; /\*\// { c = 0 }' |
  awk '/global:/ { g = 1; next } /local:/ { g = 0 } g' |
  tr -d ' ;' | grep -v '^$' | sort >"$tmp/map"
[ "$(wc -l <"$tmp/map")" -gt 100 ] ||
  fail "lib/libasyncleak.map lists too little: $(cat "$tmp/map")"

nm -D --defined-only "$lib" | awk '{ print $3 }' | sed 's/@.*//' |
  sort >"$tmp/exported"
for src in lib/*.c shim/*.c; do
  obj=$O/pic/${src%.c}.o
  [ -f "$obj" ] || fail "no $obj"
  readelf -sW "$obj" |
    awk '$5 == "GLOBAL" && $6 == "DEFAULT" && $7 != "UND" { print $8 }'
done | sort >"$tmp/visible"

diff "$tmp/map" "$tmp/exported" >"$tmp/diff" ||
  fail "the library's exports (>) differ from lib/libasyncleak.map (<):
$(cat "$tmp/diff")"
diff "$tmp/map" "$tmp/visible" >"$tmp/diff" ||
  fail "the objects' visible symbols (>) differ from lib/libasyncleak.map \
(<):
$(cat "$tmp/diff")"

# Every function the public headers declare, but the hooks a program
# defines itself (__asyncleak_default_options...).
sed -n 's/.*[ *]\(asyncleak_[a-z_]*\)(.*/\1/p' include/asyncleak*.h |
  sort -u >"$tmp/api"
[ -s "$tmp/api" ] || fail "no function found in include/"
missing=$(comm -23 "$tmp/api" "$tmp/map")
[ -z "$missing" ] || fail "declared in include/ but not exported: $missing"

! readelf -V "$lib" | grep -q 'Version definition' ||
  fail "the runtime defines symbol versions: $(readelf -V "$lib")"
readelf -d "$lib" | grep -q 'Library soname: \[libasyncleak.so.0\]' ||
  fail "the runtime's soname is not libasyncleak.so.0: $(readelf -d "$lib")"
exit 0
