/* One loop per thread in four threads, each leaking one timer from the same
 * helper: one creation site, four handles on four loops and threads.
 *
 * CHECK: ERROR: asyncleak: 4 handles left open at exit
 * CHECK: ^4 handles of type uv_timer_t, created at:
 * CHECK: #0 0x[0-9a-f]+ in thread_leak .*uv-threads.c:%line(leak)$
 * CHECK: #1 0x[0-9a-f]+ in thread_main .*uv-threads.c:%line(call)$
 * CHECK-COUNT-4: ^  0x[0-9a-f]+ on loop [1-4], thread [0-9]+, inactive, referenced$
 * CHECK: ^Loops \(libuv\): 4 seen, 0 closed, 4 not closed:$
 * CHECK-COUNT-4: created in thread_main .*uv-threads.c:%line(loop) by thread [0-9]+: never closed
 * CHECK: ^SUMMARY: asyncleak: 4 handles left open \(4 uv_timer_t\) from 1 creation site; 4 of 4 loops not closed$
 * EXIT: 23
 *
 * [clean] RUN: clean
 * [clean] CHECK-NOT: ERROR
 * [clean] EXIT: 0
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define THREADS 4

struct worker {
  pthread_t thread;
  uv_loop_t loop;
  uv_timer_t leaked;
  uv_idle_t closed[8];
};

static int clean;

static void thread_leak(struct worker *w) {
  uv_timer_init(&w->loop, &w->leaked); /* @leak */
}

static void *thread_main(void *arg) {
  struct worker *w = arg;

  uv_loop_init(&w->loop); /* @loop */
  for (int i = 0; i < 8; i++) {
    uv_idle_init(&w->loop, &w->closed[i]);
    uv_close((uv_handle_t *)&w->closed[i], NULL);
  }
  thread_leak(w); /* @call */
  if (clean)
    uv_close((uv_handle_t *)&w->leaked, NULL);
  uv_run(&w->loop, UV_RUN_DEFAULT);
  if (clean && uv_loop_close(&w->loop) != 0)
    abort();
  return NULL;
}

int main(int argc, char **argv) {
  static struct worker workers[THREADS];

  clean = argc > 1 && strcmp(argv[1], "clean") == 0;
  for (int i = 0; i < THREADS; i++)
    pthread_create(&workers[i].thread, NULL, thread_main, &workers[i]);
  for (int i = 0; i < THREADS; i++)
    pthread_join(workers[i].thread, NULL);
  return 0;
}
