# __asyncleak_default_suppressions under the preloaded runtime alone: the
# runtime finds the function in the program's dynamic symbol table. A
# program that defines it must be linked with -rdynamic for that (without,
# its leak is reported); a shared library that defines it needs nothing.
# tests/progs/uv-default-suppressions.c covers a program linking
# libasyncleak, asyncleak_check, and malformed text.
. tests/cli/lib.sh

rule="       1          1  event_never_freed:^start_known_event\$"

# Defined in the executable, linked with -rdynamic: the leak is hidden.
run "$ASYNCLEAK" "$O/progs/supp-hook-rdynamic"
expect_status 0
expect_line "$tmp/out" "main done"
expect_line "$tmp/err" "$rule (__asyncleak_default_suppressions():1)"
expect_line "$tmp/err" "asyncleak: no leaks reported: 1 loop(s), 1 handle(s) created; 1 suppressed"
expect_no "$tmp/err" "ERROR"

# Negative control: the same program without -rdynamic does not export
# the function, the runtime cannot see it, and the leak is reported.
run "$ASYNCLEAK" "$O/progs/supp-hook"
expect_status 23
expect_line "$tmp/out" "main done"
expect_line "$tmp/err" "1 handle of type event (never freed), created at:"
expect_frame0 "$tmp/err" start_known_event supp-hook.c
expect_no "$tmp/err" "Suppressions used"

# Defined by a library the program links: hidden, the rule named after
# the function, at its line in the text.
run "$ASYNCLEAK" "$O/progs/supp-hook-lib"
expect_status 0
expect_line "$tmp/err" "$rule (__asyncleak_default_suppressions():2)"
expect_no "$tmp/err" "ERROR"

# The files given count too, and come first: theirs is the rule used.
printf 'event_never_freed:start_known_*\n' >"$tmp/file.supp"
run "$ASYNCLEAK" --suppressions="$tmp/file.supp" "$O/progs/supp-hook-lib"
expect_status 0
expect_line "$tmp/err" "       1          1  event_never_freed:start_known_* ($tmp/file.supp:1)"
expect_no "$tmp/err" "__asyncleak_default_suppressions"
exit 0
