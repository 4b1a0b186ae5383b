/* A cmocka suite in which one test leaks a repeating timer, followed by
 * clean tests. The leaky test fails, naming its function; what it left is
 * set aside: its timer is stopped, so that its callback no longer runs
 * and it no longer keeps the loop busy. The tests after it pass, with
 * nothing outstanding on the loop when they begin (asyncleak_drain with
 * no time reports 0, so no teardown waits for the timer), the ticks
 * stop, and no later report mentions the timer. One test runs the loop
 * to its end, which a leaked active timer would prevent. The program
 * closes the timer itself at the end, as it would have: the stop closed
 * nothing.
 *
 * [clean] is the same suite without the leak: the first test closes its
 * timer, and every test passes.
 *
 * ENV: ASYNCLEAK_OPTIONS=drain_timeout_ms=300
 * CHECK: ^\[ RUN      \] test_leaks_ticker$
 * CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open$
 * CHECK: ^1 handle of type uv_timer_t, created at:$
 * CHECK: ^    #0 0x[0-9a-f]+ in start_ticker .*uv-cmocka-isolated.c:%line(leak)$
 * CHECK: ^    #1 0x[0-9a-f]+ in test_leaks_ticker .*uv-cmocka-isolated.c:%line(leaky-call)$
 * CHECK: active, referenced$
 * CHECK: ^SUMMARY: asyncleak: 1 handle left open \(1 uv_timer_t\) from 1 creation site$
 * CHECK: ^asyncleak: set aside for the tests that follow: 1 handle \(1 stopped\)$
 * CHECK: ^\[  ERROR   \] test_leaks_ticker$
 * CHECK: ^\[ RUN      \] test_runs_loop_to_its_end$
 * CHECK: ^\[       OK \] test_runs_loop_to_its_end$
 * CHECK: ^\[       OK \] test_timer_closed$
 * CHECK: ^\[       OK \] test_close_in_flight$
 * CHECK: ^\[       OK \] test_stat_in_flight$
 * CHECK: ^\[  PASSED  \] 4 test\(s\)\.$
 * CHECK: ^ticks during the later tests: 0$
 * CHECK: ^asyncleak: no leaks:
 * CHECK-COUNT-1: ERROR: asyncleak:
 * CHECK-COUNT-1: in start_ticker
 * CHECK-NOT: not drained
 * CHECK-NOT: FAILED  \]
 * EXIT: 1
 *
 * [clean] RUN: clean
 * [clean] ENV: ASYNCLEAK_OPTIONS=drain_timeout_ms=300
 * [clean] CHECK: ^\[       OK \] test_leaks_ticker$
 * [clean] CHECK: ^\[       OK \] test_runs_loop_to_its_end$
 * [clean] CHECK: ^\[  PASSED  \] 5 test\(s\)\.$
 * [clean] CHECK: ^ticks during the later tests: 0$
 * [clean] CHECK-NOT: ERROR
 * [clean] CHECK-NOT: set aside
 * [clean] EXIT: 0
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

#include <cmocka.h>

#include "asyncleak_cmocka.h"

static int clean;
static uv_timer_t ticker;
static unsigned long ticks;
/* The ticks when the first test after the leaky one began. */
static unsigned long ticks_then;
static int later;

static void on_tick(uv_timer_t *t) {
  (void)t;
  ticks++;
}

static void start_ticker(uv_loop_t *loop) {
  uv_timer_init(loop, &ticker); /* @leak */
  uv_timer_start(&ticker, on_tick, 1, 1);
}

/* Starts a timer that ticks every millisecond, and forgets it. */
static void test_leaks_ticker(void **state) {
  (void)state;
  start_ticker(uv_default_loop()); /* @leaky-call */
  while (ticks < 3)
    uv_run(uv_default_loop(), UV_RUN_ONCE);
  if (clean)
    uv_close((uv_handle_t *)&ticker, NULL);
}

/* What every later test checks first: nothing of the program's is
 * outstanding on the loop, so its teardown will not wait, and the timer
 * has not ticked since the first of them began. */
static void begin_later_test(void) {
  if (!later) {
    later = 1;
    ticks_then = ticks;
  }
  assert_int_equal(asyncleak_drain(uv_default_loop(), 0), 0);
  assert_int_equal(ticks, ticks_then);
}

static void on_once(uv_timer_t *t) {
  uv_close((uv_handle_t *)t, NULL);
}

/* uv_run returns once the loop has nothing left to do: never, with a
 * timer repeating. */
static void test_runs_loop_to_its_end(void **state) {
  uv_timer_t t;

  (void)state;
  begin_later_test();
  uv_timer_init(uv_default_loop(), &t);
  uv_timer_start(&t, on_once, 20, 0);
  uv_run(uv_default_loop(), UV_RUN_DEFAULT);
  assert_int_equal(ticks, ticks_then);
}

static void test_timer_closed(void **state) {
  uv_timer_t t;

  (void)state;
  begin_later_test();
  uv_timer_init(uv_default_loop(), &t);
  uv_close((uv_handle_t *)&t, NULL);
  uv_run(uv_default_loop(), UV_RUN_DEFAULT);
}

static uv_timer_t closing;

/* Returns with a close unfinished: the teardown's drain completes it. */
static void test_close_in_flight(void **state) {
  (void)state;
  begin_later_test();
  uv_timer_init(uv_default_loop(), &closing);
  uv_close((uv_handle_t *)&closing, NULL);
}

static uv_fs_t stat_req;

static void on_stat(uv_fs_t *req) {
  uv_fs_req_cleanup(req);
}

/* Returns with a stat in flight: the teardown's drain completes it. */
static void test_stat_in_flight(void **state) {
  (void)state;
  begin_later_test();
  uv_fs_stat(uv_default_loop(), &stat_req, "/", on_stat);
}

int main(int argc, char **argv) {
  const struct CMUnitTest tests[] = {
#define T(name)                                                               \
  cmocka_unit_test_setup_teardown(name, asyncleak_cmocka_setup,               \
                                  asyncleak_cmocka_teardown)
      T(test_leaks_ticker),   T(test_runs_loop_to_its_end),
      T(test_timer_closed),   T(test_close_in_flight),
      T(test_stat_in_flight),
#undef T
  };
  int failed;

  clean = argc > 1 && strcmp(argv[1], "clean") == 0;
  failed = cmocka_run_group_tests(tests, NULL, NULL);
  printf("ticks during the later tests: %lu\n", ticks - ticks_then);
  fflush(stdout);
  /* The program's own cleanup, as it would be without asyncleak. */
  if (!clean)
    uv_close((uv_handle_t *)&ticker, NULL);
  uv_run(uv_default_loop(), UV_RUN_DEFAULT);
  uv_loop_close(uv_default_loop());
  return failed;
}
