# A plain make installs nothing and asks for no root: in a copy of the
# tree that it cannot write, as an unprivileged user (65534 when run as
# root), with dpkg-query, dpkg, apt-get, apt-cache and sudo replaced by
# programs that record their call and fail, make builds the runtime and
# the command, and make install puts them into a DESTDIR; neither calls
# any of them. A library pkg-config does not find stops make before it
# compiles anything, with the library and its Debian package named. And
# make deps, the step that installs, does call them: the fakes work.
. tests/cli/lib.sh

# Where user 65534 can read the tree and write the build.
pub=$(mktemp -d /tmp/asyncleak-build.XXXXXX) || fail "no public directory"
trap 'rm -rf "$tmp" "$pub"' EXIT
chmod 755 "$pub"
mkdir "$pub/src" "$pub/fake" "$pub/nopkg" "$pub/out"
cp -R Makefile asyncleak.pc.in valgrind.supp include lib shim cli scripts \
  man "$pub/src/"
mkdir "$pub/src/tests" && cp -R tests/progs "$pub/src/tests/"
chmod -R a+rX,go-w "$pub/src"

calls=$pub/out/calls
for tool in dpkg-query dpkg apt-get apt-cache sudo; do
  printf '#!/bin/sh\necho "%s $*" >>%s\nexit 1\n' "$tool" "$calls" \
    >"$pub/fake/$tool"
done
# pkg-config as it is, except that libuv is not there.
real_pkg_config=$(command -v pkg-config) || fail "no pkg-config"
cat >"$pub/nopkg/pkg-config" <<EOT
#!/bin/sh
for a in "\$@"; do [ "\$a" != libuv ] || exit 1; done
exec $real_pkg_config "\$@"
EOT
# A C compiler that finds no ev.h (libev has no pkg-config file).
mkdir "$pub/noev"
real_cc=$(command -v cc) || fail "no cc"
cat >"$pub/noev/cc" <<EOT
#!/bin/sh
case " \$* " in
  *" -E "*) if grep -q 'ev\.h' ; then exit 1; fi ;;
esac
exec $real_cc "\$@"
EOT
chmod 755 "$pub"/fake/* "$pub/nopkg/pkg-config" "$pub/noev/cc"

as_user=
if [ "$(id -u)" -eq 0 ]; then
  chown 65534:65534 "$pub/out"
  as_user="setpriv --reuid=65534 --regid=65534 --clear-groups"
fi

# mk OUTPUT PATH_FIRST ARGS...: make in the copy, as that user, with only
# the environment a user's shell would give it.
mk() {
  out=$1 first=$2
  shift 2
  status=0
  timeout -k 5 600 $as_user env -i PATH="$first:$pub/fake:$PATH" \
    HOME="$pub/out" TMPDIR="$pub/out" LANG=C.UTF-8 \
    make -C "$pub/src" -j2 "$@" >"$out" 2>&1 </dev/null || status=$?
}

mk "$tmp/build.log" "$pub/fake" O="$pub/out/build"
[ "$status" -eq 0 ] || fail "make failed: $(tail -n 30 "$tmp/build.log")"
[ ! -s "$calls" ] || fail "make ran: $(cat "$calls")"
for f in lib/libasyncleak.so.0 bin/asyncleak asyncleak-uninstalled.pc; do
  [ -e "$pub/out/build/$f" ] || fail "make did not build $f"
done
"$pub/out/build/bin/asyncleak" --version >/dev/null ||
  fail "the command built does not run"

mk "$tmp/install.log" "$pub/fake" O="$pub/out/build" PREFIX=/usr \
  DESTDIR="$pub/out/dest" install
[ "$status" -eq 0 ] || fail "make install failed: $(cat "$tmp/install.log")"
[ ! -s "$calls" ] || fail "make install ran: $(cat "$calls")"
[ -f "$pub/out/dest/usr/lib/libasyncleak.so.0.1.0" ] ||
  fail "make install did not install the runtime: $(cat "$tmp/install.log")"

# libuv missing: named, with its package, and nothing else; nothing built.
mk "$tmp/missing.log" "$pub/nopkg" O="$pub/out/missing"
[ "$status" -ne 0 ] || fail "make built without libuv"
expect_line "$tmp/missing.log" "asyncleak: the build needs libuv, which \
pkg-config does not find (Debian: libuv1-dev)"
expect_no "$tmp/missing.log" "needs libunwind"
[ ! -d "$pub/out/missing/pic" ] && [ ! -d "$pub/out/missing/obj" ] ||
  fail "make compiled without libuv: $(cat "$tmp/missing.log")"
[ ! -s "$calls" ] || fail "make without libuv ran: $(cat "$calls")"

# libev's header missing: named, with its package; nothing built.
mk "$tmp/noev.log" "$pub/noev" O="$pub/out/noev"
[ "$status" -ne 0 ] || fail "make built without ev.h"
expect_line "$tmp/noev.log" "asyncleak: the build needs the header ev.h, \
which the C compiler does not find (Debian: libev-dev)"
[ ! -d "$pub/out/noev/pic" ] ||
  fail "make compiled without ev.h: $(cat "$tmp/noev.log")"

# Nothing pkg-config can find: each library named.
mk "$tmp/none.log" "$pub/fake" O="$pub/out/none" \
  PKG_CONFIG_LIBDIR="$pub/out/empty"
[ "$status" -ne 0 ] || fail "make built with no library found"
for p in libuv:libuv1-dev libevent:libevent-dev libunwind:libunwind-dev \
  libdw:libdw-dev libelf:libelf-dev; do
  expect_line "$tmp/none.log" "asyncleak: the build needs ${p%%:*}, which \
pkg-config does not find (Debian: ${p#*:})"
done

# The step that installs asks dpkg and apt: the fakes would have told.
mk "$tmp/deps.log" "$pub/fake" O="$pub/out/build" deps
[ "$status" -ne 0 ] || fail "make deps succeeded with failing apt and dpkg"
grep -q '^dpkg-query ' "$calls" || fail "make deps did not ask dpkg-query: \
$(cat "$tmp/deps.log")"
exit 0
