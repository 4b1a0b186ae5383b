/* [force]: force mode, as the program closes its loop with four handles
 * open: one a finalizer closes (a timer), one the program's own callback
 * closes while the loop drains (an idle, closed from the completion of
 * work the finalizer queued), one protected with
 * asyncleak_shutdown_waits_for that the program's timer closes 50 ms
 * later, and one nobody closes (a check handle), which force closes. Each
 * gets its verdict; only the forced one is reported, as a leak, and the
 * loop closes (0). [clean]: the program closes everything itself: no
 * report. [atexit]: the loop is never closed; the same happens at exit,
 * and asyncleak does not close the loop. [noforce]: without --force-close
 * the check handle is left open and the close fails with UV_EBUSY.
 *
 * [force] CLI: --force-close
 * [force] CHECK: ^finalizer: closing the timer$
 * [force] CHECK: ^work done: closing the idle$
 * [force] CHECK: ^protected timer fired: closing it$
 * [force] CHECK: ^close: 0$
 * [force] CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open, closed by force at shutdown$
 * [force] CHECK: ^1 handle of type uv_check_t closed by force at shutdown, created at:$
 * [force] CHECK: ^    #0 0x[0-9a-f]+ in main .*uv-finally-force.c:%line(forced)$
 * [force] CHECK: ^  0x[0-9a-f]+ on loop 1, thread [0-9]+ \(main\)$
 * [force] CHECK: ^Shutdowns:$
 * [force] CHECK: ^  loop 1, created in main .*uv-finally-force.c:%line(loop), as the program closed it:$
 * [force] CHECK: ^    finalizers run: queue_work, close_timer$
 * [force] CHECK: ^    4 handles open when it began: 1 closed by a finalizer, 2 closed by the program, 1 closed by force, 0 still open$
 * [force] CHECK: ^SUMMARY: asyncleak: 0 handles left open; 1 closed by force$
 * [force] CHECK: ^asyncleak: 1 handle\(s\) closed by force at shutdown in 1 process\(es\)$
 * [force] CHECK-NOT: left open at exit
 * [force] CHECK-NOT: uv_timer_t closed by force
 * [force] CHECK-NOT: uv_idle_t closed by force
 * [force] CHECK-NOT: [1-9][0-9]* still open$
 * [force] CHECK-NOT: no leaks
 * [force] EXIT: 23
 *
 * [clean] CLI: --force-close
 * [clean] RUN: clean
 * [clean] CHECK: ^close: 0$
 * [clean] CHECK-NOT: ERROR
 * [clean] CHECK-NOT: closed by force
 * [clean] CHECK-NOT: ^finalizer: closing
 * [clean] CHECK-NOT: ^work done
 * [clean] CHECK: ^asyncleak: no leaks: 1 loop\(s\), 4 handle\(s\) created, all closed$
 * [clean] EXIT: 0
 *
 * [atexit] CLI: --force-close
 * [atexit] RUN: atexit
 * [atexit] CHECK: ^finalizer: closing the timer$
 * [atexit] CHECK: ^work done: closing the idle$
 * [atexit] CHECK: ^protected timer fired: closing it$
 * [atexit] CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open, closed by force at shutdown$
 * [atexit] CHECK: ^1 handle of type uv_check_t closed by force at shutdown, created at:$
 * [atexit] CHECK: ^    #0 0x[0-9a-f]+ in main .*uv-finally-force.c:%line(forced)$
 * [atexit] CHECK: ^  loop 1, created in main .*uv-finally-force.c:%line(loop), at exit:$
 * [atexit] CHECK: ^    finalizers run: queue_work, close_timer$
 * [atexit] CHECK: ^    4 handles open when it began: 1 closed by a finalizer, 2 closed by the program, 1 closed by force, 0 still open$
 * [atexit] CHECK: ^  loop 1 .* created in main .*uv-finally-force.c:%line(loop) by thread [0-9]+ \(main\): never closed$
 * [atexit] CHECK: ^SUMMARY: asyncleak: 0 handles left open; 1 of 1 loop not closed; 1 closed by force$
 * [atexit] CHECK: ^asyncleak: 1 handle\(s\) closed by force at shutdown in 1 process\(es\)$
 * [atexit] CHECK-NOT: left open at exit
 * [atexit] CHECK-NOT: ^close:
 * [atexit] EXIT: 23
 *
 * [noforce] CHECK: ^finalizer: closing the timer$
 * [noforce] CHECK: ^work done: closing the idle$
 * [noforce] CHECK: ^protected timer fired: closing it$
 * [noforce] CHECK: ^close: -16$
 * [noforce] CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open at exit$
 * [noforce] CHECK: ^1 handle of type uv_check_t, created at:$
 * [noforce] CHECK: ^    #0 0x[0-9a-f]+ in main .*uv-finally-force.c:%line(forced)$
 * [noforce] CHECK: ^    finalizers run: queue_work, close_timer$
 * [noforce] CHECK: ^    4 handles open when it began: 1 closed by a finalizer, 2 closed by the program, 0 closed by force, 1 still open$
 * [noforce] CHECK: ^asyncleak: 1 handle\(s\) left open in 1 process\(es\)$
 * [noforce] CHECK-NOT: closed by force at shutdown
 * [noforce] EXIT: 23
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "asyncleak.h"

static uv_loop_t loop;
static uv_timer_t timer, protected_timer;
static uv_idle_t idle;
static uv_check_t check;
static uv_work_t work;

static void on_idle(uv_idle_t *h) {
  (void)h;
}

static void on_timer(uv_timer_t *t) {
  (void)t;
}

static void on_check(uv_check_t *h) {
  (void)h;
}

static void close_timer(void *l, void *arg) {
  (void)l;
  (void)arg;
  if (uv_is_closing((uv_handle_t *)&timer))
    return;
  fprintf(stderr, "finalizer: closing the timer\n");
  uv_close((uv_handle_t *)&timer, NULL);
}

static void work_cb(uv_work_t *req) {
  (void)req;
}

static void after_work(uv_work_t *req, int status) {
  (void)req;
  (void)status;
  fprintf(stderr, "work done: closing the idle\n");
  uv_close((uv_handle_t *)&idle, NULL);
}

/* The idle is closed by the program's own callback, not by the finalizer. */
static void queue_work(void *l, void *arg) {
  (void)arg;
  if (uv_is_closing((uv_handle_t *)&idle))
    return;
  uv_queue_work(l, &work, work_cb, after_work);
}

