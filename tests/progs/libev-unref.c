/* A watcher made unreferenced with ev_unref right after its start (the
 * idiom libev documents for watchers that must not keep the loop alive)
 * is still the program's, started, and left so at exit: a leak, which the
 * report says is unreferenced. libev's own ev_unref calls (after starting
 * its signal pipe, in ev_cleanup_start) mark nothing, nor does an ev_unref
 * that does not come right after a start. RUN: MODE, leak (the default),
 * or clean, which does ev_ref and stops it, as the idiom goes.
 *
 * CHECK: ^ran$
 * CHECK: ==[0-9]+==ERROR: asyncleak: 2 handles left open at exit$
 * CHECK: ^1 handle of type ev_prepare, created at:$
 * CHECK: #0 0x[0-9a-f]+ in main .*libev-unref.c:%line(prepare)$
 * CHECK: on loop 1, thread [0-9]+ \(main\), started, unreferenced$
 * CHECK: ^1 handle of type ev_timer, created at:$
 * CHECK: #0 0x[0-9a-f]+ in main .*libev-unref.c:%line(timer)$
 * CHECK: on loop 1, thread [0-9]+ \(main\), started$
 * CHECK-COUNT-1: unreferenced
 * EXIT: 23
 *
 * [clean] RUN: clean
 * [clean] CHECK: ^ran$
 * [clean] CHECK-NOT: ERROR
 * [clean] CHECK: ^asyncleak: no leaks: 1 loop\(s\), 3 handle\(s\) created, all closed$
 * [clean] EXIT: 0
 */
#include <ev.h>
#include <stdio.h>
#include <string.h>

static void on_prepare(struct ev_loop *loop, ev_prepare *w, int revents) {
  (void)loop;
  (void)w;
  (void)revents;
}

static void on_async(struct ev_loop *loop, ev_async *w, int revents) {
  (void)loop;
  (void)w;
  (void)revents;
}

static void on_tick(struct ev_loop *loop, ev_timer *w, int revents) {
  (void)w;
  (void)revents;
  ev_break(loop, EVBREAK_ALL);
}

int main(int argc, char **argv) {
  int clean = argc > 1 && strcmp(argv[1], "clean") == 0;
  struct ev_loop *loop = ev_loop_new(0);
  static ev_prepare idle_hook;
  static ev_async wake;
  static ev_timer tick;

  if (loop == NULL)
    return 1;
  ev_prepare_init(&idle_hook, on_prepare);
  ev_prepare_start(loop, &idle_hook); /* @prepare */
  ev_unref(loop);
  /* Its first start makes libev start its signal pipe, and unref it. */
  ev_async_init(&wake, on_async);
  ev_async_start(loop, &wake);
  ev_timer_init(&tick, on_tick, 3600., 0.);
  ev_timer_start(loop, &tick); /* @timer */
  /* Keeps the loop alive while it runs once: taken back below. */
  ev_ref(loop);
  ev_run(loop, EVRUN_NOWAIT);
  ev_unref(loop);
  ev_async_stop(loop, &wake);
  printf("ran\n");
  fflush(stdout);
  if (clean) {
    ev_ref(loop);
    ev_prepare_stop(loop, &idle_hook);
    ev_timer_stop(loop, &tick);
    ev_loop_destroy(loop);
  }
  return 0;
}
