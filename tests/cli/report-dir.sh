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

# The runtime creates its files exclusively and never through a symlink:
# one planted where its report goes is left alone, and so is its target.
cat >"$tmp/plant" <<SCRIPT
#!/bin/sh
dir=\${ASYNCLEAK_OPTIONS##*report_dir=\\'}
dir=\${dir%\\'}
ln -s "$tmp/victim" "\$dir/\$\$.txt"
exec "$O/progs/uv-timer-leak"
SCRIPT
chmod 755 "$tmp/plant"
echo "untouched" >"$tmp/victim"
run "$ASYNCLEAK" "$tmp/plant"
[ "$(cat "$tmp/victim")" = untouched ] ||
  fail "the report was written through a symlink: $(cat "$tmp/victim")"
grep -q "^asyncleak: cannot create '.*/[0-9]*\.txt': File exists$" "$tmp/err" ||
  fail "the runtime did not refuse the planted link: $(cat "$tmp/err")"
exit 0
