# CC, CFLAGS, CPPFLAGS and LDFLAGS are the user's, from the environment or
# the command line, as a distribution passes its hardening flags, and
# setting them keeps the flags the build needs. make -n shows them on each
# line; a real build from the environment shows them in the result:
# readelf finds the linker's flag and the compiler's recorded switches.
. tests/cli/lib.sh

o=$tmp/o
# A make of its own, whatever make runs this test with.
mk() {
  env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS -u SANITIZE -u DEVELOPER \
    -u CFLAGS -u CPPFLAGS -u LDFLAGS -u CC "$@"
}

# dry_run ARGS...: make -n, each command on one line.
dry_run() {
  mk make -n O="$o" "$@" all >"$tmp/n.raw" 2>&1 ||
    fail "make -n failed: $(cat "$tmp/n.raw")"
  sed -e :a -e '/\\$/N; s/\\\n//; ta' "$tmp/n.raw" >"$tmp/n"
}

# On the command line.
dry_run CC=my-cc CPPFLAGS=-DMARK_CPP CFLAGS='-O1 -DMARK_C' \
  LDFLAGS=-Wl,--build-id=sha1
grep '^my-cc .* -c ' "$tmp/n" >"$tmp/compile"
[ "$(grep -c 'pic/lib/.*\.o$' "$tmp/compile")" -gt 10 ] ||
  fail "no compile line for the runtime: $(head -n 20 "$tmp/n")"
for flag in -DMARK_CPP -DMARK_C -O1 -Iinclude -std=gnu11 -MMD; do
  bad=$(grep -v -- " $flag " "$tmp/compile" | head -n 1)
  [ -z "$bad" ] || fail "$flag missing from: $bad"
done
for flag in -fPIC -fvisibility=hidden; do
  bad=$(grep 'pic/' "$tmp/compile" | grep -v -- " $flag " | head -n 1)
  [ -z "$bad" ] || fail "$flag missing from: $bad"
done
grep -q -- "^my-cc .*-Wl,--build-id=sha1 .*-shared .*-o $o/lib/libasyncleak.so" \
  "$tmp/n" || fail "LDFLAGS not on the runtime's link: $(cat "$tmp/n")"
grep -q -- "^my-cc .*-Wl,--build-id=sha1 .*-o $o/bin/asyncleak " "$tmp/n" ||
  fail "LDFLAGS not on the command's link: $(grep -- bin/asyncleak "$tmp/n")"
# Without CFLAGS, the default.
dry_run
grep -q -- "^cc .* -O2 -g .*-c lib/" "$tmp/n" ||
  fail "no -O2 -g by default: $(head -n 20 "$tmp/n")"

# From the environment, built. The compiler is a wrapper that records its
# calls.
cat >"$tmp/cc" <<'EOT'
#!/bin/sh
echo "$*" >>"${0%/*}/cc.log"
exec cc "$@"
EOT
chmod 755 "$tmp/cc"
mk CC="$tmp/cc" CPPFLAGS=-D_FORTIFY_SOURCE=2 \
  CFLAGS='-O2 -g -frecord-gcc-switches' LDFLAGS='-Wl,-z,now' \
  make -j2 O="$o" all >"$tmp/build.log" 2>&1 ||
  fail "make failed: $(tail -n 30 "$tmp/build.log")"
[ "$(grep -c -- ' -c ' "$tmp/cc.log")" -gt 10 ] ||
  fail "CC from the environment not used: $(head -n 20 "$tmp/build.log")"
for f in "$o/lib/libasyncleak.so.0" "$o/bin/asyncleak"; do
  readelf -d "$f" | grep -q 'FLAGS.*NOW' ||
    fail "LDFLAGS -Wl,-z,now did not reach $f: $(readelf -d "$f")"
  # Fortified calls go to the C library's checking functions.
  nm -D "$f" | grep -q ' U __[a-z]*_chk' ||
    fail "CPPFLAGS -D_FORTIFY_SOURCE=2 did not reach $f"
  readelf -p .GCC.command.line "$f" >"$tmp/switches" 2>&1
  for flag in -O2 -std=gnu11; do
    grep -q -- " $flag " "$tmp/switches" ||
      fail "no $flag in the switches of $f: $(cat "$tmp/switches")"
  done
done
readelf -p .GCC.command.line "$o/lib/libasyncleak.so.0" >"$tmp/switches" 2>&1
grep -q -- ' -fPIC -fvisibility=hidden ' "$tmp/switches" ||
  fail "CFLAGS dropped the build's own flags: $(cat "$tmp/switches")"
# The control: the default build has none of these.
for f in "$O/lib/libasyncleak.so.0" "$O/bin/asyncleak"; do
  ! readelf -d "$f" | grep -q 'FLAGS.*NOW' ||
    fail "the default build binds now: the check above proves nothing"
  ! nm -D "$f" | grep -q ' U __[a-z]*_chk' ||
    fail "the default build is fortified: the check above proves nothing"
done
exit 0
