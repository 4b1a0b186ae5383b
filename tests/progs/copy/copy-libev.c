/* A program using libev, linked three ways (Makefile): from libev.a, with
 * its functions exported (-rdynamic) or not, or stripped, each carrying its
 * own copy, whose calls never reach the runtime; or with Debian's
 * libev.so.4, which is no copy. With "leak" it leaves a timer started;
 * with "clean" it stops it and destroys its loop. A run with a copy must
 * not pass either way (tests/cli/copies.sh). */
#include <ev.h>
#include <stdio.h>
#include <string.h>

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents) {
  (void)loop, (void)w, (void)revents;
}

int main(int argc, char **argv) {
  int leak = argc > 1 && !strcmp(argv[1], "leak");
  struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
  ev_timer timer;

  if (loop == NULL)
    return 1;
  ev_timer_init(&timer, on_timer, 60., 0.);
  ev_timer_start(loop, &timer);
  ev_run(loop, EVRUN_NOWAIT);
  if (leak) {
    puts("leaving a timer started");
    return 0;
  }
  ev_timer_stop(loop, &timer);
  ev_loop_destroy(loop);
  puts("stopped everything");
  return 0;
}
