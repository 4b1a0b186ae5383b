# The reports go to a private directory in TMPDIR, removed at the end.
. tests/cli/lib.sh

cat >"$tmp/show" <<'SCRIPT'
#!/bin/sh
dir=${ASYNCLEAK_OPTIONS##*report_dir=\'}
dir=${dir%\'}
echo "$dir"
stat -c %a "$dir"
SCRIPT
chmod 755 "$tmp/show"

# expect_dir PATTERN: the program saw a directory matching PATTERN, mode 700,
# and it is gone.
expect_dir() {
  expect_status 0
  dir=$(sed -n 1p "$tmp/out")
  # shellcheck disable=SC2254
  case $dir in
    $1) ;;
    *) fail "the report directory was '$dir', not $1" ;;
  esac
  [ "$(sed -n 2p "$tmp/out")" = 700 ] ||
    fail "'$dir' had mode $(sed -n 2p "$tmp/out")"
  [ ! -e "$dir" ] || fail "'$dir' was left behind"
}

mkdir "$tmp/t"
run TMPDIR="$tmp/t" "$ASYNCLEAK" "$tmp/show"
expect_dir "$tmp/t/asyncleak.??????"
[ -z "$(ls -A "$tmp/t")" ] || fail "left in TMPDIR: $(ls -A "$tmp/t")"

# Not usable between the quotes of ASYNCLEAK_OPTIONS, or relative: /tmp.
for bad in "$tmp/it's" "$tmp/say\"" '' relative; do
  run TMPDIR="$bad" "$ASYNCLEAK" "$tmp/show"
  expect_dir "/tmp/asyncleak.??????"
done
run -u TMPDIR "$ASYNCLEAK" "$tmp/show"
expect_dir "/tmp/asyncleak.??????"

# A TMPDIR where nothing can be created is asyncleak's own failure.
run TMPDIR="$tmp/no-such-dir" "$ASYNCLEAK" "$tmp/show"
expect_status 125
expect_line "$tmp/err" "asyncleak: cannot create a report directory in \
'$tmp/no-such-dir': No such file or directory"
[ ! -s "$tmp/out" ] || fail "the program ran"

# The runtime creates its file exclusively and never opens it through a
# symlink: one planted where the report of the program the script becomes
# goes is left alone, and so is its target; the report goes to stderr.
cat >"$tmp/plant" <<SCRIPT
#!/bin/sh
dir=\${ASYNCLEAK_OPTIONS##*report_dir=\\'}
dir=\${dir%\\'}
for file in "\$dir/\$\$"-*.report; do :; done
rm "\$file"
ln -s "$tmp/victim" "\$file"
exec "$O/progs/uv-timer-leak"
SCRIPT
chmod 755 "$tmp/plant"
echo "untouched" >"$tmp/victim"
run "$ASYNCLEAK" "$tmp/plant"
[ "$(cat "$tmp/victim")" = untouched ] ||
  fail "the report was written through a symlink: $(cat "$tmp/victim")"
grep -q "^asyncleak: cannot write the report into '.*': Too many levels of \
symbolic links; it follows$" "$tmp/err" ||
  fail "the runtime did not refuse the planted link: $(cat "$tmp/err")"
expect_line "$tmp/err" "SUMMARY: asyncleak: 1 handle left open (1 uv_timer_t) \
from 1 creation site; 1 of 1 loop not closed"
exit 0
