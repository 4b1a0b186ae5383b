#!/bin/sh
# Runs scenario tests and checks each against the expectations it carries.
#
#   tests/run-scenarios.sh BUILD_DIR FILE...
#
# FILE is a scenario program (tests/progs/NAME.c, run as BUILD_DIR/progs/NAME),
# a Lua script (run with lua5.4), or a shell test (*.sh, run with sh; it
# passes by exiting 0, and is skipped by exiting 77, its last line saying
# why: something it needs is missing). Programs and scripts are run under
# the asyncleak command; their comments hold the expectations, one per
# line:
#
#   RUN: ARGS            arguments for the program
#   CLI: FLAGS           flags for asyncleak (before the program)
#   ENV: NAME=VALUE...   environment for the run
#   EXIT: N              expected exit status of asyncleak (default 0)
#   CHECK: ERE           a line of the output matches, after the previous
#                        CHECK's line (an ERE as mawk reads it: no {n,m},
#                        which fails the file)
#   CHECK-NOT: ERE       no line of the output matches
#   CHECK-COUNT-N: ERE   exactly N lines match
#   SANITIZED: skip      not run in a sanitizer build (SANITIZE set): the
#                        sanitizer owns what the run is about (malloc, or
#                        the deadly signals)
#   SANITIZED: skip thread  not run under ThreadSanitizer only
#   RUN-BY: TEST         the program has no run of its own: the shell test
#                        TEST (tests/cli/NAME.sh) runs it, and must exist
#
# A listed program or script with no directive, or with a line that looks
# like one but does not parse, fails: it would check nothing.
#
# %line(TAG) in an ERE stands for the number of the source line holding the
# marker @TAG. A directive may start with [LABEL] to belong to a second run
# of the same file, with its own RUN, EXIT and CHECKs. A ThreadSanitizer
# report in the output fails the run, whatever it expects.
set -u

O=$1
shift
ASYNCLEAK=${ASYNCLEAK:-$O/bin/asyncleak}
export ASYNCLEAK O
pass=0
fail=0
skip=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/asyncleak-tests.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

# Prints the directives of FILE as "LABEL<TAB>KIND<TAB>VALUE".
directives() {
  sed -n -E 's/^[[:space:]]*(\*|\/\/|--|#)[[:space:]]*(\[([a-z0-9-]+)\][[:space:]]*)?(RUN|RUN-BY|CLI|ENV|EXIT|SANITIZED|CHECK|CHECK-NOT|CHECK-COUNT-[0-9]+):[[:space:]]?(.*)$/\3	\4	\5/p' "$1"
}

# Prints the lines of FILE that look like directives but do not parse (a
# label with capitals, CHECK-COUNT without its number, a misspelt kind):
# such a line would silently check nothing.
malformed() {
  grep -n -E '^[[:space:]]*(\*|//|--|#)[[:space:]]*(\[[^]]*\][[:space:]]*)?(RUN[A-Z-]*|CLI|ENV|EXIT|SANITIZED|CHECK[A-Z0-9-]*)[[:space:]]*:' "$1" |
    while IFS= read -r line; do
      text=${line#*:}
      printf '%s\n' "$text" |
        grep -q -E '^[[:space:]]*(\*|\/\/|--|#)[[:space:]]*(\[([a-z0-9-]+)\][[:space:]]*)?(RUN|RUN-BY|CLI|ENV|EXIT|SANITIZED|CHECK|CHECK-NOT|CHECK-COUNT-[0-9]+):' ||
        printf '%s\n' "$line"
    done
}

# Replaces %line(TAG) with the line number of @TAG in FILE.
expand_lines() {
  file=$1
  text=$2
  while :; do
    case $text in
      *'%line('*')'*) ;;
      *) break ;;
    esac
    tag=${text#*%line(}
    tag=${tag%%)*}
    n=$(grep -n -- "@$tag\\b" "$file" | grep -v 'CHECK' | head -n 1 | cut -d: -f1)
    [ -n "$n" ] || n="no-marker-$tag"
    text=$(printf '%s' "$text" | sed "s/%line($tag)/$n/g")
  done
  printf '%s' "$text"
}

# check OUTPUT DIRECTIVES FILE: prints each failed expectation.
check() {
  awk -F '\t' -v out="$1" '
    BEGIN { n = 0; while ((getline line < out) > 0) lines[++n] = line }
    $1 == "CHECK" {
      found = 0
      for (i = at + 1; i <= n; i++) if (lines[i] ~ $2) { found = i; break }
      if (!found) { print "  expected (after line " at "): " $2; bad = 1 }
      else at = found
    }
    $1 == "CHECK-NOT" {
      for (i = 1; i <= n; i++) if (lines[i] ~ $2) {
        print "  unexpected at line " i ": " $2; bad = 1; break
      }
    }
    $1 ~ /^CHECK-COUNT-/ {
      want = substr($1, 13); c = 0
      for (i = 1; i <= n; i++) if (lines[i] ~ $2) c++
      if (c != want) { print "  expected " want " lines, saw " c ": " $2; bad = 1 }
    }
    END { exit bad }
  ' "$2"
}

