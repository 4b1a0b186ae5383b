# make install puts a working command, runtime, header, pkg-config file and
# man pages under PREFIX, and the installed command finds the installed
# runtime from wherever it is run. The runtime is a versioned library
# (soname libasyncleak.so.0) with its links; pkg-config's file, installed
# or the build tree's uninstalled one, builds a program that links it and
# forces no rpath on it. With a distribution's directories (LIBDIR not
# PREFIX/lib) into a DESTDIR, the command still finds the runtime; make
# uninstall removes exactly what make install put.
. tests/cli/lib.sh

prefix=$tmp/prefix
make -s install PREFIX="$prefix" >"$tmp/install.log" 2>&1 ||
  fail "make install failed: $(cat "$tmp/install.log")"
for f in bin/asyncleak lib/libasyncleak.so.0.1.0 include/asyncleak.h \
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

# The versioned layout.
[ "$(readlink "$prefix/lib/libasyncleak.so.0")" = libasyncleak.so.0.1.0 ] ||
  fail "lib/libasyncleak.so.0 is not a link to libasyncleak.so.0.1.0"
[ "$(readlink "$prefix/lib/libasyncleak.so")" = libasyncleak.so.0 ] ||
  fail "lib/libasyncleak.so is not a link to libasyncleak.so.0"
readelf -d "$prefix/lib/libasyncleak.so.0.1.0" |
  grep -q 'Library soname: \[libasyncleak.so.0\]' ||
  fail "the installed runtime's soname is not libasyncleak.so.0"
[ "$(stat -c %a "$prefix/lib/libasyncleak.so.0.1.0")" = 644 ] ||
  fail "the installed runtime is not mode 644"
! grep -q rpath "$prefix/lib/pkgconfig/asyncleak.pc" ||
  fail "asyncleak.pc forces an rpath: $(cat "$prefix/lib/pkgconfig/asyncleak.pc")"

# A program built against the build tree, then the install, through
# pkg-config: it loads libasyncleak.so.0, and has no rpath of pkg-config's.
cat >"$tmp/version.c" <<'EOT'
#include <stdio.h>
#include <asyncleak.h>
int main(void) {
  puts(asyncleak_version());
  return 0;
}
EOT
build_dir=$(cd "$O" && pwd)
for pc_path in "$build_dir" "$prefix/lib/pkgconfig"; do
  case $pc_path in
    "$build_dir") lib_dir=$build_dir/lib ;;
    *) lib_dir=$prefix/lib ;;
  esac
  flags=$(PKG_CONFIG_PATH=$pc_path pkg-config --cflags --libs asyncleak) ||
    fail "pkg-config finds no asyncleak in $pc_path"
  case " $flags " in
    *" -L$lib_dir "*) ;;
    *) fail "pkg-config in $pc_path gives '$flags', not -L$lib_dir" ;;
  esac
  # shellcheck disable=SC2086
  env -u LD_PRELOAD ${CC:-cc} -o "$tmp/version" "$tmp/version.c" $flags \
    2>"$tmp/cc.err" || fail "cannot build against $pc_path: $(cat "$tmp/cc.err")"
  ! readelf -d "$tmp/version" | grep -Eq 'RPATH|RUNPATH' ||
    fail "pkg-config in $pc_path gave an rpath: $(readelf -d "$tmp/version")"
  readelf -d "$tmp/version" | grep -q 'Shared library: \[libasyncleak.so.0\]' ||
    fail "the program does not load libasyncleak.so.0"
  run LD_LIBRARY_PATH="$lib_dir" "$tmp/version"
  expect_status 0
  expect_line "$tmp/out" "$("$ASYNCLEAK" --version | sed -n 's/^asyncleak //p')"
done

# uninstall removes exactly what install put: what else is there stays.
echo other >"$prefix/lib/other.so"
make -s uninstall PREFIX="$prefix" >"$tmp/uninstall.log" 2>&1 ||
  fail "make uninstall failed: $(cat "$tmp/uninstall.log")"
left=$(find "$prefix" ! -type d ! -path "$prefix/lib/other.so")
[ -z "$left" ] || fail "make uninstall left: $left"
[ -f "$prefix/lib/other.so" ] || fail "make uninstall removed another file"

# A distribution's layout, staged in DESTDIR, from a build of its own (the
# command is told where LIBDIR is from BINDIR).
multiarch=$(${CC:-cc} -print-multiarch 2>/dev/null)
[ -n "$multiarch" ] || multiarch=x86_64-linux-gnu
dest=$tmp/dest
dirs="PREFIX=/usr LIBDIR=/usr/lib/$multiarch MANDIR=/usr/share/man"
# shellcheck disable=SC2086
make -s -j2 O="$tmp/o" $dirs DESTDIR="$dest" install >"$tmp/install.log" 2>&1 ||
  fail "make install $dirs failed: $(tail -n 30 "$tmp/install.log")"
for f in usr/bin/asyncleak "usr/lib/$multiarch/libasyncleak.so.0.1.0" \
  "usr/lib/$multiarch/libasyncleak.so.0" "usr/lib/$multiarch/libasyncleak.so" \
  "usr/lib/$multiarch/pkgconfig/asyncleak.pc" usr/include/asyncleak.h \
  usr/share/man/man1/asyncleak.1 usr/share/asyncleak/valgrind.supp; do
  [ -e "$dest/$f" ] || fail "make install $dirs did not install $f"
done
grep -qx "libdir=\${prefix}/lib/$multiarch" \
  "$dest/usr/lib/$multiarch/pkgconfig/asyncleak.pc" ||
  fail "asyncleak.pc has the wrong libdir: \
$(cat "$dest/usr/lib/$multiarch/pkgconfig/asyncleak.pc")"
status=0
(cd / && "$dest/usr/bin/asyncleak" "$tmp/prog") >"$tmp/out" 2>&1 || status=$?
[ "$status" -eq 23 ] ||
  fail "asyncleak in $dirs exited $status: $(cat "$tmp/out")"
grep -q "in start_heartbeat " "$tmp/out" ||
  fail "asyncleak in $dirs did not report the leak: $(cat "$tmp/out")"
# shellcheck disable=SC2086
make -s O="$tmp/o" $dirs DESTDIR="$dest" uninstall >"$tmp/uninstall.log" 2>&1 ||
  fail "make uninstall failed: $(cat "$tmp/uninstall.log")"
left=$(find "$dest" ! -type d)
[ -z "$left" ] || fail "make uninstall $dirs left: $left"
exit 0
