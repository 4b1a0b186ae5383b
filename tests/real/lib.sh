# What the real-program tests share, besides tests/cli/lib.sh: checks of
# the JSON report and of the text report in $tmp/err.
. tests/cli/lib.sh

# expect EXPECTATION...: the JSON report $tmp/report.json holds them
# (tests/real/report.py).
expect() {
  out=$(python3 tests/real/report.py "$tmp/report.json" "$@") ||
    fail "$out
stderr was:
$(cat "$tmp/err")"
}

# count N ERE: $tmp/err has exactly N lines that match ERE.
count() {
  n=$(grep -cE -- "$2" "$tmp/err")
  [ "$n" -eq "$1" ] ||
    fail "$n lines match '$2', expected $1, in:
$(cat "$tmp/err")"
}
