/* Teardown in dependency order on a libev loop: `second` is registered
 * last, so it would run first, but it follows `first`, whose work is a
 * 100 ms one-shot timer the shutdown waits for. ev_loop_destroy's
 * shutdown runs first, lets the timer fire, then runs second. [none]: the
 * negative control without the order: newest first.
 *
 * ENV: ASYNCLEAK_OPTIONS=verbosity=1
 * CHECK: ^order: 0$
 * CHECK: ^first: starting the timer$
 * CHECK: ^first: timer fired$
 * CHECK: ^second: ran$
 * CHECK: ^ev_loop_destroy returned$
 * CHECK: ^    finalizers run: first, second$
 * CHECK: ^    their work took: first [1-9][0-9]+ ms, second [0-9]+ ms$
 * CHECK-NOT: ERROR
 * CHECK: ^asyncleak: no leaks: 1 loop\(s\)
 * EXIT: 0
 *
 * [none] RUN: none
 * [none] ENV: ASYNCLEAK_OPTIONS=verbosity=1
 * [none] CHECK: ^second: ran$
 * [none] CHECK: ^first: starting the timer$
 * [none] CHECK: ^first: timer fired$
 * [none] CHECK: ^    finalizers run: second, first$
 * [none] CHECK-NOT: ERROR
 * [none] EXIT: 0
 */
#include <ev.h>
#include <stdio.h>
#include <string.h>

#include "asyncleak.h"

static ev_timer work;

static void on_work(struct ev_loop *loop, ev_timer *w, int revents) {
  (void)loop;
  (void)w;
  (void)revents;
  printf("first: timer fired\n");
}

static void first(void *loop, void *arg) {
  (void)arg;
  printf("first: starting the timer\n");
  ev_timer_init(&work, on_work, 0.1, 0.);
  ev_timer_start(loop, &work);
  asyncleak_shutdown_waits_for(loop, &work);
}

static void second(void *loop, void *arg) {
  (void)loop;
  (void)arg;
  printf("second: ran\n");
}

int main(int argc, char **argv) {
  struct ev_loop *loop = ev_loop_new(0);

  setvbuf(stdout, NULL, _IONBF, 0);
  if (loop == NULL)
    return 1;
  asyncleak_run_finally(loop, first, NULL);
  asyncleak_run_finally(loop, second, NULL);
  if (argc < 2 || strcmp(argv[1], "none") != 0)
    printf("order: %d\n",
           asyncleak_finally_after(loop, second, NULL, first, NULL));
  ev_run(loop, EVRUN_NOWAIT);
  ev_loop_destroy(loop);
  printf("ev_loop_destroy returned\n");
  return 0;
}
