/* Force mode acts only where the program can no longer close what it
 * left: in asyncleak_loop_close and on a graceful signal, never in the
 * program's own uv_loop_close (it may close its handles and close again)
 * nor at exit.
 *
 * [call]: the program closes its loop with asyncleak_loop_close, with four
 * handles open: one a finalizer closes (a timer), one the program's own
 * callback closes while the loop drains (an idle, closed from the
 * completion of work the finalizer queued), one protected with
 * asyncleak_shutdown_waits_for that the program's timer closes 50 ms
 * later, and one nobody closes (a check handle), which force closes. Each
 * gets its verdict; only the forced one is reported, as a leak, and the
 * loop closes (0). [clean]: the program closes everything itself: no
 * report. [force]: the program's own uv_loop_close: the finalizers run,
 * force does not act, the close fails with UV_EBUSY and the check handle
 * is reported left open, as without force. [atexit]: the loop is never
 * closed; at exit the finalizers run, force does not act. [noforce]:
 * without --force-close, as [force].
 *
 * [call] CLI: --force-close
 * [call] RUN: call
 * [call] CHECK: ^finalizer: closing the timer$
 * [call] CHECK: ^work done: closing the idle$
 * [call] CHECK: ^protected timer fired: closing it$
 * [call] CHECK: ^close: 0$
 * [call] CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open, closed by force at shutdown$
 * [call] CHECK: ^1 handle of type uv_check_t closed by force at shutdown, created at:$
 * [call] CHECK: ^    #0 0x[0-9a-f]+ in main .*uv-finally-force.c:%line(forced)$
 * [call] CHECK: ^  0x[0-9a-f]+ on loop 1, thread [0-9]+ \(main\)$
 * [call] CHECK: ^Shutdowns:$
 * [call] CHECK: ^  loop 1, created in main .*uv-finally-force.c:%line(loop), by asyncleak_loop_close:$
 * [call] CHECK: ^    finalizers run: queue_work, close_timer$
 * [call] CHECK: ^    4 handles open when it began: 1 closed by a finalizer, 2 closed by the program, 1 closed by force, 0 still open$
 * [call] CHECK: ^SUMMARY: asyncleak: 0 handles left open; 1 closed by force$
 * [call] CHECK: ^asyncleak: 1 handle\(s\) closed by force at shutdown in 1 process\(es\)$
 * [call] CHECK-NOT: left open at exit
 * [call] CHECK-NOT: uv_timer_t closed by force
 * [call] CHECK-NOT: uv_idle_t closed by force
 * [call] CHECK-NOT: [1-9][0-9]* still open$
 * [call] CHECK-NOT: Force mode left these
 * [call] CHECK-NOT: no leaks
 * [call] EXIT: 23
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
 * [force] CLI: --force-close
 * [force] CHECK: ^finalizer: closing the timer$
 * [force] CHECK: ^work done: closing the idle$
 * [force] CHECK: ^protected timer fired: closing it$
 * [force] CHECK: ^close: -16$
 * [force] CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open at exit$
 * [force] CHECK: ^1 handle of type uv_check_t, created at:$
 * [force] CHECK: ^    #0 0x[0-9a-f]+ in main .*uv-finally-force.c:%line(forced)$
 * [force] CHECK: ^Force mode left these to the program: it acts on a graceful signal and in asyncleak_loop_close
 * [force] CHECK: ^  loop 1, created in main .*uv-finally-force.c:%line(loop), as the program closed it:$
 * [force] CHECK: ^    4 handles open when it began: 1 closed by a finalizer, 2 closed by the program, 0 closed by force, 1 still open$
 * [force] CHECK: ^asyncleak: 1 handle\(s\) left open in 1 process\(es\)$
 * [force] CHECK-NOT: closed by force at shutdown
 * [force] EXIT: 23
 *
 * [atexit] CLI: --force-close
 * [atexit] RUN: atexit
 * [atexit] CHECK: ^finalizer: closing the timer$
 * [atexit] CHECK: ^work done: closing the idle$
 * [atexit] CHECK: ^protected timer fired: closing it$
 * [atexit] CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open at exit$
 * [atexit] CHECK: ^1 handle of type uv_check_t, created at:$
 * [atexit] CHECK: ^    #0 0x[0-9a-f]+ in main .*uv-finally-force.c:%line(forced)$
 * [atexit] CHECK: ^  0x[0-9a-f]+ on loop 1, thread [0-9]+ \(main\), active, referenced$
 * [atexit] CHECK: ^Force mode left these to the program
 * [atexit] CHECK: ^  loop 1, created in main .*uv-finally-force.c:%line(loop), at exit:$
 * [atexit] CHECK: ^    finalizers run: queue_work, close_timer$
 * [atexit] CHECK: ^    4 handles open when it began: 1 closed by a finalizer, 2 closed by the program, 0 closed by force, 1 still open$
 * [atexit] CHECK: ^  loop 1 .* created in main .*uv-finally-force.c:%line(loop) by thread [0-9]+ \(main\): never closed$
 * [atexit] CHECK: ^SUMMARY: asyncleak: 1 handle left open \(1 uv_check_t\) from 1 creation site; 1 of 1 loop not closed$
 * [atexit] CHECK-NOT: closed by force at shutdown
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
 * [noforce] CHECK-NOT: Force mode
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
  if (strcmp(mode, "call") == 0)
    rc = asyncleak_loop_close(&loop);
  else
    rc = uv_loop_close(&loop);
  fprintf(stderr, "close: %d\n", rc);
  return 0;
}
