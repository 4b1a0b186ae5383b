/* Force mode on a libev loop: a repeating timer and an io watcher left
 * started, and an ev_once that can never fire, then asyncleak_loop_close.
 * Without --force-close the loop is destroyed with the watchers started
 * on it; with it, they are stopped by force first, as the program's
 * ev_timer_stop and ev_io_stop would, and reported as closed by force
 * under the same fingerprint. libev cannot take an ev_once back: it stays
 * pending either way. RUN: MODE, leak (the default) or clean.
 *
 * CHECK: ==[0-9]+==ERROR: asyncleak: 2 handles left open at exit$
 * CHECK: ^1 handle of type ev_timer \(started when its loop was destroyed\), created at:$
 * CHECK: ^1 handle of type ev_io \(started when its loop was destroyed\), created at:$
 * CHECK: ^1 request of type ev_once pending, created at:$
 * CHECK-NOT: closed by force
 * EXIT: 23
 *
 * [force] CLI: --force-close
 * [force] CHECK: ==[0-9]+==ERROR: asyncleak: 1 request pending at exit$
 * [force] CHECK: ==[0-9]+==ERROR: asyncleak: 2 handles left open, closed by force at shutdown$
 * [force] CHECK: ^1 request of type ev_once pending, created at:$
 * [force] CHECK: ^1 handle of type ev_timer closed by force at shutdown, created at:$
 * [force] CHECK: #0 0x[0-9a-f]+ in start_ticker .*libev-force.c:%line(timer)$
 * [force] CHECK: ^1 handle of type ev_io closed by force at shutdown, created at:$
 * [force] CHECK: #0 0x[0-9a-f]+ in main .*libev-force.c:%line(io)$
 * [force] CHECK: 2 handles open when it began: 0 closed by a finalizer, 0 closed by the program, 2 closed by force, 0 still open$
 * [force] CHECK-NOT: started when its loop was destroyed
 * [force] EXIT: 23
 *
 * [clean] CLI: --force-close
 * [clean] RUN: clean
 * [clean] CHECK-NOT: ERROR
 * [clean] CHECK-NOT: closed by force
 * [clean] CHECK: ^asyncleak: no leaks: 1 loop\(s\), 2 handle\(s\) created, all closed; 1 request\(s\), all completed$
 * [clean] EXIT: 0
 */
#include <ev.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "asyncleak.h"

static void on_tick(struct ev_loop *loop, ev_timer *w, int revents) {
  (void)loop;
  (void)w;
  (void)revents;
}

static void on_read(struct ev_loop *loop, ev_io *w, int revents) {
  (void)loop;
  (void)w;
  (void)revents;
}

static void on_once(int revents, void *arg) {
  (void)revents;
  (void)arg;
}

static void start_ticker(struct ev_loop *loop, ev_timer *t) {
  ev_timer_init(t, on_tick, 3600., 3600.);
  ev_timer_start(loop, t); /* @timer */
}

int main(int argc, char **argv) {
  int clean = argc > 1 && strcmp(argv[1], "clean") == 0;
  struct ev_loop *loop = ev_loop_new(0);
  static ev_timer ticker;
  static ev_io readable;
  int fds[2];

  if (loop == NULL || pipe(fds) != 0)
    return 1;
  start_ticker(loop, &ticker);
  ev_io_init(&readable, on_read, fds[0], EV_READ);
  ev_io_start(loop, &readable); /* @io */
  ev_once(loop, -1, 0, clean ? 0. : -1., on_once, NULL);
  ev_run(loop, EVRUN_NOWAIT);
  if (clean) {
    ev_run(loop, EVRUN_ONCE);
    ev_timer_stop(loop, &ticker);
    ev_io_stop(loop, &readable);
  }
  return asyncleak_loop_close(loop) == 0 ? 0 : 1;
}
