# --help prints the usage and every flag to stdout, from the option table
# (lib/options.inc); the man page's OPTIONS and the README's table list
# the same flags with the same names for their values.
. tests/cli/lib.sh

# help_flags FILE: the flags of --help output, one a line, a short form
# apart, each with the name of its value.
help_flags() {
  awk '/^    (-[a-zA-Z], |    )--/ {
         s = $0; sub(/^ +/, "", s); split(s, w, "  "); print w[1]
       }' "$1" | tr ',' '\n' | sed 's/^ *//'
}

# help_keys FILE: "flag key" for each flag of --help output that names
# its ASYNCLEAK_OPTIONS key, in brackets at the end of its text.
help_keys() {
  awk '/^    (-[a-zA-Z], |    )--/ {
         s = $0; sub(/^ +/, "", s); sub(/^-[a-zA-Z], /, "", s)
         split(s, w, "  "); cur = w[1]; sub(/=.*/, "", cur)
       }
       cur != "" && match($0, /\[[a-z_]+\]$/) {
         print cur, substr($0, RSTART + 1, RLENGTH - 2); cur = ""
       }' "$1"
}

# man_flags: the flags of the man page's OPTIONS, as help_flags.
man_flags() {
  awk '/^\.SH/ { on = ($0 ~ /^\.SH OPTIONS/) }
       on && tp { print; tp = 0 }
       on && /^\.TP/ { tp = 1 }' man/asyncleak.1 |
    sed 's/^\.[A-Z]* //; s/\\f[BIRP]//g; s/\\-/-/g; s/"//g; s/ //g' |
    tr ',' '\n'
}

# man_keys: "flag key" for each option of the man page that names its
# key ("Key:", then the key on the next line).
man_keys() {
  awk '/^\.SH/ { on = ($0 ~ /^\.SH OPTIONS/) }
       !on { next }
       tp { gsub(/\\-/, "-"); match($0, /--[a-z-]+/)
            cur = substr($0, RSTART, RLENGTH); tp = 0; next }
       /^\.TP/ { tp = 1; next }
       key { s = $0; sub(/^\.[A-Z]* /, "", s); match(s, /^[a-z_]+/)
             print cur, substr(s, RSTART, RLENGTH); key = 0; next }
       /^Key:$/ { key = 1 }' man/asyncleak.1
}

