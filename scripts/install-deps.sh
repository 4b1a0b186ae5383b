#!/bin/sh
# Install from Debian's packages whatever building and testing asyncleak
# needs and is not there yet.  Does nothing when everything is installed.
set -eu

packages="gcc make pkg-config libuv1-dev libunwind-dev libdw-dev
libcmocka-dev valgrind lua5.4 lua-luv neovim python3-jsonschema man-db
groff-base bsdutils clang libclang-rt-14-dev libevent-dev memcached tmux
unbound"

missing=
for p in $packages; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
       grep -q 'install ok installed'; then
    missing="$missing $p"
  fi
done

[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing" >&2
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
