# Helpers for the tests of the asyncleak command; sourced by each of them,
# never run as a test. Tests run from the top of the tree as
#   ASYNCLEAK=build/bin/asyncleak O=build sh tests/cli/NAME.sh

: "${ASYNCLEAK:=build/bin/asyncleak}"
: "${O:=build}"
test_name=$(basename "$0" .sh)

fail() {
  echo "$test_name: $*" >&2
  exit 1
}

[ -x "$ASYNCLEAK" ] || fail "'$ASYNCLEAK' is not built"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/asyncleak-test.XXXXXX") ||
  fail "cannot create a temporary directory"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM
# What a killed asyncleak leaves behind goes with the rest.
TMPDIR=$tmp
export TMPDIR

# run [NAME=value...] command [args...]: runs the command through env(1), so
# with these variables set, and with a time limit; its output goes to
# $tmp/out and $tmp/err, its exit status to $status.
run() {
  status=0
  timeout -k 5 60 env "$@" >"$tmp/out" 2>"$tmp/err" || status=$?
}

expect_status() {
  [ "$status" -eq "$1" ] ||
    fail "expected status $1, got $status; stderr was:
$(cat "$tmp/err")"
}

# doc_block DOC SECTION LANG: the first LANG block of the section
# "## SECTION" of the Markdown document DOC, as a user would copy it.
doc_block() {
  awk -v section="## $2" -v fence="\`\`\`$3" '
    /^## / { in_section = ($0 == section) }
    in_section && $0 == fence && !done { inside = 1; next }
    inside && /^```$/ { inside = 0; done = 1 }
    inside' "$1"
}

# gone PID: waits (10 seconds at most) for PID to end.
gone() {
  i=0
  while kill -0 "$1" 2>/dev/null; do
    i=$((i + 1))
    [ $i -le 200 ] || return 1
    sleep 0.05
  done
}

# expect_line FILE TEXT: FILE has a line that is exactly TEXT.
expect_line() {
  grep -qxF -- "$2" "$1" ||
    fail "no line '$2' in $(basename "$1"), which has:
$(cat "$1")"
}

# expect_no FILE TEXT: no line of FILE holds TEXT.
expect_no() {
  ! grep -qF -- "$2" "$1" ||
    fail "unexpected '$2' in $(basename "$1"):
$(cat "$1")"
}

# expect_frame0 FILE FUNCTION SOURCE: a stack in FILE starts in FUNCTION, at
# a line of SOURCE (a base name).
expect_frame0() {
  grep -q "^    #0 0x[0-9a-f]* in $2 .*$3:[0-9]*\$" "$1" ||
    fail "no frame #0 in $2 at $3 in $(basename "$1"), which has:
$(cat "$1")"
}

# report_part FILE KIND: the part KIND (txt, rec or sum) of a report file
# (docs/report-format.md), as the runtime wrote it.
report_part() {
  LC_ALL=C awk -v kind="$2" '
    left > 0 {
      if (want) print
      left -= length($0) + 1
      if (left == 0) skip = 1
      next
    }
    skip { skip = 0; next }
    /^@[a-z]+ [0-9]+$/ {
      split(substr($0, 2), f, " ")
      want = f[1] == kind
      left = f[2] + 0
      if (left == 0) skip = 1
    }' "$1"
}
