#!/bin/sh
# Checks, through pkg-config, that the libraries a build needs are there,
# and names those that are not. Installs nothing: `make deps` (which runs
# scripts/install-deps.sh) is the step that installs.
#
#   scripts/check-deps.sh WHAT MODULE:DEBIAN-PACKAGE...
#
# WHAT says what the modules are for ("the runtime", "the tests"); each
# MODULE is a pkg-config module, or a header (NAME.h) for a library that
# has no pkg-config file (libev), which the C compiler must find; and
# DEBIAN-PACKAGE the Debian package that provides it, named as a hint.
# PKG_CONFIG is the pkg-config to run (as make passes it: a cross build
# sets it to its own), CC the compiler (cc by default) and CPPFLAGS its
# flags.
set -eu

what=${1:?usage: scripts/check-deps.sh WHAT MODULE:PACKAGE...}
shift
pkg_config=${PKG_CONFIG:-pkg-config}

if ! command -v "${pkg_config%% *}" >/dev/null 2>&1; then
  echo "asyncleak: cannot check the libraries $what needs: no" \
    "'$pkg_config' (Debian: pkg-config); 'make deps' installs it" >&2
  exit 1
fi

missing=
for dep in "$@"; do
  module=${dep%%:*}
  package=${dep#*:}
  case $module in
    *.h)
      # shellcheck disable=SC2086 # CC may carry its own arguments.
      if printf '#include <%s>\n' "$module" |
           ${CC:-cc} ${CPPFLAGS:-} -E -x c - >/dev/null 2>&1; then
        continue
      fi
      echo "asyncleak: $what needs the header $module, which the C" \
        "compiler does not find (Debian: $package)" >&2
      missing="$missing $package"
      continue
      ;;
  esac
  # shellcheck disable=SC2086 # PKG_CONFIG may carry its own arguments.
  if ! $pkg_config --exists "$module" 2>/dev/null; then
    echo "asyncleak: $what needs $module, which pkg-config does not find" \
      "(Debian: $package)" >&2
    missing="$missing $package"
  fi
done

if [ -n "$missing" ]; then
  echo "asyncleak: install them (Debian: apt-get install$missing, or" \
    "'make deps', which does it through sudo), or set PKG_CONFIG_PATH" >&2
  exit 1
fi
exit 0
