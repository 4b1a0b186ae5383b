# --version prints the version the Makefile gives.
. tests/cli/lib.sh

version=$(sed -n 's/^VERSION *:= *//p' Makefile)
[ -n "$version" ] || fail "no VERSION in the Makefile"

run "$ASYNCLEAK" --version
expect_status 0
expect_line "$tmp/out" "asyncleak $version"
[ ! -s "$tmp/err" ] || fail "--version wrote to stderr: $(cat "$tmp/err")"
