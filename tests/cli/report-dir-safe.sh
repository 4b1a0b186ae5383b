# The report directory is safe where asyncleak runs as root: TMPDIR must be
# a place where no other user can rename what is in it, or asyncleak
# refuses it (125) and names it; and the directory is used only through a
# descriptor held from its creation, so that a directory swapped for a
# symbolic link while the program runs is neither read nor emptied.
. tests/cli/lib.sh

cat >"$tmp/show" <<'SCRIPT'
#!/bin/sh
echo ran
SCRIPT
chmod 755 "$tmp/show"

# refused DIR PLACE WHY: TMPDIR=DIR is refused, for PLACE, which WHY.
refused() {
  run TMPDIR="$1" "$ASYNCLEAK" "$tmp/show"
  expect_status 125
  expect_line "$tmp/err" "asyncleak: TMPDIR '$1' is not safe for the \
reports: '$2' $3; set TMPDIR to a directory of your own"
  [ ! -s "$tmp/out" ] || fail "the program ran with TMPDIR=$1"
}
open_why="can be written by others and is not sticky"

mkdir -m 777 "$tmp/open"
chmod 777 "$tmp/open"
refused "$tmp/open" "$tmp/open" "$open_why"
mkdir -m 700 "$tmp/open/mine"
refused "$tmp/open/mine" "$tmp/open" "$open_why"
mkdir -m 770 "$tmp/group"
chmod 770 "$tmp/group"
refused "$tmp/group" "$tmp/group" "$open_why"
# The controls: sticky, as /tmp is, or the user's own.
chmod 1777 "$tmp/open"
run TMPDIR="$tmp/open" "$ASYNCLEAK" "$tmp/show"
expect_status 0
expect_line "$tmp/out" ran
run TMPDIR="$tmp/open/mine" "$ASYNCLEAK" "$tmp/show"
expect_status 0
[ -z "$(ls -A "$tmp/open/mine")" ] || fail "left: $(ls -A "$tmp/open/mine")"

# The directory swapped for a link to a victim's directory while the
# program runs, as another user could where it is allowed: asyncleak reads
# and removes only what is in the directory it made, leaves the link and
# its target alone, and says so. The program runs without the runtime,
# which has its own rules for the directory.
mkdir "$tmp/victim"
echo precious >"$tmp/victim/keep"
printf 'FORGED REPORT\n' >"$tmp/victim/4242.txt"
printf 'pid=4242\nended=exit\n' >"$tmp/victim/4242.sum"
cat >"$tmp/swap" <<SCRIPT
#!/bin/sh
dir=\${ASYNCLEAK_OPTIONS##*report_dir=\\'}
dir=\${dir%\\'}
echo "\$dir" >"$tmp/dir"
mv "\$dir" "\$dir.away" && ln -s "$tmp/victim" "\$dir"
SCRIPT
chmod 755 "$tmp/swap"
run "$ASYNCLEAK" env -u LD_PRELOAD "$tmp/swap"
dir=$(cat "$tmp/dir")
[ -L "$dir" ] || fail "the program did not swap '$dir'"
expect_no "$tmp/err" "FORGED"
expect_line "$tmp/err" "asyncleak: warning: '$dir' is no longer the report \
directory; it is left alone"
[ "$(cat "$tmp/victim/keep")" = precious ] || fail "the victim's file went"
[ -f "$tmp/victim/4242.txt" ] && [ -f "$tmp/victim/4242.sum" ] ||
  fail "the victim's directory was emptied: $(ls -A "$tmp/victim")"
# What the directory made held was read and removed.
[ -z "$(ls -A "$dir.away")" ] || fail "not emptied: $(ls -A "$dir.away")"
rm -f "$dir"
rmdir "$dir.away"

if [ "$(id -u)" -ne 0 ]; then
  echo "$test_name: not root: cannot make a directory of another user" >&2
  exit 0
fi
# Another user's directory, even one only they can write to.
chmod 755 "$tmp"
mkdir -m 755 "$tmp/theirs"
chown 65534 "$tmp/theirs"
refused "$tmp/theirs" "$tmp/theirs" "belongs to another user"
exit 0
