#!/bin/sh
# Install from Debian's packages whatever building and testing asyncleak
# needs and is not there yet.  Does nothing when everything is installed.
# make runs it for `make deps`, `make check` and `make demo` only; a plain
# `make` checks what it needs with pkg-config and installs nothing.
#
#   scripts/install-deps.sh [BUILD_DIR]
#
# With BUILD_DIR, also unpacks Debian's Node.js 18 into BUILD_DIR/node18
# for tests/real/node.sh (see below); quick when it is already there.
set -eu

# node-acorn, node-cjs-module-lexer and node-undici hold the scripts
# Debian's libnode108 reads at start from /usr/share/nodejs: that path is
# built in, so they are installed as usual, and so are the libraries
# libnode108 links (libbrotli1 ... zlib1g).
# shadowsocks-libev, gdnsd and sniproxy are programs on Debian's libev.so.4
# for tests/real (curl is their client; binutils' nm tells whether the
# runtime follows libev). Installing them may enable and start their system
# services on a machine that runs services; the tests start their own
# copies, on free ports of 127.0.0.1, and never touch those.
# libglib2.0-dev: GLib's and GIO's headers, which the runtime's GLib shim
# is built against, and the libraries its scenarios link. For the GLib programs
# of tests/real: libglib2.0-tests holds GLib's own installed tests,
# libglib2.0-bin gdbus, dbus-daemon the private session bus
# (dbus-run-session) gdbus talks to, gstreamer1.0-tools gst-launch-1.0
# (its core elements come with libgstreamer1.0-0).
packages="gcc make pkg-config libuv1-dev libunwind-dev libdw-dev libelf-dev
libcmocka-dev valgrind lua5.4 lua-luv neovim python3-jsonschema man-db
groff-base bsdutils clang libclang-rt-14-dev libevent-dev memcached tmux
cmake meson ninja-build libev-perl
unbound knot-resolver knot-dnsutils lldpd python3 python3-uvloop node-acorn
node-cjs-module-lexer node-undici libbrotli1 libc-ares2 libicu72
libnghttp2-14 libssl3 zlib1g
libev-dev shadowsocks-libev gdnsd sniproxy curl binutils
libglib2.0-dev libglib2.0-tests libglib2.0-bin dbus-daemon gstreamer1.0-tools"

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "install-deps: no dpkg-query: not a Debian system; install what" \
    "the build and the tests need yourself (the list is in $0)" >&2
  exit 0
fi

sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive

missing=
for p in $packages; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
       grep -q 'install ok installed'; then
    missing="$missing $p"
  fi
done

if [ -n "$missing" ]; then
  echo "install-deps: installing:$missing" >&2
  $sudo apt-get update -qq
  # shellcheck disable=SC2086
  $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

[ $# -ge 1 ] || exit 0

# Debian's nodejs 18 links the system's libuv.so.1, which asyncleak can
# interpose, where the nodejs package a machine may have instead (such as
# NodeSource's) carries its own copy. Debian's nodejs and libnode108
# conflict with any other nodejs package, so they are not installed: their
# files are unpacked into BUILD_DIR/node18, made by mktemp (mode 0700) and
# renamed into place once complete. The test runs BUILD_DIR/node18/usr/bin/
# node with LD_LIBRARY_PATH=BUILD_DIR/node18/usr/lib/x86_64-linux-gnu.
node_dir=$1/node18
[ -x "$node_dir/usr/bin/node" ] && exit 0

version() {
  apt-cache madison "$1" 2>/dev/null |
    awk -F ' *[|] *' '$2 ~ /^18\./ { print $2; exit }'
}
v=$(version nodejs)
if [ -z "$v" ]; then
  $sudo apt-get update -qq
  v=$(version nodejs)
fi
[ -n "$v" ] || {
  echo "install-deps: no nodejs 18 in Debian's archive" >&2
  exit 1
}

mkdir -p "$1"
work=$(mktemp -d "$1/node18.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "install-deps: unpacking nodejs $v and libnode108 into $node_dir" >&2
# apt's download sandbox user cannot write into a directory only root can.
sandbox=
[ "$(id -u)" -ne 0 ] || sandbox="-o APT::Sandbox::User=root"
# shellcheck disable=SC2086
(cd "$work" && apt-get download -qq $sandbox "nodejs=$v" "libnode108=$v")
mkdir "$work/root"
for deb in "$work"/*.deb; do
  dpkg-deb -x "$deb" "$work/root"
done
rm -f "$work"/*.deb
chmod 0700 "$work/root"
# Another run may have put it there meanwhile: then it stays.
mv -T "$work/root" "$node_dir" 2>/dev/null || [ -x "$node_dir/usr/bin/node" ]
