/* libev watchers left started at exit, each started by a helper of its
 * own: a repeating timer and an io watcher on a pipe, on the default loop.
 * A watcher's creation site is where it was started (ev_TYPE_init is a
 * macro). The timer stops the loop after two turns. RUN: MODE, leak (the
 * default) or clean, which stops both before exit.
 *
 * CHECK: ==[0-9]+==ERROR: asyncleak: 2 handles left open at exit$
 * CHECK: ^1 handle of type ev_timer, created at:$
 * CHECK: #0 0x[0-9a-f]+ in start_ticker .*libev-leak.c:%line(timer)$
 * CHECK: #1 0x[0-9a-f]+ in main .*libev-leak.c:%line(call-timer)$
 * CHECK: on loop 1, thread [0-9]+ \(main\), started$
 * CHECK: ^1 handle of type ev_io, created at:$
 * CHECK: #0 0x[0-9a-f]+ in watch_pipe .*libev-leak.c:%line(io)$
 * CHECK: on loop 1, thread [0-9]+ \(main\), started$
 * CHECK: ^Loops \(libev\): 1 seen, 0 closed, 1 not closed:$
 * CHECK: ^  loop 1 \(libev 0x[0-9a-f]+, default loop\) created in main .*libev-leak.c:%line(loop) by thread [0-9]+ \(main\): never closed$
 * CHECK: ^SUMMARY: asyncleak: 2 handles left open \(1 ev_io, 1 ev_timer\) from 2 creation sites
 * CHECK-NOT: ev_signal
 * CHECK-NOT: unreferenced
 * EXIT: 23
 *
 * [clean] RUN: clean
 * [clean] CHECK: ^ran 2 times$
 * [clean] CHECK-NOT: ERROR
 * The default loop is never destroyed, which is not a leak.
 * [clean] CHECK: ^asyncleak: no leaks: 1 loop\(s\), 2 handle\(s\) created, all closed; 1 loop\(s\) never closed$
 * [clean] EXIT: 0
 */
#include <ev.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int runs;

static void on_tick(struct ev_loop *loop, ev_timer *w, int revents) {
  (void)w;
  (void)revents;
  if (++runs == 2)
    ev_break(loop, EVBREAK_ALL);
}

static void on_read(struct ev_loop *loop, ev_io *w, int revents) {
  (void)loop;
  (void)w;
  (void)revents;
}

static void start_ticker(struct ev_loop *loop, ev_timer *t) {
  ev_timer_init(t, on_tick, 0.001, 0.001);
  ev_timer_start(loop, t); /* @timer */
}

static void watch_pipe(struct ev_loop *loop, ev_io *w, int fd) {
  ev_io_init(w, on_read, fd, EV_READ);
  ev_io_start(loop, w); /* @io */
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "leak";
  struct ev_loop *loop = EV_DEFAULT; /* @loop */
  static ev_timer ticker;
  static ev_io readable;
  int fds[2];

  if (loop == NULL || pipe(fds) != 0)
    return 1;
  start_ticker(loop, &ticker); /* @call-timer */
  watch_pipe(EV_DEFAULT, &readable, fds[0]);
  ev_run(EV_DEFAULT, 0);
  printf("ran %d times\n", runs);
  fflush(stdout);
  if (strcmp(mode, "clean") == 0) {
    ev_timer_stop(loop, &ticker);
    ev_io_stop(EV_DEFAULT, &readable);
  }
  return 0;
}