run_one() {
  file=$1
  label=$2
  name=$3
  prog=$4
  all=$tmp/directives
  mine=$tmp/mine
  directives "$file" | awk -F '\t' -v l="$label" '$1 == l' >"$mine"
  args=$(awk -F '\t' '$2 == "RUN" { print $3; exit }' "$mine")
  flags=$(awk -F '\t' '$2 == "CLI" { print $3; exit }' "$mine")
  envs=$(awk -F '\t' '$2 == "ENV" { print $3; exit }' "$mine")
  want=$(awk -F '\t' '$2 == "EXIT" { print $3; exit }' "$mine")
  want=${want:-0}
  if [ -n "${SANITIZE:-}" ] &&
     awk -F '\t' -v san="$SANITIZE" '$2 == "SANITIZED" &&
       ($3 == "skip" || ($3 == "skip thread" && san ~ /thread/)) { f = 1 }
       END { exit !f }' "$mine"; then
    echo "SKIP $name (SANITIZE=$SANITIZE)"
    return
  fi
  out=$tmp/out
  # shellcheck disable=SC2086
  timeout -k 5 120 env $envs "$ASYNCLEAK" $flags $prog $args >"$out" 2>&1 \
    </dev/null
  status=$?
  : >"$all"
  # Split by hand: read would drop the empty label, white space as a tab is.
  while IFS= read -r line; do
    rest=${line#*	}
    kind=${rest%%	*}
    value=${rest#*	}
    case $kind in
      CHECK*) printf '%s\t%s\n' "$kind" "$(expand_lines "$file" "$value")" >>"$all" ;;
    esac
  done <"$mine"
  problems=$(check "$out" "$all")
  checked=$?
  # A checker that died (not one that found a mismatch) proves nothing.
  if [ "$checked" -gt 1 ] || { [ "$checked" -ne 0 ] && [ -z "$problems" ]; }
  then
    problems="  the checker failed (status $checked)
$problems"
  fi
  if [ "$status" != "$want" ]; then
    problems="  exit status $status, expected $want
$problems"
  fi
  # Whichever process of the run wrote it: a child's status is nobody's
  # to check.
  if grep -q '^WARNING: ThreadSanitizer:' "$out"; then
    problems="  a ThreadSanitizer report
$problems"
  fi
  if [ -n "$problems" ]; then
    echo "FAIL $name"
    printf '%s\n' "$problems"
    echo "  --- output of: $envs asyncleak $flags $prog $args"
    sed 's/^/  | /' "$out"
    fail=$((fail + 1))
  else
    echo "PASS $name"
    pass=$((pass + 1))
  fi
}

for file in "$@"; do
  [ -f "$file" ] || continue
  base=$(basename "$file")
  case $file in
    */lib.sh) continue ;;
    *.sh)
      out=$tmp/out
      rc=0
      timeout -k 5 300 sh "$file" >"$out" 2>&1 </dev/null || rc=$?
      if [ $rc -eq 0 ]; then
        echo "PASS $file"
        pass=$((pass + 1))
      elif [ $rc -eq 77 ]; then
        # Its last line says why: what it needs and did not find.
        echo "SKIP $file: $(tail -n 1 "$out")"
        skip=$((skip + 1))
      else
        echo "FAIL $file"
        sed 's/^/  | /' "$out"
        fail=$((fail + 1))
      fi
      continue
      ;;
    *.c) prog=$O/progs/${base%.c} ;;
    *.lua) prog="lua5.4 $file" ;;
    *) continue ;;
  esac
  # A scenario that parsed no directive, or has a line that looks like
  # one and did not parse, would pass without checking anything.
  bad=$(malformed "$file")
  if [ -n "$bad" ] || [ -z "$(directives "$file")" ]; then
    echo "FAIL $base"
    if [ -n "$bad" ]; then
      echo "  lines that look like directives but do not parse:"
      printf '%s\n' "$bad" | sed 's/^/  | /'
    else
      echo "  no directive parsed: the file would check nothing"
    fi
    fail=$((fail + 1))
    continue
  fi
  # The checker's awk is mawk, whose EREs have no {n,m}: such a CHECK
  # would never match, and fail for a reason its author cannot see.
  intervals=$(directives "$file" |
    awk -F '\t' '$2 ~ /^CHECK/ && $3 ~ /[{][0-9]/ { print "  | " $0 }')
  if [ -n "$intervals" ]; then
    echo "FAIL $base"
    echo "  a CHECK with a {n,m} interval, which the checker's awk does not read:"
    printf '%s\n' "$intervals"
    fail=$((fail + 1))
    continue
  fi
  by=$(directives "$file" | awk -F '\t' '$2 == "RUN-BY" { print $3; exit }')
  if [ -n "$by" ]; then
    if [ -f "$by" ] && [ "$(directives "$file" | wc -l)" -eq 1 ]; then
      echo "SKIP $base (run by $by)"
    else
      echo "FAIL $base"
      echo "  RUN-BY: '$by' is not a test, or the file has other directives"
      fail=$((fail + 1))
    fi
    continue
  fi
  for label in $(directives "$file" | cut -f1 | sort -u | sed 's/^$/-/'); do
    [ "$label" = - ] && label=
    run_one "$file" "$label" "$base${label:+ [$label]}" "$prog"
  done
done

skipped=
[ "$skip" -eq 0 ] || skipped=", $skip skipped"
echo "scenarios: $pass passed, $fail failed$skipped"
[ "$fail" -eq 0 ]