static void on_protected(uv_timer_t *t) {
  fprintf(stderr, "protected timer fired: closing it\n");
  uv_close((uv_handle_t *)t, NULL);
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "";
  int clean = strcmp(mode, "clean") == 0;
  int rc;

  uv_loop_init(&loop); /* @loop */
  uv_timer_init(&loop, &timer);
  uv_timer_start(&timer, on_timer, 60000, 0);
  uv_idle_init(&loop, &idle);
  uv_idle_start(&idle, on_idle);
  uv_check_init(&loop, &check); /* @forced */
  uv_check_start(&check, on_check);
  uv_timer_init(&loop, &protected_timer);
  uv_timer_start(&protected_timer, on_protected, 50, 0);
  rc = asyncleak_shutdown_waits_for(&loop, &protected_timer);
  if (rc != 0)
    fprintf(stderr, "shutdown_waits_for: %d\n", rc);
  asyncleak_run_finally(&loop, close_timer, NULL);
  asyncleak_run_finally(&loop, queue_work, NULL);
  if (clean) {
    uv_close((uv_handle_t *)&timer, NULL);
    uv_close((uv_handle_t *)&idle, NULL);
    uv_close((uv_handle_t *)&check, NULL);
    uv_close((uv_handle_t *)&protected_timer, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
  }
  if (strcmp(mode, "atexit") == 0)
    return 0; /* the loop is never closed, and asyncleak does not close it */
  fprintf(stderr, "close: %d\n", uv_loop_close(&loop));
  return 0;
}
