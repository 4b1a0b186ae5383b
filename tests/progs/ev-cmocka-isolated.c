/* The cmocka suite of uv-cmocka-isolated.c on a libevent base: one test
 * leaks a persistent timer event (event_new, added, never deleted or
 * freed), then clean tests follow. The leaky test fails, naming its
 * function; its event is deleted, so that its callback no longer runs and
 * it no longer keeps the base looping. The tests after it pass with
 * nothing outstanding when they begin, one of them runs the base until it
 * has no events left, and the ticks stop. The program frees the event at
 * the end, as it would have.
 *
 * [clean] is the same suite without the leak: every test passes.
 *
 * ENV: ASYNCLEAK_OPTIONS=drain_timeout_ms=300
 * CHECK: ^\[ RUN      \] test_leaks_ticker$
 * CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open$
 * CHECK: ^1 handle of type event \(added\), created at:$
 * CHECK: ^    #0 0x[0-9a-f]+ in start_ticker .*ev-cmocka-isolated.c:%line(leak)$
 * CHECK: ^    #1 0x[0-9a-f]+ in test_leaks_ticker .*ev-cmocka-isolated.c:%line(leaky-call)$
 * CHECK: ^asyncleak: set aside for the tests that follow: 1 handle \(1 stopped\)$
 * CHECK: ^\[  ERROR   \] test_leaks_ticker$
 * CHECK: ^\[       OK \] test_runs_base_to_its_end$
 * CHECK: ^\[       OK \] test_event_freed$
 * CHECK: ^\[       OK \] test_assigned_deleted$
 * CHECK: ^\[  PASSED  \] 3 test\(s\)\.$
 * CHECK: ^ticks during the later tests: 0$
 * CHECK: ^asyncleak: no leaks:
 * CHECK-COUNT-1: ERROR: asyncleak:
 * CHECK-COUNT-1: in start_ticker
 * CHECK-NOT: FAILED  \]
 * EXIT: 1
 *
 * [clean] RUN: clean
 * [clean] ENV: ASYNCLEAK_OPTIONS=drain_timeout_ms=300
 * [clean] CHECK: ^\[       OK \] test_leaks_ticker$
 * [clean] CHECK: ^\[  PASSED  \] 4 test\(s\)\.$
 * [clean] CHECK: ^ticks during the later tests: 0$
 * [clean] CHECK-NOT: ERROR
 * [clean] CHECK-NOT: set aside
 * [clean] EXIT: 0
 */
#include <event2/event.h>
#include <event2/event_struct.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "asyncleak_cmocka.h"

static int clean;
static struct event_base *base;
static struct event *ticker;
static unsigned long ticks;
/* The ticks when the first test after the leaky one began. */
static unsigned long ticks_then;
static int later;

static void on_tick(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  (void)arg;
  ticks++;
}

static void start_ticker(void) {
  struct timeval ms = {0, 1000};

  ticker = event_new(base, -1, EV_PERSIST, on_tick, NULL); /* @leak */
  event_add(ticker, &ms);
}

/* Adds a timer that ticks every millisecond, and forgets it. */
static void test_leaks_ticker(void **state) {
  (void)state;
  start_ticker(); /* @leaky-call */
  while (ticks < 3)
    event_base_loop(base, EVLOOP_ONCE);
  if (clean) {
    event_free(ticker);
    ticker = NULL;
  }
}

/* What every later test checks first: nothing of the program's is
 * outstanding on the base, so its teardown will not wait, and the timer
 * has not ticked since the first of them began. */
static void begin_later_test(void) {
  if (!later) {
    later = 1;
    ticks_then = ticks;
  }
  assert_int_equal(asyncleak_drain(base, 0), 0);
  assert_int_equal(ticks, ticks_then);
}

static void on_once(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  (void)arg;
}

/* event_base_dispatch returns once no event is added: never, with a
 * persistent timer added. */
static void test_runs_base_to_its_end(void **state) {
  struct timeval ms = {0, 20000};
  struct event *once;

  (void)state;
  begin_later_test();
  once = event_new(base, -1, 0, on_once, NULL);
  event_add(once, &ms);
  assert_int_equal(event_base_dispatch(base), 1);
  event_free(once);
  assert_int_equal(ticks, ticks_then);
}

static void test_event_freed(void **state) {
  struct timeval ms = {60, 0};
  struct event *ev;

  (void)state;
  begin_later_test();
  ev = event_new(base, -1, 0, on_once, NULL);
  event_add(ev, &ms);
  event_free(ev);
}

static struct event assigned;

static void test_assigned_deleted(void **state) {
  struct timeval ms = {60, 0};

  (void)state;
  begin_later_test();
  event_assign(&assigned, base, -1, 0, on_once, NULL);
  event_add(&assigned, &ms);
  event_del(&assigned);
}

int main(int argc, char **argv) {
  const struct CMUnitTest tests[] = {
#define T(name)                                                               \
  cmocka_unit_test_setup_teardown(name, asyncleak_cmocka_setup,               \
                                  asyncleak_cmocka_teardown)
      T(test_leaks_ticker),
      T(test_runs_base_to_its_end),
      T(test_event_freed),
      T(test_assigned_deleted),
#undef T
  };
  int failed;

  clean = argc > 1 && strcmp(argv[1], "clean") == 0;
  base = event_base_new();
  failed = cmocka_run_group_tests(tests, NULL, NULL);
  printf("ticks during the later tests: %lu\n", ticks - ticks_then);
  fflush(stdout);
  /* The program's own cleanup, as it would be without asyncleak. */
  if (ticker != NULL)
    event_free(ticker);
  event_base_free(base);
  return failed;
}
