/* Runs of the default context that a longjmp leaves, as a test framework's
 * failed assertion in a callback leaves them, nine of them, more than the
 * shim keeps track of at once; then a run whose timeout raises SIGTERM,
 * under --graceful-signals. The graceful signal quits that run: the
 * shutdown happens, the report is written, and the signal ends the
 * process. Each run is left deeper on the stack than the one before, and
 * the runs left are forgotten as a new run begins, whether it begins
 * deeper than they were (the default: their frames are overwritten) or
 * above them (level). Should the run not quit, an alarm ends the
 * process.
 *
 * [once] leaves one run only.
 *
 * CLI: --graceful-signals
 * CHECK: ^left 9 runs$
 * CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open at exit$
 * CHECK: #0 0x[0-9a-f]+ in main .*glib-jumped-runs.c:%line(tick)$
 * CHECK: was killed by signal 15 \(SIGTERM
 * CHECK-NOT: SIGALRM
 * CHECK-NOT: run returned
 * EXIT: 143
 *
 * [level] RUN: level
 * [level] CLI: --graceful-signals
 * [level] CHECK: ^left 9 runs$
 * [level] CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open at exit$
 * [level] CHECK: was killed by signal 15 \(SIGTERM
 * [level] CHECK-NOT: SIGALRM
 * [level] EXIT: 143
 *
 * [once] RUN: once
 * [once] CLI: --graceful-signals
 * [once] CHECK: ^left 1 runs$
 * [once] CHECK: was killed by signal 15 \(SIGTERM
 * [once] CHECK-NOT: SIGALRM
 * [once] EXIT: 143
 */
#include <glib.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static jmp_buf out;

static gboolean jump(gpointer data) {
  (void)data;
  longjmp(out, 1);
}

/* Runs the default context until a callback jumps out of the run. */
static void leave_a_run(void) {
  GMainLoop *loop = g_main_loop_new(NULL, FALSE);
  guint id = g_timeout_add(1, jump, NULL);

  if (!setjmp(out))
    g_main_loop_run(loop);
  g_source_remove(id);
}

static gboolean terminate(gpointer data) {
  (void)data;
  raise(SIGTERM);
  return G_SOURCE_REMOVE;
}

static gboolean tick(gpointer data) {
  (void)data;
  return G_SOURCE_CONTINUE;
}

static void run_until_signal(void) {
  GMainLoop *loop = g_main_loop_new(NULL, FALSE);

  g_timeout_add(5, terminate, NULL);
  g_main_loop_run(loop);
  g_main_loop_unref(loop);
}

/* Calls fn n frames deeper on the stack. */
static void deeper(int n, void (*fn)(void)) {
  volatile char frame[512];

  memset((char *)frame, 0, sizeof(frame));
  if (n > 0)
    deeper(n - 1, fn);
  else
    fn();
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "deep";
  int n = strcmp(mode, "once") == 0 ? 1 : 9;

  /* Each run left deeper than the one before. */
  for (int i = 0; i < n; i++)
    deeper(i, leave_a_run);
  printf("left %d runs\n", n);
  fflush(stdout);
  g_timeout_add(1000, tick, NULL); /* @tick */
  alarm(10);
  if (strcmp(mode, "level") == 0) {
    /* At the depth of the runs left. */
    GMainLoop *loop = g_main_loop_new(NULL, FALSE);
    g_timeout_add(5, terminate, NULL);
    g_main_loop_run(loop);
  } else {
    deeper(n, run_until_signal);
  }
  printf("run returned\n");
  return 0;
}
