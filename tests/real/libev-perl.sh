# libev-perl's EV.so carries its own copy of libev, linked in with its
# functions hidden: perl's calls to it never reach asyncleak, which cannot
# watch it, and the run must say so and not pass, whether the script
# leaves a watcher started or not. A perl script that loads no copy is
# the control.
. tests/cli/lib.sh

perl=/usr/bin/perl
[ -x "$perl" ] || fail "perl is not installed"
ev_so=$("$perl" -MEV -e \
  'print((grep /\/EV\.so$/, @DynaLoader::dl_shared_objects)[0])' 2>/dev/null) ||
  fail "perl's EV is not installed (Debian: libev-perl; scripts/install-deps.sh)"
[ -n "$ev_so" ] || fail "perl's EV loaded no EV.so"

said="asyncleak: process [0-9]* carries its own copy of libev, in \
'$ev_so': asyncleak cannot watch it, and nothing made with it was checked"

# ev_script SCRIPT OUTPUT: perl -MEV runs SCRIPT under asyncleak, prints
# OUTPUT as it does alone, and the run names the copy and does not pass.
ev_script() {
  run "$ASYNCLEAK" "$perl" -MEV -e "$1"
  expect_status 125
  grep -qx -- "$said" "$tmp/err" ||
    fail "perl -MEV -e '$1': no line '$said' in stderr, which has:
$(cat "$tmp/err")"
  expect_line "$tmp/err" "asyncleak: nothing was checked: '$perl' carries \
its own copy of a loop library, which asyncleak cannot watch"
  expect_no "$tmp/err" "no leaks"
  expect_no "$tmp/err" "no supported event loop library"
  expect_line "$tmp/out" "$2"
}

# A timer that fires and is done; one left started as the script ends.
ev_script 'my $w = EV::timer(0.01, 0, sub { print "fired\n" }); EV::run' fired
ev_script 'our $w = EV::timer(60, 0, sub {});
  EV::run(EV::RUN_NOWAIT); print "left started\n"' "left started"

# The control: perl without EV uses no loop library, and passes.
run "$ASYNCLEAK" "$perl" -e 'print "plain\n"'
expect_status 0
expect_no "$tmp/err" "own copy"
expect_line "$tmp/out" plain
