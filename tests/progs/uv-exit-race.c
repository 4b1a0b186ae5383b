/* _exit() while other threads are in the middle of making and closing
 * handles, run by tests/cli/exit-race.sh:
 *
 *   uv-exit-race THREADS LEAKED
 *
 * THREADS threads each run a loop of their own, making and closing timers
 * as fast as they can, and now and then a whole loop. The main thread
 * lets them run for 50 ms, makes LEAKED timers on a loop of its own, and
 * calls _exit(3) with the others still at it. The report must list the
 * LEAKED timers, whatever the other threads held at that instant.
 *
 * RUN-BY: tests/cli/exit-race.sh
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#define MAX_LEAKED 64

static uv_timer_t leaked[MAX_LEAKED];

static void churn_loop(void) {
  uv_loop_t loop;
  uv_timer_t t;

  uv_loop_init(&loop);
  for (int i = 0; i < 256; i++) {
    uv_timer_init(&loop, &t); /* @churn */
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&loop, UV_RUN_NOWAIT);
  }
  uv_loop_close(&loop);
}

static void *churn(void *arg) {
  (void)arg;
  for (;;)
    churn_loop();
  return NULL;
}

static void leak_timers(uv_loop_t *loop, int n) {
  for (int i = 0; i < n; i++)
    uv_timer_init(loop, &leaked[i]); /* @leak */
}

int main(int argc, char **argv) {
  const struct timespec settle = {0, 50 * 1000 * 1000};
  int threads = argc > 1 ? atoi(argv[1]) : 4;
  int n = argc > 2 ? atoi(argv[2]) : 8;
  uv_loop_t loop;

  if (n < 0 || n > MAX_LEAKED || threads < 0) {
    fprintf(stderr, "usage: uv-exit-race THREADS LEAKED (at most %d)\n",
            MAX_LEAKED);
    return 2;
  }
  for (int i = 0; i < threads; i++) {
    pthread_t tid;
    if (pthread_create(&tid, NULL, churn, NULL) != 0)
      return 1;
  }
  nanosleep(&settle, NULL);
  uv_loop_init(&loop);
  leak_timers(&loop, n);
  _exit(3);
}
