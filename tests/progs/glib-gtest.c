/* A GTest suite whose fixture checks each test for the sources it left
 * attached: the setup takes a snapshot, the teardown drains the default
 * context and calls asyncleak_check_and_isolate, and fails the test
 * (g_test_fail_printf) when something is left. The first test forgets a
 * repeating timeout: it fails, and the report names where the timeout was
 * added. The timeout is set aside and stopped: the test after it runs
 * the context, sees no beat of it, and passes, as does a test that
 * removes what it adds. The TAP output and the exit status say exactly
 * that; the suite removes the timeout before it returns, so that the
 * exit report is empty.
 *
 * GTest ends the run at the first failed test (g_test_fail, abort())
 * unless it is given --keep-going (-k).
 *
 * [clean] is the same suite with the timeout removed by its test: every
 * test passes.
 *
 * RUN: --keep-going
 * CHECK: ^# Start of leaks tests$
 * CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open$
 * CHECK: ^1 handle of type timeout source, created at:$
 * CHECK: ^    #0 0x[0-9a-f]+ in start_heartbeat .*glib-gtest.c:%line(leak)$
 * CHECK: ^    #1 0x[0-9a-f]+ in test_forgets_heartbeat .*glib-gtest.c:%line(leaky-call)$
 * CHECK: attached: every 10 ms$
 * CHECK: ^SUMMARY: asyncleak: 1 handle left open \(1 timeout source\) from 1 creation site$
 * CHECK: ^asyncleak: set aside for the tests that follow: 1 handle \(1 stopped\)$
 * CHECK: ^not ok 1 /leaks/forgets-heartbeat - 1 source\(s\) left attached$
 * CHECK: ^ok 2 /leaks/runs-context$
 * CHECK: ^ok 3 /leaks/removes-timeout$
 * CHECK: ^beats during the later tests: 0$
 * CHECK: ^asyncleak: no leaks: 1 loop\(s\), [0-9]+ handle\(s\) created, all closed; 1 loop\(s\) never closed$
 * CHECK-COUNT-1: ERROR: asyncleak:
 * CHECK-COUNT-1: ^not ok
 * EXIT: 1
 *
 * [clean] RUN: --keep-going clean
 * [clean] CHECK: ^ok 1 /leaks/forgets-heartbeat$
 * [clean] CHECK: ^ok 2 /leaks/runs-context$
 * [clean] CHECK: ^ok 3 /leaks/removes-timeout$
 * [clean] CHECK: ^beats during the later tests: 0$
 * [clean] CHECK-NOT: ERROR
 * [clean] CHECK-NOT: not ok
 * [clean] CHECK-NOT: set aside
 * [clean] EXIT: 0
 */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "asyncleak.h"

/* ------------------------------------------------- the leak-checking fixture */

typedef struct {
  asyncleak_snapshot *began;
} Leaks;

static void leaks_setup(Leaks *f, gconstpointer data) {
  (void)data;
  f->began = asyncleak_snapshot_take();
  g_assert_nonnull(f->began);
}

/* Lets the test's own work finish (a source that removes itself), then
 * fails the test for what it left attached. */
static void leaks_teardown(Leaks *f, gconstpointer data) {
  size_t left;

  (void)data;
  asyncleak_drain(g_main_context_default(), 200);
  left = asyncleak_check_and_isolate(f->began, stderr);
  if (left > 0)
    g_test_fail_printf("%zu source(s) left attached", left);
  asyncleak_snapshot_free(f->began);
}

/* ------------------------------------------------------------------ tests */

static int clean;
static guint heartbeat_id;
static unsigned long beats, beats_then;

static gboolean beat(gpointer data) {
  (void)data;
  beats++;
  return G_SOURCE_CONTINUE;
}

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

static guint start_heartbeat(void) {
  return g_timeout_add(10, beat, NULL); /* @leak */
}

static void test_forgets_heartbeat(Leaks *f, gconstpointer data) {
  (void)f;
  (void)data;
  heartbeat_id = start_heartbeat(); /* @leaky-call */
  run_for(30);
  if (clean) {
    g_source_remove(heartbeat_id);
    heartbeat_id = 0;
  }
}

/* The forgotten heartbeat, stopped, never beats while this test runs the
 * context. */
static void test_runs_context(Leaks *f, gconstpointer data) {
  (void)f;
  (void)data;
  beats_then = beats;
  run_for(50);
  g_assert_cmpuint(beats, ==, beats_then);
}

static gboolean never(gpointer data) {
  (void)data;
  return G_SOURCE_CONTINUE;
}

static void test_removes_timeout(Leaks *f, gconstpointer data) {
  guint id;

  (void)f;
  (void)data;
  id = g_timeout_add(60000, never, NULL);
  g_assert_true(g_source_remove(id));
}

int main(int argc, char **argv) {
  int rc;

  g_test_init(&argc, &argv, NULL);
  /* What GTest's own options leave. */
  clean = argc > 1 && strcmp(argv[1], "clean") == 0;
#define LEAK_CHECKED(path, test)                                              \
  g_test_add(path, Leaks, NULL, leaks_setup, test, leaks_teardown)
  LEAK_CHECKED("/leaks/forgets-heartbeat", test_forgets_heartbeat);
  LEAK_CHECKED("/leaks/runs-context", test_runs_context);
  LEAK_CHECKED("/leaks/removes-timeout", test_removes_timeout);
#undef LEAK_CHECKED
  rc = g_test_run();
  printf("beats during the later tests: %lu\n", beats - beats_then);
  fflush(stdout);
  /* The program's own cleanup, as it would be without asyncleak. */
  if (heartbeat_id != 0)
    g_source_remove(heartbeat_id);
  return rc;
}
