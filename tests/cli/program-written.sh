#!/bin/sh
# What the command reads from the report directory was written by the
# program, which may write there what it likes, not only through the
# runtime: a program's own lines in a file of the directory must neither
# hang the command nor reach the terminal as escape sequences, and the
# program named on an exec= line is judged for what it is. Each case is a
# shell, under asyncleak, that writes a file for a process that never ran
# (a pid no process can have) beside its own.
. "$(dirname "$0")/lib.sh"

# plant NAME: a command for sh -c that copies $tmp/plant to the file NAME
# of the report directory.
plant() {
  printf '%s' "dir=\${ASYNCLEAK_OPTIONS##*report_dir=\\'}; dir=\${dir%%\\'*};
    cp '$tmp/plant' \"\$dir/$1\""
}

# report PID TEXT: a report file for PID, with TEXT as its text block (its
# last line not ended), then a complete summary.
report() {
  {
    printf 'pid=%s\nppid=1\nforked=0\n' "$1"
    printf '@txt %s\n%s\n' "$(printf '%s' "$2" | wc -c)" "$2"
    printf '@sum 6\nlibs=\n\n'
  } >"$tmp/plant"
}

# An exec= line naming a FIFO: opening it to read would wait for a writer
# for ever. The verdict is "cannot be told", and the run ends.
mkfifo "$tmp/fifo"
printf 'pid=100000001\nppid=1\nforked=0\nexec=%s\n' "$tmp/fifo" \
  >"$tmp/plant"
run "$ASYNCLEAK" sh -c "$(plant 100000001-1.report)"
[ "$status" -ne 124 ] || fail "the command hung on a FIFO named by exec="
expect_status 0
grep -qF "process 100000001 (?) left no report: it executed '$tmp/fifo', which wrote nothing; whether that program uses a loop library cannot be told" \
  "$tmp/err" || fail "no verdict on the FIFO; stderr was:
$(cat "$tmp/err")"

# A text block with the sequence that clears the screen, and a forged
# summary line after a carriage return: escaped, the newline kept.
report 100000002 "$(printf 'hello\033[2J\rSUMMARY: forged\nline two')"
run "$ASYNCLEAK" sh -c "$(plant 100000002-1.report)"
expect_status 0
expect_line "$tmp/err" 'hello\x1b[2J\rSUMMARY: forged'
expect_line "$tmp/err" 'line two'
! LC_ALL=C grep -q "$(printf '\033')" "$tmp/err" ||
  fail "an escape character reached the output:
$(cat -v "$tmp/err")"
# With colour on, the runtime's own colours pass, and still nothing else
# (ESC [8m hides text).
report 100000003 "$(printf '\033[1;31mred\033[0m\033[8mhidden')"
run "$ASYNCLEAK" --color=always sh -c "$(plant 100000003-1.report)"
expect_status 0
expect_line "$tmp/err" "$(printf '\033[1;31mred\033[0m')\\x1b[8mhidden"

# The negative control: nothing planted, nothing said of it.
run "$ASYNCLEAK" sh -c 'exit 0'
expect_status 0
expect_no "$tmp/err" "100000"
