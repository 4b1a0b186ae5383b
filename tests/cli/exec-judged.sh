#!/bin/sh
# A process that executed a program and wrote nothing after it is judged
# by what that program is: a script by the program its "#!/usr/bin/env
# NAME" line runs, found along PATH, and a program by the loop libraries
# it needs or carries a copy of (NodeSource's node links libuv in). Each
# case plants, from a shell under asyncleak, the file of a process that
# never ran, whose last line names the program it executed.
. "$(dirname "$0")/lib.sh"

progs=$(cd "$O/progs" && pwd)

# judge PROGRAM: the command's verdict on a process that executed PROGRAM.
judge() {
  printf 'pid=100000004\nppid=1\nforked=0\nexec=%s\n' "$1" >"$tmp/plant"
  run PATH="$progs:$PATH" "$ASYNCLEAK" sh -c "dir=\${ASYNCLEAK_OPTIONS##*report_dir=\\'}; dir=\${dir%%\\'*};
    cp '$tmp/plant' \"\$dir/100000004-1.report\""
}

# A script through env to a program that links libuv: its report is lost.
printf '#!/usr/bin/env uv-after-report\n' >"$tmp/script"
chmod +x "$tmp/script"
judge "$tmp/script"
grep -qF "process 100000004 (?) used libuv and left no complete report: it executed '$tmp/script', which uses libuv" \
  "$tmp/err" || fail "the script was not followed through env; stderr was:
$(cat "$tmp/err")"
[ "$status" -ne 0 ] || fail "a lost report of libuv passed"

# With options and a variable before the name, as env -S allows.
printf '#!/usr/bin/env -S FOO=1 uv-after-report --flag\n' >"$tmp/script"
judge "$tmp/script"
grep -qF "which uses libuv" "$tmp/err" ||
  fail "env -S was not followed; stderr was:
$(cat "$tmp/err")"

# Programs with their own copy, exported, in .symtab only, and stripped.
for copy in copy-uv-exported copy-uv copy-uv-stripped copy-libev-exported \
  copy-libev copy-libev-stripped; do
  lib=libuv
  case $copy in copy-libev*) lib=libev ;; esac
  judge "$progs/$copy"
  grep -qF "which uses its own copy of $lib" "$tmp/err" ||
    fail "$copy: its copy of $lib was not seen; stderr was:
$(cat "$tmp/err")"
  [ "$status" -ne 0 ] || fail "$copy: a lost report passed"
done

# A program linking libev.so.4 uses libev, and carries no copy of it.
judge "$progs/copy-libev-shared"
grep -qF "which uses libev" "$tmp/err" ||
  fail "copy-libev-shared: its libev was not seen; stderr was:
$(cat "$tmp/err")"
expect_no "$tmp/err" "own copy"

# The negative controls: a script through env to a program without a loop
# library, and such a program itself, lost nothing.
printf '#!/usr/bin/env static-hello\n' >"$tmp/script"
judge "$tmp/script"
expect_status 0
grep -qF "which uses no loop library and wrote nothing" "$tmp/err" ||
  fail "no verdict on a script without a loop library; stderr was:
$(cat "$tmp/err")"
judge "$progs/listen-check"
expect_status 0
grep -qF "which uses no loop library and wrote nothing" "$tmp/err" ||
  fail "no verdict on a program without a loop library; stderr was:
$(cat "$tmp/err")"
