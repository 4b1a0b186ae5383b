/* A cmocka suite with asyncleak's fixtures around each test, on GLib's
 * default context. One test leaves a timeout attached and fails, naming
 * where it was added; one removes its own and passes. One fails an
 * assertion inside a GLib callback while g_main_loop_run runs (cmocka
 * jumps out of the run): its teardown reports what it left attached, a
 * repeating ticker and the source whose callback never returned, and sets
 * them aside. The ticker and an idle are stopped: the tests after it run
 * the context and pass, and neither ticks while they run. GLib never
 * removes a source whose callback did not return: that one is reported
 * too.
 *
 * [clean] is the same suite without the leak and with the failing test's
 * sources removed by the test itself before it fails: only the assertion
 * fails.
 *
 * ENV: ASYNCLEAK_OPTIONS=drain_timeout_ms=300
 * CHECK: ^\[ RUN      \] test_removes_its_timeout$
 * CHECK: ^\[       OK \] test_removes_its_timeout$
 * CHECK: ^\[ RUN      \] test_leaves_timeout$
 * CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open$
 * CHECK: ^1 handle of type timeout source, created at:$
 * CHECK: ^    #0 0x[0-9a-f]+ in add_poll_timeout .*glib-cmocka.c:%line(leak)$
 * CHECK: ^    #1 0x[0-9a-f]+ in test_leaves_timeout .*glib-cmocka.c:%line(leaky-call)$
 * CHECK: attached: every 60000 ms$
 * CHECK: ^SUMMARY: asyncleak: 1 handle left open \(1 timeout source\) from 1 creation site$
 * CHECK: ^asyncleak: set aside for the tests that follow: 1 handle \(1 stopped\)$
 * CHECK: ^\[  ERROR   \] test_leaves_timeout$
 * CHECK: ^\[ RUN      \] test_assert_in_callback$
 * CHECK: ==[0-9]+==ERROR: asyncleak: 3 handles left open$
 * CHECK: ^    #0 0x[0-9a-f]+ in test_assert_in_callback .*glib-cmocka.c:%line(ticker)$
 * CHECK: attached: every 1 ms$
 * CHECK: ^1 handle of type idle source, created at:$
 * CHECK: ^    #0 0x[0-9a-f]+ in test_assert_in_callback .*glib-cmocka.c:%line(spinner)$
 * CHECK: ^    #0 0x[0-9a-f]+ in test_assert_in_callback .*glib-cmocka.c:%line(checker)$
 * CHECK: ^SUMMARY: asyncleak: 3 handles left open \(2 timeout source, 1 idle source\) from 3 creation sites$
 * CHECK: ^asyncleak: set aside for the tests that follow: 3 handles \(3 stopped\)$
 * CHECK: \[   LINE   \] --- .*glib-cmocka.c:%line(assert): error: Failure!
 * CHECK: ^\[  ERROR   \] test_assert_in_callback$
 * CHECK: ^\[ RUN      \] test_runs_context$
 * CHECK: ^\[       OK \] test_runs_context$
 * CHECK: ^\[ RUN      \] test_drains_idle$
 * CHECK: ^\[       OK \] test_drains_idle$
 * CHECK: ^\[  PASSED  \] 3 test\(s\)\.$
 * CHECK: ^ticks during the later tests: 0$
 * CHECK: ^idle ran: 1$
 * CHECK: ^asyncleak: no leaks: 1 loop\(s\), 9 handle\(s\) created, all closed; 1 loop\(s\) never closed$
 * CHECK-COUNT-2: ERROR: asyncleak:
 * CHECK-NOT: still active
 * CHECK-NOT: not drained
 * EXIT: 2
 *
 * [clean] RUN: clean
 * [clean] ENV: ASYNCLEAK_OPTIONS=drain_timeout_ms=300
 * [clean] CHECK: ^\[       OK \] test_removes_its_timeout$
 * [clean] CHECK: ^\[       OK \] test_leaves_timeout$
 * [clean] CHECK: \[   LINE   \] --- .*glib-cmocka.c:%line(assert): error: Failure!$
 * [clean] CHECK: ^\[  FAILED  \] test_assert_in_callback$
 * [clean] CHECK: ^\[  PASSED  \] 4 test\(s\)\.$
 * [clean] CHECK: ^ 1 FAILED TEST\(S\)$
 * [clean] CHECK: ^ticks during the later tests: 0$
 * [clean] CHECK: ^idle ran: 1$
 * [clean] CHECK-NOT: ERROR: asyncleak
 * [clean] CHECK-NOT: set aside
 * [clean] EXIT: 1
 */
#include <glib.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "asyncleak_cmocka.h"

static int clean;

