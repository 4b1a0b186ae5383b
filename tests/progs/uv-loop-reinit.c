/* A loop initialised again at the same address without being closed: the
 * first run of run_job() leaves its loop with a timer open and returns
 * early; the second initialises a loop over it and closes cleanly. The
 * first run's timer must still be reported, and its loop too.
 *
 * CHECK: ERROR: asyncleak: 1 handle left open at exit
 * CHECK: ^1 handle of type uv_timer_t, created at:
 * CHECK: #0 0x[0-9a-f]+ in run_job .*uv-loop-reinit.c:%line(timer)$
 * CHECK: #1 0x[0-9a-f]+ in main .*uv-loop-reinit.c:%line(first)$
 * CHECK: on loop 1, thread
 * CHECK: ^Loops \(libuv\): 2 seen, 1 closed, 1 not closed:$
 * CHECK: loop 1 \(libuv 0x[0-9a-f]+\) created in run_job .*uv-loop-reinit.c:%line(init) by thread [0-9]+ \(main\): initialised again without a close$
 * EXIT: 23
 *
 * [clean] RUN: clean
 * [clean] CHECK-NOT: ERROR
 * [clean] EXIT: 0
 */
#include <stdlib.h>
#include <string.h>
#include <uv.h>

static uv_loop_t loop;
static uv_timer_t timer;

static int run_job(int fail_early) {
  uv_loop_init(&loop); /* @init */
  uv_timer_init(&loop, &timer); /* @timer */
  if (fail_early)
    return -1; /* the bug: neither the timer nor the loop is closed */
  uv_close((uv_handle_t *)&timer, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  return uv_loop_close(&loop);
}

int main(int argc, char **argv) {
  int clean = argc > 1 && strcmp(argv[1], "clean") == 0;

  run_job(!clean); /* @first */
  if (run_job(0) != 0)
    abort();
  return 0;
}
