# The files asyncleak writes for the user (--log-file, --json, --junit,
# --sarif, --write-baseline) are never opened through a symbolic link
# another user planted, which would empty a file of the victim's, nor is
# another user's file in a sticky directory filled: asyncleak refuses,
# names the link or the file, and fails with 125. Links of its own user
# or of root are followed: --json=/dev/stdout keeps working.
. tests/cli/lib.sh

# Root's links and the user's own: followed.
run "$ASYNCLEAK" --json=/dev/stdout /bin/true
expect_status 0
grep -q '"schema": "asyncleak-report"' "$tmp/out" ||
  fail "no JSON report on stdout: $(cat "$tmp/out")"
ln -s target.json "$tmp/mine.json"
run "$ASYNCLEAK" --json="$tmp/mine.json" /bin/true
expect_status 0
[ -s "$tmp/target.json" ] || fail "the user's own link was not followed"
# The path is walked one directory at a time: a relative path, "..", and
# a link of the user's own to a directory on the way are followed.
mkdir "$tmp/d" "$tmp/e"
ln -s ../e "$tmp/d/to-e"
case $ASYNCLEAK in
  /*) asyncleak=$ASYNCLEAK ;;
  *) asyncleak=$PWD/$ASYNCLEAK ;;
esac
(cd "$tmp" && timeout 60 "$asyncleak" \
  --json=d/to-e/../d/to-e/walked.json /bin/true >/dev/null 2>&1) ||
  fail "a relative path with a link and '..' was refused"
[ -s "$tmp/e/walked.json" ] ||
  fail "the JSON report is not where the path leads: $(ls -R "$tmp")"
run "$ASYNCLEAK" --json="$tmp/e/missing/x.json" /bin/true
expect_status 125
expect_line "$tmp/err" "asyncleak: cannot write the --json file \
'$tmp/e/missing/x.json': No such file or directory"

if [ "$(id -u)" -ne 0 ]; then
  echo "$test_name: not root: cannot make files of another user" >&2
  exit 0
fi

chmod 755 "$tmp"
mkdir -m 1777 "$tmp/pub"
echo precious >"$tmp/victim"
# refused FLAG PATH WHY: asyncleak --FLAG=PATH fails with 125, says WHY,
# and the victim is intact.
refused() {
  run "$ASYNCLEAK" "--$1=$2" /bin/true
  expect_status 125
  grep -qF -- "$3" "$tmp/err" || fail "--$1=$2: no '$3' in: $(cat "$tmp/err")"
  [ "$(cat "$tmp/victim")" = precious ] ||
    fail "--$1=$2 wrote to the victim: $(head -c 200 "$tmp/victim")"
}

# Another user's link in a sticky directory, aimed at the victim.
ln -s "$tmp/victim" "$tmp/pub/out"
chown -h 65534 "$tmp/pub/out"
said="the symbolic link '$tmp/pub/out' belongs to user 65534"
for flag in json junit sarif write-baseline log-file; do
  refused "$flag" "$tmp/pub/out" "$said"
done
# The log file is opened after the run: the reports go to stderr.
expect_line "$tmp/err" "asyncleak: no supported event loop library (libuv, \
libevent, libev, GLib) was used by '/bin/true'; nothing was checked"

# A link on the way, in a directory of the other user's.
mkdir "$tmp/home"
ln -s "$tmp" "$tmp/home/up"
chown -h 65534 "$tmp/home/up"
chown 65534 "$tmp/home"
refused json "$tmp/home/up/victim" \
  "the symbolic link '$tmp/home/up' belongs to user 65534"

# Another user's file in a sticky directory others can write to, which
# root would fill (protected_regular).
echo theirs >"$tmp/pub/theirs.json"
chown 65534 "$tmp/pub/theirs.json"
run "$ASYNCLEAK" --json="$tmp/pub/theirs.json" /bin/true
expect_status 125
expect_line "$tmp/err" "asyncleak: cannot write the --json file \
'$tmp/pub/theirs.json': '$tmp/pub/theirs.json' belongs to user 65534, in a \
directory others can write to"
[ "$(cat "$tmp/pub/theirs.json")" = theirs ] || fail "theirs.json was written"

# The controls: root's own link in the same directory is followed, and
# root's own file there is written.
ln -s "$tmp/victim" "$tmp/pub/root-link"
run "$ASYNCLEAK" --json="$tmp/pub/root-link" /bin/true
expect_status 0
grep -q '"schema": "asyncleak-report"' "$tmp/victim" ||
  fail "root's link was not followed: $(cat "$tmp/err")"
run "$ASYNCLEAK" --log-file="$tmp/pub/root.log" /bin/true
expect_status 0
[ -s "$tmp/pub/root.log" ] || fail "no log in the sticky directory"
exit 0
