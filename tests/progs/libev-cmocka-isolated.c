/* The cmocka suite of ev-cmocka-isolated.c on a libev loop: one test
 * leaks a repeating timer (started, never stopped), then clean tests
 * follow. The leaky test fails, naming its function; its timer is
 * stopped, so that its callback no longer runs and it no longer keeps the
 * loop running. The tests after it pass with nothing outstanding when
 * they begin, one of them runs the loop until it has no watcher left, and
 * the ticks stop. A started signal watcher is left alone: stopping the
 * last one gives the signal back its former disposition, which is more
 * than the loop.
 *
 * [clean] is the same suite without the leak: every test passes.
 *
 * ENV: ASYNCLEAK_OPTIONS=drain_timeout_ms=300
 * CHECK: ^\[ RUN      \] test_leaks_ticker$
 * CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open$
 * CHECK: ^1 handle of type ev_timer, created at:$
 * CHECK: ^    #0 0x[0-9a-f]+ in start_ticker .*libev-cmocka-isolated.c:%line(leak)$
 * CHECK: ^    #1 0x[0-9a-f]+ in test_leaks_ticker .*libev-cmocka-isolated.c:%line(leaky-call)$
 * CHECK: ^asyncleak: set aside for the tests that follow: 1 handle \(1 stopped\)$
 * CHECK: ^\[  ERROR   \] test_leaks_ticker$
 * CHECK: ^\[       OK \] test_runs_loop_to_its_end$
 * CHECK: ^\[       OK \] test_timer_stopped$
 * CHECK: ^\[  PASSED  \] 2 test\(s\)\.$
 * CHECK: ^ticks during the later tests: 0$
 * CHECK-COUNT-1: ERROR: asyncleak:
 * CHECK-COUNT-1: in start_ticker
 * CHECK-NOT: FAILED  \]
 * EXIT: 1
 *
 * [clean] RUN: clean
 * [clean] ENV: ASYNCLEAK_OPTIONS=drain_timeout_ms=300
 * [clean] CHECK: ^\[       OK \] test_leaks_ticker$
 * [clean] CHECK: ^\[  PASSED  \] 3 test\(s\)\.$
 * [clean] CHECK: ^ticks during the later tests: 0$
 * [clean] CHECK-NOT: ERROR
 * [clean] CHECK-NOT: set aside
 * [clean] EXIT: 0
 */
#include <ev.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "asyncleak_cmocka.h"

static int clean;
static struct ev_loop *loop;
static ev_timer ticker;
static unsigned long ticks;
/* The ticks when the first test after the leaky one began. */
static unsigned long ticks_then;
static int later;

static void on_tick(struct ev_loop *l, ev_timer *w, int revents) {
  (void)l;
  (void)w;
  (void)revents;
  ticks++;
}

static void start_ticker(void) {
  ev_timer_init(&ticker, on_tick, 0.001, 0.001);
  ev_timer_start(loop, &ticker); /* @leak */
}

/* Starts a timer that ticks every millisecond, and forgets it. */
static void test_leaks_ticker(void **state) {
  (void)state;
  start_ticker(); /* @leaky-call */
  while (ticks < 3)
    ev_run(loop, EVRUN_ONCE);
  if (clean)
    ev_timer_stop(loop, &ticker);
}

/* What every later test checks first: nothing of the program's is
 * outstanding on the loop, so its teardown will not wait, and the timer
 * has not ticked since the first of them began. */
static void begin_later_test(void) {
  if (!later) {
    later = 1;
    ticks_then = ticks;
  }
  assert_int_equal(asyncleak_drain(loop, 0), 0);
  assert_int_equal(ticks, ticks_then);
}

static void on_once(struct ev_loop *l, ev_timer *w, int revents) {
  (void)l;
  (void)w;
  (void)revents;
}

/* ev_run returns once no watcher is started: never, with a repeating
 * timer started. */
static void test_runs_loop_to_its_end(void **state) {
  ev_timer once;

  (void)state;
  begin_later_test();
  ev_timer_init(&once, on_once, 0.02, 0.);
  ev_timer_start(loop, &once);
  assert_int_equal(ev_run(loop, 0), 0);
  assert_int_equal(ticks, ticks_then);
}

static void test_timer_stopped(void **state) {
  ev_timer t;

  (void)state;
  begin_later_test();
  ev_timer_init(&t, on_once, 60., 0.);
  ev_timer_start(loop, &t);
  ev_timer_stop(loop, &t);
}

int main(int argc, char **argv) {
  const struct CMUnitTest tests[] = {
#define T(name)                                                               \
  cmocka_unit_test_setup_teardown(name, asyncleak_cmocka_setup,               \
                                  asyncleak_cmocka_teardown)
      T(test_leaks_ticker),
      T(test_runs_loop_to_its_end),
      T(test_timer_stopped),
#undef T
  };
  int failed;

  clean = argc > 1 && strcmp(argv[1], "clean") == 0;
  loop = ev_loop_new(0);
  failed = cmocka_run_group_tests(tests, NULL, NULL);
  printf("ticks during the later tests: %lu\n", ticks - ticks_then);
  fflush(stdout);
  /* The program's own cleanup, as it would be without asyncleak. */
  ev_timer_stop(loop, &ticker);
  ev_loop_destroy(loop);
  return failed;
}
