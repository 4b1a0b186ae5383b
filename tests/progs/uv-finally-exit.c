/* A program that never closes its loop: its finalizers run at exit, in
 * reverse order of registration, with the loop alive. [return]: it returns
 * from main, and the finalizer that closes the leftover timer leaves
 * nothing to report; [exit]: the same with exit(); [verbose]: the shutdown
 * at exit, said with verbosity=1. [leak]: no finalizer closes the timer,
 * which is reported, and the shutdown at exit says it was still open.
 * [callback]: exit() from inside a timer's callback cannot run them
 * (libuv is not re-entrant), and [thread]: exit() on a thread that does
 * not run the loop must not; the report says why. *
 * [return] CHECK: ^finalizer third$
 * [return] CHECK: ^finalizer second$
 * [return] CHECK: ^finalizer first: closing the timer$
 * [return] CHECK-COUNT-1: ^finalizer third$
 * [return] CHECK-NOT: ERROR
 * [return] CHECK-NOT: Shutdowns
 * [return] CHECK-NOT: handle of type
 * [return] CHECK: ^asyncleak: no leaks: 1 loop\(s\), 1 handle\(s\) created, all closed; 1 loop\(s\) never closed$
 * [return] EXIT: 0
 *
 * [exit] RUN: exit
 * [exit] CHECK: ^finalizer third$
 * [exit] CHECK: ^finalizer second$
 * [exit] CHECK: ^finalizer first: closing the timer$
 * [exit] CHECK-NOT: ERROR
 * [exit] EXIT: 0
 *
 * [verbose] ENV: ASYNCLEAK_OPTIONS=verbosity=1
 * [verbose] CHECK: ^finalizer first: closing the timer$
 * [verbose] CHECK: asyncleak: no handles left open at exit$
 * [verbose] CHECK: ^Shutdowns:$
 * [verbose] CHECK: ^  loop 1, created in main .*uv-finally-exit.c:%line(loop), at exit:$
 * [verbose] CHECK: ^    finalizers run: fin_third, fin_second, fin_first$
 * [verbose] CHECK: ^    1 handle open when it began: 1 closed by a finalizer, 0 closed by the program, 0 closed by force, 0 still open$
 * [verbose] CHECK-NOT: ERROR
 * [verbose] EXIT: 0
 *
 * [leak] RUN: leak
 * [leak] CHECK: ^finalizer third$
 * [leak] CHECK: ^finalizer second$
 * [leak] CHECK: ^finalizer first: leaving the timer$
 * [leak] CHECK: ERROR: asyncleak: 1 handle left open at exit$
 * [leak] CHECK: ^1 handle of type uv_timer_t, created at:$
 * [leak] CHECK: #0 0x[0-9a-f]+ in main .*uv-finally-exit.c:%line(timer)$
 * [leak] CHECK: ^Shutdowns:$
 * [leak] CHECK: ^  loop 1, created in main .*uv-finally-exit.c:%line(loop), at exit:$
 * [leak] CHECK: ^    finalizers run: fin_third, fin_second, fin_first$
 * [leak] CHECK: ^    1 handle open when it began: 0 closed by a finalizer, 0 closed by the program, 0 closed by force, 1 still open$
 * [leak] CHECK: ^SUMMARY: asyncleak: 1 handle left open \(1 uv_timer_t\)
 * [leak] CHECK: ^asyncleak: 1 handle\(s\) left open in 1 process\(es\)$
 * [leak] CHECK-NOT: closing the timer
 * [leak] EXIT: 23
 *
 * [callback] RUN: callback
 * [callback] CHECK: ^exit from the timer's callback$
 * [callback] CHECK: ERROR: asyncleak: 1 handle left open at exit$
 * [callback] CHECK: ^1 handle of type uv_timer_t, created at:$
 * [callback] CHECK: #0 0x[0-9a-f]+ in main .*uv-finally-exit.c:%line(timer)$
 * [callback] CHECK: ^Shutdowns:$
 * [callback] CHECK: ^  loop 1, created in main .*uv-finally-exit.c:%line(loop), at exit:$
 * [callback] CHECK: ^    its finalizers did not run: exit was called from inside the loop's own callback$
 * [callback] CHECK-COUNT-1: its finalizers did not run
 * [callback] CHECK-NOT: ^finalizer
 * [callback] CHECK-NOT: finalizers run:
 * [callback] EXIT: 23
 *
 * [thread] RUN: thread
 * [thread] CHECK: ^exit from another thread$
 * [thread] CHECK: ERROR: asyncleak: 1 handle left open at exit$
 * [thread] CHECK: #0 0x[0-9a-f]+ in main .*uv-finally-exit.c:%line(timer)$
 * [thread] CHECK: ^  loop 1, created in main .*uv-finally-exit.c:%line(loop), at exit:$
 * [thread] CHECK: ^    its finalizers did not run: exit was called on a thread that does not run the loop$
 * [thread] CHECK-NOT: ^finalizer
 * [thread] EXIT: 23
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "asyncleak.h"

static uv_loop_t loop;
static uv_timer_t timer;
static int leak;

static void fin_first(void *l, void *arg) {
  (void)l;
  (void)arg;
  if (leak) {
    fprintf(stderr, "finalizer first: leaving the timer\n");
    return;
  }
  fprintf(stderr, "finalizer first: closing the timer\n");
  uv_close((uv_handle_t *)&timer, NULL);
}

static void fin_second(void *l, void *arg) {
  (void)l;
  (void)arg;
  fprintf(stderr, "finalizer second\n");
}

static void fin_third(void *l, void *arg) {
  (void)l;
  (void)arg;
  fprintf(stderr, "finalizer third\n");
}

static void on_timer(uv_timer_t *t) {
  (void)t;
  fprintf(stderr, "exit from the timer's callback\n");
  exit(0);
}

static void on_tick(uv_timer_t *t) {
  (void)t;
}

static void *exit_elsewhere(void *arg) {
  (void)arg;
  fprintf(stderr, "exit from another thread\n");
  exit(0);
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "";

  leak = strcmp(mode, "leak") == 0;
  uv_loop_init(&loop); /* @loop */
  uv_timer_init(&loop, &timer); /* @timer */
  asyncleak_run_finally(&loop, fin_first, NULL);
  asyncleak_run_finally(&loop, fin_second, NULL);
  asyncleak_run_finally(&loop, fin_third, NULL);
  if (strcmp(mode, "callback") == 0) {
    uv_timer_start(&timer, on_timer, 1, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    fprintf(stderr, "not reached\n");
    return 1;
  }
  if (strcmp(mode, "thread") == 0) {
    pthread_t t;
    uv_timer_start(&timer, on_tick, 10, 10); /* the loop runs till exit */
    if (pthread_create(&t, NULL, exit_elsewhere, NULL) != 0)
      return 2;
    uv_run(&loop, UV_RUN_DEFAULT);
    return 1;
  }
  /* The timer stays open, and the loop is never closed. */
  uv_run(&loop, UV_RUN_NOWAIT);
  if (strcmp(mode, "exit") == 0)
    exit(0);
  return 0;
}
