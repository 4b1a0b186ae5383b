# make install puts a working command, runtime, header, pkg-config file and
# man pages under PREFIX, and the installed command finds the installed
# runtime from wherever it is run.
. tests/cli/lib.sh

prefix=$tmp/prefix
make -s install PREFIX="$prefix" >"$tmp/install.log" 2>&1 ||
  fail "make install failed: $(cat "$tmp/install.log")"
for f in bin/asyncleak lib/libasyncleak.so include/asyncleak.h \
  lib/pkgconfig/asyncleak.pc share/man/man1/asyncleak.1 \
  share/man/man3/asyncleak.3 share/asyncleak/valgrind.supp; do
  [ -f "$prefix/$f" ] || fail "make install did not install $f"
done

# The installed pages render, and groff has nothing to say about them.
for f in share/man/man1/asyncleak.1 share/man/man3/asyncleak.3; do
  # Not under a sanitizer's preloaded runtime: man is not ours to check.
  env -u LD_PRELOAD -u ASAN_OPTIONS LC_ALL=C.UTF-8 MANWIDTH=80 man -l "$prefix/$f" \
    >"$tmp/page" 2>"$tmp/page.err" ||
    fail "man -l $f failed: $(cat "$tmp/page.err")"
  [ -s "$tmp/page" ] || fail "man -l $f printed nothing"
  [ ! -s "$tmp/page.err" ] || fail "man -l $f warns: $(cat "$tmp/page.err")"
  env -u LD_PRELOAD groff -man -Tutf8 -ww -z "$prefix/$f" 2>"$tmp/page.err" ||
    fail "groff failed on $f: $(cat "$tmp/page.err")"
  [ ! -s "$tmp/page.err" ] || fail "groff warns on $f: $(cat "$tmp/page.err")"
done

# Run from elsewhere, with the build tree out of reach.
cp "$O/progs/uv-timer-leak" "$tmp/prog"
status=0
(cd / && "$prefix/bin/asyncleak" "$tmp/prog") >"$tmp/out" 2>&1 || status=$?
[ "$status" -eq 23 ] || fail "installed asyncleak exited $status: $(cat "$tmp/out")"
grep -q "in start_heartbeat " "$tmp/out" ||
  fail "installed asyncleak did not report the leak: $(cat "$tmp/out")"

PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --libs asyncleak |
  grep -q -- "-L$prefix/lib" || fail "pkg-config gives no -L for the install"
supp=$(PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config \
  --variable=valgrind_suppressions asyncleak)
[ "$supp" = "$prefix/share/asyncleak/valgrind.supp" ] && [ -f "$supp" ] ||
  fail "pkg-config names '$supp' for the valgrind suppressions"
exit 0
