# The program's own status comes through, whatever it is.
. tests/cli/lib.sh

run "$ASYNCLEAK" sh -c 'exit 7'
expect_status 7

run "$ASYNCLEAK" sh -c 'exit 125'
expect_status 125

run "$ASYNCLEAK" --error-exitcode=0 sh -c 'exit 1'
expect_status 1
