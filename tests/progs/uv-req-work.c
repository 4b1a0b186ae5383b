/* Threadpool work still pending when the program closes its loop. With one
 * worker thread, a slow job runs and a second waits in the queue.
 *
 * [default]: the program stops its loop from a timer and closes it with
 * both jobs pending: the close fails with UV_EBUSY, and both requests are
 * reported with where they were queued.
 *
 * CHECK: ^close: -16$
 * CHECK: ==[0-9]+==ERROR: asyncleak: 2 requests pending at exit$
 * CHECK: ^1 request of type uv_work_t pending, created at:$
 * CHECK: ^    #0 0x[0-9a-f]+ in main .*uv-req-work.c:%line(slow)$
 * CHECK: ^  0x[0-9a-f]+ on loop 1, thread [0-9]+ \(main\), pending for [0-9.]+ m?s$
 * CHECK: ^1 request of type uv_work_t pending, created at:$
 * CHECK: ^    #0 0x[0-9a-f]+ in queue_second .*uv-req-work.c:%line(queued)$
 * CHECK: ^    #1 0x[0-9a-f]+ in main .*uv-req-work.c:%line(call)$
 * CHECK: ^  loop 1 .*: close failed 1 time .*never closed$
 * CHECK: ^SUMMARY: asyncleak: 0 handles left open; 2 requests pending \(2 uv_work_t\) from 2 creation sites; 1 of 1 loop not closed$
 * CHECK: ^asyncleak: 2 request\(s\) pending in 1 process\(es\)$
 * CHECK-NOT: after work
 * CHECK-NOT: handle of type
 * EXIT: 23
 *
 * [clean]: the program runs its loop until both jobs are done: no report.
 * [clean] RUN: clean
 * [clean] CHECK: ^after work: 0$
 * [clean] CHECK: ^after work: 0$
 * [clean] CHECK: ^close: 0$
 * [clean] CHECK: ^asyncleak: no leaks: 1 loop\(s\), 1 handle\(s\) created, all closed; 2 request\(s\), all completed$
 * [clean] CHECK-NOT: ERROR
 * [clean] EXIT: 0
 *
 * [force]: with --force-close, the loop closed by asyncleak_loop_close
 * (force never acts in the program's own uv_loop_close): the queued job
 * is cancelled (its callback runs with UV_ECANCELED), the running one is
 * waited for, and the loop closes. Both were left pending by the program:
 * both count as cancelled by force, whether or not the thread pool had
 * picked one up, so that the verdict is the same on every run.
 * [force] CLI: --force-close
 * [force] RUN: force
 * [force] CHECK: ^after work: -125$
 * [force] CHECK: ^after work: 0$
 * [force] CHECK: ^close: 0$
 * [force] CHECK: ==[0-9]+==ERROR: asyncleak: 2 requests left pending, cancelled by force at shutdown$
 * [force] CHECK-COUNT-2: ^1 request of type uv_work_t cancelled by force at shutdown, created at:$
 * [force] CHECK: ^  loop 1, created in main .*uv-req-work.c:%line(loop), by asyncleak_loop_close:$
 * [force] CHECK: ^    2 requests cancelled by force$
 * [force] CHECK: ^SUMMARY: asyncleak: 0 handles left open; 2 requests cancelled by force$
 * [force] CHECK: ^asyncleak: 2 request\(s\) cancelled by force at shutdown in 1 process\(es\)$
 * [force] CHECK-NOT: pending at exit
 * [force] EXIT: 23
 *
 * [ownclose]: --force-close, and the program's own uv_loop_close: force
 * leaves the loop to the program, as in [default].
 * [ownclose] CLI: --force-close
 * [ownclose] CHECK: ^close: -16$
 * [ownclose] CHECK: ==[0-9]+==ERROR: asyncleak: 2 requests pending at exit$
 * [ownclose] CHECK-NOT: cancelled
 * [ownclose] EXIT: 23
 *
 * [protect]: as [force], both jobs protected with
 * asyncleak_shutdown_waits_for: neither is cancelled, both are waited
 * for, and nothing is reported.
 * [protect] CLI: --force-close
 * [protect] RUN: protect
 * [protect] CHECK: ^after work: 0$
 * [protect] CHECK: ^after work: 0$
 * [protect] CHECK: ^close: 0$
 * [protect] CHECK-NOT: ERROR
 * [protect] CHECK-NOT: cancelled
 * [protect] EXIT: 0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "asyncleak.h"

static uv_work_t slow, queued;
static uv_timer_t stopper;

static void work(uv_work_t *req) {
  if (req == &slow)
    usleep(300 * 1000);
}

static void after_work(uv_work_t *req, int status) {
  (void)req;
  printf("after work: %d\n", status);
  fflush(stdout);
}

static void stop(uv_timer_t *t) {
  uv_stop(t->loop);
}

static void queue_second(uv_loop_t *loop) {
  uv_queue_work(loop, &queued, work, after_work); /* @queued */
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "";
  static uv_loop_t loop;

  setenv("UV_THREADPOOL_SIZE", "1", 1);
  uv_loop_init(&loop); /* @loop */
  uv_queue_work(&loop, &slow, work, after_work); /* @slow */
  queue_second(&loop); /* @call */
  if (!strcmp(mode, "protect")) {
    asyncleak_shutdown_waits_for(&loop, &slow);
    asyncleak_shutdown_waits_for(&loop, &queued);
  }
  uv_timer_init(&loop, &stopper);
  if (!strcmp(mode, "clean")) {
    uv_close((uv_handle_t *)&stopper, NULL);
  } else {
    /* Stopped while the slow job runs and the other waits behind it. */
    uv_timer_start(&stopper, stop, 50, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&stopper, NULL);
    uv_run(&loop, UV_RUN_NOWAIT);
  }
  if (!strcmp(mode, "clean"))
    uv_run(&loop, UV_RUN_DEFAULT);
  if (!strcmp(mode, "force") || !strcmp(mode, "protect"))
    printf("close: %d\n", asyncleak_loop_close(&loop));
  else
    printf("close: %d\n", uv_loop_close(&loop));
  fflush(stdout);
  return 0;
}
