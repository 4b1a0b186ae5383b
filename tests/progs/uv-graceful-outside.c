/* A program for tests/cli/graceful-outside.sh: --graceful-signals when no
 * loop is in uv_run as the signal comes. It makes a repeating timer, with
 * a finalizer that says "finalizer ran" and closes it, prints "ready PID"
 * and then, by its first argument:
 *   sleep    never runs the loop: it sleeps;
 *   after    runs the loop once, then sleeps outside it for good;
 *   between  runs the loop again and again (UV_RUN_NOWAIT), sleeping 5 ms
 *            between two runs, which is where the signal finds it.
 * Whatever happens, it is gone after 10 seconds (SIGALRM).
 * No expectations here: the shell test sends the signals.
 *
 * RUN-BY: tests/cli/graceful-outside.sh
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "asyncleak.h"

static uv_loop_t loop;
static uv_timer_t tick;

static void on_tick(uv_timer_t *t) {
  (void)t;
}

static void goodbye(void *l, void *arg) {
  (void)l;
  (void)arg;
  fprintf(stderr, "finalizer ran\n");
  uv_close((uv_handle_t *)&tick, NULL);
}

static void nap(long ms) {
  struct timespec ts = {ms / 1000, ms % 1000 * 1000000L};
  nanosleep(&ts, NULL);
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "sleep";

  alarm(10);
  uv_loop_init(&loop);
  uv_timer_init(&loop, &tick); /* @tick */
  uv_timer_start(&tick, on_tick, 1000, 1000);
  if (asyncleak_run_finally(&loop, goodbye, NULL) != 0)
    return 2;
  if (strcmp(mode, "after") == 0)
    uv_run(&loop, UV_RUN_NOWAIT);
  printf("ready %d\n", (int)getpid());
  fflush(stdout);
  if (strcmp(mode, "between") == 0)
    for (;;) {
      uv_run(&loop, UV_RUN_NOWAIT);
      nap(5);
    }
  for (;;)
    nap(1000);
}