# readme_flags: the flags of the README's option table (its rows that
# start with one), as help_flags.
readme_flags() {
  awk '/^\| `-/ {
         s = $0; sub(/^\| /, "", s); cell = substr(s, 1, index(s, " | ") - 1)
         while (match(cell, /`[^`]*`/)) {
           print substr(cell, RSTART + 1, RLENGTH - 2)
           cell = substr(cell, RSTART + RLENGTH)
         }
       }' README.md | sed 's/\\|/|/g'
}

# normal: one flag a line, sorted, its value's name in lower case and
# without the man page's braces, so that the three can be compared.
normal() {
  tr 'A-Z' 'a-z' | tr -d '{}' | sort
}

# same WHAT EXPECTED ACTUAL: the two lists are the same, or the test
# fails, showing what differs.
same() {
  diff "$2" "$3" >"$tmp/diff" ||
    fail "$1 (< the table, > the other):
$(cat "$tmp/diff")"
}

for option in --help -h; do
  run "$ASYNCLEAK" $option
  expect_status 0
  expect_line "$tmp/out" "usage: asyncleak [options] [--] program [args...]"
  [ ! -s "$tmp/err" ] || fail "$option wrote to stderr: $(cat "$tmp/err")"
  help_flags "$tmp/out" >"$tmp/flags"
  for documented in --error-exitcode=N --log-file=PATH -q --quiet -h \
    --help --version --force-close --graceful-signals --drain-timeout=MS \
    --json=PATH --junit=PATH --sarif=PATH --color=auto\|always\|never \
    --suppressions=FILE --gen-suppressions --baseline=FILE \
    --write-baseline=FILE --trace-children=yes\|no \
    --handle-signals=yes\|no --missing-reports=fail\|warn \
    --fail-on-closing; do
    grep -qxF -- "$documented" "$tmp/flags" ||
      fail "$option does not list $documented: $(cat "$tmp/flags")"
  done
  # Each flag once.
  dup=$(sed 's/=.*//' "$tmp/flags" | sort | uniq -d)
  [ -z "$dup" ] || fail "$option lists more than once: $dup"
  # The words are the same for every loop library.
  ! grep -qi "libuv handle" "$tmp/out" ||
    fail "$option speaks of libuv handles: $(grep -i "libuv handle" "$tmp/out")"
done
cp "$tmp/out" "$tmp/help"

# Each flag names its ASYNCLEAK_OPTIONS key, which the runtime knows. The
# runtime lists the table too (help=1), and names the flag of each option:
# the same flags, with the same keys, as --help.
help_keys "$tmp/help" | sort >"$tmp/help-keys"
[ "$(wc -l <"$tmp/help-keys")" -eq $(($(wc -l <"$tmp/flags") - 4)) ] ||
  fail "a flag other than -q, -h, --help and --version names no key:
$(cat "$tmp/help-keys")"
run ASYNCLEAK_OPTIONS=help=1 "$ASYNCLEAK" sh -c true
expect_status 0
expect_no "$tmp/err" "unknown option"
for key in stack_depth max_addresses suppressions baseline color \
  trace_children handle_signals json junit sarif write_baseline \
  error_exitcode quiet missing_reports report_timeout_ms check_closes \
  check_threads debug_checks; do
  grep -q "^  $key  *" "$tmp/err" || fail "help=1 does not list $key"
done
# --debug-checks says which checks it turns on.
run "$ASYNCLEAK" --help
tr -s ' \n' ' ' <"$tmp/out" | grep -q -- "--debug-checks *turn on every debug check: check_closes, check_threads, and slow_callback_ms at 100" ||
  fail "--help does not say --debug-checks turns on check_threads and the slow-callback check: $(grep -A2 -- --debug-checks "$tmp/out")"
run ASYNCLEAK_OPTIONS=help=1 "$ASYNCLEAK" sh -c true
sed -n 's/^  \([a-z_]*\)  .*, flag \(--[a-z-]*\).*/\2 \1/p' "$tmp/err" |
  sort >"$tmp/table-keys"
[ -s "$tmp/table-keys" ] || fail "help=1 names no flag: $(cat "$tmp/err")"
same "--help and help=1 list different flags or keys" "$tmp/table-keys" \
  "$tmp/help-keys"

# The command accepts every flag --help lists: a switch runs the program,
# a flag with a value asks for it; neither is unknown.
while read -r flag; do
  case $flag in
  -h | --help | --version) continue ;;
  *=*)
    run "$ASYNCLEAK" "${flag%%=*}" sh -c true
    expect_status 125
    expect_line "$tmp/err" "asyncleak: option '${flag%%=*}' needs a value"
    ;;
  *)
    run "$ASYNCLEAK" "$flag" sh -c true
    expect_status 0
    expect_no "$tmp/err" "unknown option"
    ;;
  esac
done <"$tmp/flags"

# The man page and the README list the same flags, with the same names for
# their values; the man page names the same key for each.
normal <"$tmp/flags" >"$tmp/help-normal"
man_flags | normal >"$tmp/man-normal"
same "the man page's OPTIONS differ from --help" "$tmp/help-normal" \
  "$tmp/man-normal"
readme_flags | normal >"$tmp/readme-normal"
same "the README's option table differs from --help" "$tmp/help-normal" \
  "$tmp/readme-normal"
man_keys | sort >"$tmp/man-keys"
same "the man page's keys differ from --help's" "$tmp/help-keys" \
  "$tmp/man-keys"

# After the program's name, --help is the program's.
run "$ASYNCLEAK" sh -c 'echo "$1"' sh --help
expect_status 0
expect_line "$tmp/out" "--help"
