/* Two leaks from two sites: a timer that "vendor" code starts and an idle
 * handle of the program's own. Suppression files hide the vendor's, and a
 * malformed file stops the run before the program starts; given through
 * ASYNCLEAK_OPTIONS instead, the runtime warns and the program runs on.
 *
 * CHECK: ^1 handle of type uv_timer_t, created at:$
 * CHECK: ^    #0 0x[0-9a-f]+ in start_vendor_timer .*uv-suppress.c:%line(vendor)$
 * CHECK: ^  fingerprint [0-9a-f]+$
 * CHECK: ^1 handle of type uv_idle_t, created at:$
 * CHECK: ^    #0 0x[0-9a-f]+ in start_own_idle .*uv-suppress.c:%line(own)$
 * CHECK-NOT: Suppressions
 * EXIT: 23
 *
 * [gen] CLI: --gen-suppressions
 * [gen] CHECK: ^Suppressions for the leaks above, for a file given to --suppressions:$
 * [gen] CHECK: ^# 1 handle of type uv_(timer|idle)_t, fingerprint [0-9a-f]+$
 * [gen] CHECK-COUNT-1: ^uv_timer:\^start_vendor_timer\$$
 * [gen] CHECK-COUNT-1: ^uv_idle:\^start_own_idle\$$
 * [gen] EXIT: 23
 *
 * [vendor] CLI: --suppressions=tests/progs/supp/vendor.supp
 * [vendor] CHECK: ^==[0-9]+==ERROR: asyncleak: 1 handle left open at exit$
 * [vendor] CHECK: in start_own_idle
 * [vendor] CHECK: ^Suppressions used:$
 * [vendor] CHECK: ^  groups  resources  suppression$
 * [vendor] CHECK: ^       1          1  uv_timer:vendor_\* \(.*tests/progs/supp/vendor.supp:3\)$
 * [vendor] CHECK: ^SUMMARY: asyncleak: 1 handle left open \(1 uv_idle_t\) from 1 creation site
 * [vendor] CHECK-NOT: start_vendor_timer
 * [vendor] CHECK-NOT: kind_that_never_matches
 * [vendor] EXIT: 23
 *
 * [both] CLI: --suppressions=tests/progs/supp/vendor.supp --suppressions=tests/progs/supp/own.supp
 * [both] CHECK: ^==[0-9]+== asyncleak: no handles left open at exit$
 * [both] CHECK: ^       1          1  uv_timer:vendor_\* 
 * [both] CHECK: ^       1          1  handle:progs/uv-suppress.c 
 * [both] CHECK: ^asyncleak: no leaks reported: 1 loop\(s\), 2 handle\(s\) created; 1 loop\(s\) never closed; 2 suppressed$
 * [both] CHECK-NOT: ERROR
 * [both] EXIT: 0
 *
 * [malformed] CLI: --suppressions=tests/progs/supp/malformed.supp
 * [malformed] CHECK: ^asyncleak: .*tests/progs/supp/malformed.supp:4: malformed suppression: expected kind:pattern$
 * [malformed] CHECK-NOT: ^main done$
 * [malformed] EXIT: 125
 *
 * [missing] CLI: --suppressions=tests/progs/supp/no-such.supp
 * [missing] CHECK: ^asyncleak: cannot read the suppressions file 'tests/progs/supp/no-such.supp': No such file or directory$
 * [missing] CHECK-NOT: ^main done$
 * [missing] EXIT: 125
 *
 * [env] ENV: ASYNCLEAK_OPTIONS=suppressions=tests/progs/supp/malformed.supp
 * [env] CHECK: ^asyncleak: tests/progs/supp/malformed.supp:4: malformed suppression: expected kind:pattern$
 * [env] CHECK: ^main done$
 * [env] CHECK-NOT: start_vendor_timer
 * [env] CHECK: in start_own_idle
 * [env] EXIT: 23
 */
#include <stdio.h>
#include <uv.h>

static uv_timer_t timer;
static uv_idle_t idle;

static void on_tick(uv_timer_t *t) {
  (void)t;
}

static void on_idle(uv_idle_t *i) {
  uv_idle_stop(i);
}

static void start_vendor_timer(uv_loop_t *loop) {
  uv_timer_init(loop, &timer); /* @vendor */
  uv_timer_start(&timer, on_tick, 60000, 0);
}

static void start_own_idle(uv_loop_t *loop) {
  uv_idle_init(loop, &idle); /* @own */
  uv_idle_start(&idle, on_idle);
}

int main(void) {
  uv_loop_t *loop = uv_default_loop();

  start_vendor_timer(loop);
  start_own_idle(loop);
  uv_run(loop, UV_RUN_NOWAIT);
  printf("main done\n");
  fflush(stdout);
  return 0;
}
