/* asyncleak_shutdown_waits_for: the shutdown's drain waits for a protected
 * handle until the program closes it. [waits]: a timer the program closes
 * from its own callback 100 ms after the loop begins to close; the close
 * waits for it and succeeds, with no finalizer registered at all. The
 * return codes: 0 for a handle and a request of the loop, -EINVAL (-22) for
 * NULL, for memory that is neither, and for a handle of another loop,
 * -ENOENT (-2) for memory that holds no loop. [stuck]: the protected timer
 * is never closed: the drain gives up at drain_timeout_ms, the close fails
 * and the timer is reported as left open, still open after the shutdown.
 *
 * [waits] ENV: ASYNCLEAK_OPTIONS=drain_timeout_ms=1500
 * [waits] CHECK: ^handle: 0$
 * [waits] CHECK: ^request: 0$
 * [waits] CHECK: ^null: -22$
 * [waits] CHECK: ^neither: -22$
 * [waits] CHECK: ^other loop's handle: -22$
 * [waits] CHECK: ^no loop: -2$
 * [waits] CHECK: ^work done$
 * [waits] CHECK: ^timer fired: closing it$
 * [waits] CHECK: ^closed: 0 after (99|[1-9][0-9][0-9]|1[0-4][0-9][0-9]) ms$
 * [waits] CHECK: ^other: 0$
 * [waits] CHECK-NOT: ERROR
 * [waits] CHECK-NOT: Shutdowns
 * [waits] CHECK: ^asyncleak: no leaks: 2 loop\(s\), 2 handle\(s\) created, all closed; 1 request\(s\), all completed$
 * [waits] EXIT: 0
 *
 * [stuck] RUN: stuck
 * [stuck] ENV: ASYNCLEAK_OPTIONS=drain_timeout_ms=200
 * [stuck] CHECK: ^handle: 0$
 * [stuck] CHECK: ^closed: -16 after (199|[2-9][0-9][0-9]) ms$
 * [stuck] CHECK: ERROR: asyncleak: 1 handle left open at exit$
 * [stuck] CHECK: ^1 handle of type uv_timer_t, created at:$
 * [stuck] CHECK: ^    #0 0x[0-9a-f]+ in main .*uv-finally-waits.c:%line(protected)$
 * [stuck] CHECK: inactive, referenced$
 * [stuck] CHECK: ^Shutdowns:$
 * [stuck] CHECK: ^  loop 1, created in main .*uv-finally-waits.c:%line(loop), as the program closed it:$
 * [stuck] CHECK: ^    the loop's work was not done after 200 ms$
 * [stuck] CHECK: ^    1 handle open when it began: 0 closed by a finalizer, 0 closed by the program, 0 closed by force, 1 still open$
 * [stuck] CHECK-COUNT-1: the loop's work was not done
 * [stuck] CHECK-NOT: timer fired
 * [stuck] CHECK-NOT: finalizers run
 * [stuck] EXIT: 23
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "asyncleak.h"

static uv_loop_t loop, other;
static uv_timer_t protected_timer, other_timer;
static uv_work_t work;
static char neither[256];
static char no_loop[sizeof(uv_loop_t)];

static void on_timer(uv_timer_t *t) {
  fprintf(stderr, "timer fired: closing it\n");
  uv_close((uv_handle_t *)t, NULL);
}

static void work_cb(uv_work_t *req) {
  (void)req;
}

static void after_work(uv_work_t *req, int status) {
  (void)req;
  (void)status;
  fprintf(stderr, "work done\n");
}

int main(int argc, char **argv) {
  int stuck = argc > 1 && strcmp(argv[1], "stuck") == 0;
  uint64_t start;
  int rc;

  uv_loop_init(&loop); /* @loop */
  uv_timer_init(&loop, &protected_timer); /* @protected */
  fprintf(stderr, "handle: %d\n",
          asyncleak_shutdown_waits_for(&loop, &protected_timer));
  if (stuck) {
    start = uv_hrtime();
    rc = uv_loop_close(&loop);
    fprintf(stderr, "closed: %d after %d ms\n", rc,
            (int)((uv_hrtime() - start) / 1000000));
    return 0;
  }

  uv_loop_init(&other);
  uv_timer_init(&other, &other_timer);
  uv_queue_work(&loop, &work, work_cb, after_work);
  fprintf(stderr, "request: %d\n",
          asyncleak_shutdown_waits_for(&loop, &work));
  fprintf(stderr, "null: %d\n", asyncleak_shutdown_waits_for(&loop, NULL));
  fprintf(stderr, "neither: %d\n",
          asyncleak_shutdown_waits_for(&loop, neither));
  fprintf(stderr, "other loop's handle: %d\n",
          asyncleak_shutdown_waits_for(&loop, &other_timer));
  fprintf(stderr, "no loop: %d\n",
          asyncleak_shutdown_waits_for(no_loop, &protected_timer));

  /* The loop is not run before it is closed: the timer's 100 ms start
   * with the close. */
  uv_update_time(&loop);
  uv_timer_start(&protected_timer, on_timer, 100, 0);
  start = uv_hrtime();
  rc = uv_loop_close(&loop);
  fprintf(stderr, "closed: %d after %d ms\n", rc,
          (int)((uv_hrtime() - start) / 1000000));

  uv_close((uv_handle_t *)&other_timer, NULL);
  uv_run(&other, UV_RUN_DEFAULT);
  fprintf(stderr, "other: %d\n", uv_loop_close(&other));
  return 0;
}
