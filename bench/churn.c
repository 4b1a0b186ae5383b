/* churn: the hot path. Creates, starts and closes timers, running the loop
 * every BATCH of them so that their closes complete. Prints the cycles and
 * the time per cycle. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <uv.h>

#define BATCH 1000

static void on_timer(uv_timer_t *t) { (void)t; }

int main(int argc, char **argv) {
  long cycles = argc > 1 ? atol(argv[1]) : 1000000;
  uv_timer_t *timers = calloc(BATCH, sizeof(*timers));
  uv_loop_t loop;
  struct timespec t0, t1;

  if (timers == NULL || cycles <= 0 || uv_loop_init(&loop) != 0)
    return 1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (long done = 0; done < cycles;) {
    int n = cycles - done < BATCH ? (int)(cycles - done) : BATCH;
    for (int i = 0; i < n; i++) {
      uv_timer_init(&loop, &timers[i]);
      uv_timer_start(&timers[i], on_timer, 60000, 0);
      uv_close((uv_handle_t *)&timers[i], NULL);
    }
    uv_run(&loop, UV_RUN_NOWAIT);
    done += n;
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double ns = (t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec);
  printf("churn cycles=%ld ns_per_cycle=%.1f\n", cycles, ns / cycles);
  uv_loop_close(&loop);
  free(timers);
  return 0;
}
