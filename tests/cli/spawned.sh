# A libuv program that starts another (tests/progs/uv-exec-leaf.c) by fork
# and exec, posix_spawn, posix_spawnp or uv_spawn (uv-fork-exec.c,
# uv-spawn.c): the started program reports under its own pid, the one it
# prints and its parent waited for, as a process of its own whose parent
# is the program. A fork child was noted from the fork on; posix_spawn's
# child runs nothing of the runtime before its exec, so only what it
# executed is noted, not forked from anything. No other process is.
. tests/cli/lib.sh

# json EXPR: EXPR, a Python expression of the JSON report d.
json() {
  /usr/bin/python3 tests/cli/check-formats.py eval "$tmp/r.json" "$1" ||
    fail "cannot evaluate $1"
}

# check PROGRAM WAY FORKED ARGS...: FORKED is true when the child was
# forked, false otherwise.
check() {
  prog=$1 way=$2 forked=$3
  shift 3
  rm -f "$tmp/r.json"
  run "$ASYNCLEAK" --json="$tmp/r.json" "$O/progs/$prog" "$@"
  expect_status 23
  leaf=$(sed -n 's/^leaf \([0-9][0-9]*\): leaked$/\1/p' "$tmp/out")
  [ -n "$leaf" ] || fail "$way: the program said: $(cat "$tmp/out")"
  grep -q "child $leaf exited with status 7" "$tmp/out" ||
    fail "$way: the program waited for another child: $(cat "$tmp/out")"
  [ "$(grep -c "==ERROR: asyncleak" "$tmp/err")" -eq 1 ] ||
    fail "$way: not one report: $(cat "$tmp/err")"
  expect_line "$tmp/err" \
    "==$leaf==ERROR: asyncleak: 1 handle left open at exit"
  grep -q "^  0x[0-9a-f]* on loop 1, thread $leaf (main), inactive" \
    "$tmp/err" || fail "$way: the handle's thread: $(cat "$tmp/err")"
  expect_frame0 "$tmp/err" start_leaf_timer uv-exec-leaf.c

  # The started program's process, its parent's, and how many there are.
  program=$(json 'd["program"]["pid"]')
  if $forked; then from=$program; else from=None; fi
  got=$(json "([len(d['processes'])] +
    [[p['ppid'] == $program, p['forked_from'] == $from,
      p['exe'].endswith('/uv-exec-leaf'), p['report'],
      p['totals']['handles_open']]
     for p in d['processes'] if p['pid'] == $leaf] +
    [[p['report'], p['totals']['handles_open']]
     for p in d['processes'] if p['main'] and p['pid'] == $program])")
  [ "$got" = '[2, [true, true, true, "complete", 1], ["complete", 0]]' ] ||
    fail "$way: the processes are $got: $(json "[[p['pid'], p['ppid'],
      p['forked_from'], p['exe'], p['report']] for p in d['processes']]")"
}

check uv-fork-exec "fork and exec" true leak
check uv-spawn posix_spawn false posix_spawn leak
check uv-spawn posix_spawnp false posix_spawnp leak
check uv-spawn uv_spawn true uv_spawn leak
exit 0