static gboolean quit_loop(gpointer loop) {
  g_main_loop_quit(loop);
  return G_SOURCE_REMOVE;
}

/* Runs the default context until a timeout of ms quits it. */
static void run_for(guint ms) {
  GMainLoop *loop = g_main_loop_new(NULL, FALSE);

  g_timeout_add(ms, quit_loop, loop);
  g_main_loop_run(loop);
  g_main_loop_unref(loop);
}

static gboolean never(gpointer data) {
  (void)data;
  return G_SOURCE_CONTINUE;
}

/* Adds a timeout and removes it: passes. */
static void test_removes_its_timeout(void **state) {
  guint id;

  (void)state;
  id = g_timeout_add(60000, never, NULL);
  run_for(5);
  assert_true(g_source_remove(id));
}

static guint poll_id;

static guint add_poll_timeout(void) {
  return g_timeout_add(60000, never, NULL); /* @leak */
}

/* Forgets a timeout: fails, and the report names where it was added. */
static void test_leaves_timeout(void **state) {
  (void)state;
  poll_id = add_poll_timeout(); /* @leaky-call */
  run_for(5);
  if (clean) {
    g_source_remove(poll_id);
    poll_id = 0;
  }
}

/* The ticks of the failing test's timeout and idle, and what they were
 * when the first test after it began. */
static unsigned long ticks, ticks_then;
static int later;
static guint ticker_id, spinner_id, checker_id;

static gboolean tick(gpointer data) {
  (void)data;
  ticks++;
  return G_SOURCE_CONTINUE;
}

static gboolean check_ticks(gpointer data) {
  (void)data;
  if (ticks < 3)
    return G_SOURCE_CONTINUE;
  if (clean) {
    /* What the test would have to do to leave nothing: a source whose
     * callback never returns is never removed by GLib. */
    g_source_remove(ticker_id);
    g_source_remove(spinner_id);
    g_source_remove(checker_id);
    ticker_id = spinner_id = checker_id = 0;
  }
  fail(); /* @assert */
  return G_SOURCE_REMOVE;
}

/* A failed assertion in a callback: cmocka jumps out of g_main_loop_run,
 * which never returns, and the test never removes its ticker and its
 * idle. (Nor can it quit its loop: the assertion always fails.) */
static void test_assert_in_callback(void **state) {
  GMainLoop *loop = g_main_loop_new(NULL, FALSE);

  (void)state;
  ticker_id = g_timeout_add(1, tick, NULL); /* @ticker */
  spinner_id = g_idle_add(tick, NULL);      /* @spinner */
  checker_id = g_timeout_add(2, check_ticks, NULL); /* @checker */
  g_main_loop_run(loop);
  g_main_loop_unref(loop);
}

/* What every later test checks first: nothing of the program's is
 * outstanding on the context, so its teardown will not wait, and the
 * ticker has not ticked since the first of them began. */
static void begin_later_test(void) {
  if (!later) {
    later = 1;
    ticks_then = ticks;
  }
  assert_int_equal(asyncleak_drain(g_main_context_default(), 0), 0);
  assert_int_equal(ticks, ticks_then);
}

/* Runs the default context for a while: no callback of a failed test's
 * runs in it. */
static void test_runs_context(void **state) {
  (void)state;
  begin_later_test();
  run_for(30);
  assert_int_equal(ticks, ticks_then);
}

static int idled;

static gboolean idle_once(gpointer data) {
  (void)data;
  idled++;
  return G_SOURCE_REMOVE;
}

/* Leaves an idle for the teardown to drain: it runs, and the test passes. */
static void test_drains_idle(void **state) {
  (void)state;
  begin_later_test();
  g_idle_add(idle_once, NULL);
}

int main(int argc, char **argv) {
  const struct CMUnitTest tests[] = {
#define T(name)                                                               \
  cmocka_unit_test_setup_teardown(name, asyncleak_cmocka_setup,               \
                                  asyncleak_cmocka_teardown)
      T(test_removes_its_timeout), T(test_leaves_timeout),
      T(test_assert_in_callback),  T(test_runs_context),
      T(test_drains_idle),
#undef T
  };
  int failed;

  clean = argc > 1 && strcmp(argv[1], "clean") == 0;
  failed = cmocka_run_group_tests(tests, NULL, NULL);
  printf("ticks during the later tests: %lu\n", ticks - ticks_then);
  printf("idle ran: %d\n", idled);
  fflush(stdout);
  /* The program's own cleanup, as it would be without asyncleak. */
  if (poll_id != 0)
    g_source_remove(poll_id);
  if (ticker_id != 0)
    g_source_remove(ticker_id);
  if (spinner_id != 0)
    g_source_remove(spinner_id);
  if (checker_id != 0)
    g_source_remove(checker_id);
  return failed;
}
