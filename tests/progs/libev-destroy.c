/* ev_loop_destroy with the program's watchers still started: libev stops
 * none of them, and they are reported as started when their loop was
 * destroyed; an ev_cleanup, which is there to be called back then, is
 * not. libev's own watchers of the loop (the signal pipe an ev_async
 * starts) are not either. RUN: MODE, destroy (the default), clean, which
 * stops them first, or default, which does it to the default loop and
 * then makes it again, cleanly.
 *
 * CHECK: ^cleanup called$
 * CHECK: ==[0-9]+==ERROR: asyncleak: 2 handles left open at exit$
 * CHECK: ^1 handle of type ev_timer \(started when its loop was destroyed\), created at:$
 * CHECK: #0 0x[0-9a-f]+ in start_ticker .*libev-destroy.c:%line(timer)$
 * CHECK: on loop 1, thread [0-9]+ \(main\), started when its loop was destroyed$
 * CHECK: ^1 handle of type ev_io \(started when its loop was destroyed\), created at:$
 * CHECK: #0 0x[0-9a-f]+ in main .*libev-destroy.c:%line(io)$
 * CHECK: ^Loops \(libev\): 1 seen, 1 closed, 1 freed with what was on it:$
 * CHECK: ^  loop 1 \(libev 0x[0-9a-f]+\) created in main .*libev-destroy.c:%line(new) by thread [0-9]+ \(main\): freed with what is listed above still on it$
 * CHECK: ^SUMMARY: asyncleak: 2 handles left open \(1 ev_io \(started when its loop was destroyed\), 1 ev_timer \(started when its loop was destroyed\)\) from 2 creation sites
 * CHECK-NOT: ev_cleanup
 * CHECK-NOT: ev_async
 * EXIT: 23
 *
 * [clean] RUN: clean
 * [clean] CHECK: ^cleanup called$
 * [clean] CHECK-NOT: ERROR
 * [clean] CHECK: ^asyncleak: no leaks: 1 loop\(s\), 4 handle\(s\) created, all closed$
 * [clean] EXIT: 0
 *
 * [default] RUN: default
 * [default] CHECK: ==[0-9]+==ERROR: asyncleak: 2 handles left open at exit$
 * [default] CHECK: ^1 handle of type ev_timer \(started when its loop was destroyed\), created at:$
 * [default] CHECK: ^1 handle of type ev_io \(started when its loop was destroyed\), created at:$
 * [default] CHECK: ^Loops \(libev\): 2 seen, 1 closed, 1 not closed, 1 freed with what was on it:$
 * [default] CHECK: ^  loop 1 \(libev 0x[0-9a-f]+, default loop\) created in main .*libev-destroy.c:%line(default) by thread [0-9]+ \(main\): freed with what is listed above still on it$
 * [default] CHECK: ^  loop 2 \(libev 0x[0-9a-f]+, default loop\) created in main .*libev-destroy.c:%line(again) by thread [0-9]+ \(main\): never closed$
 * [default] CHECK-COUNT-2: handle of type
 * [default] EXIT: 23
 */
#include <ev.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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

static void on_async(struct ev_loop *loop, ev_async *w, int revents) {
  (void)loop;
  (void)w;
  (void)revents;
}

static void on_cleanup(struct ev_loop *loop, ev_cleanup *w, int revents) {
  (void)loop;
  (void)w;
  (void)revents;
  printf("cleanup called\n");
  fflush(stdout);
}

static void start_ticker(struct ev_loop *loop, ev_timer *t) {
  ev_timer_init(t, on_tick, 3600., 3600.);
  ev_timer_start(loop, t); /* @timer */
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "destroy";
  int on_default = strcmp(mode, "default") == 0;
  struct ev_loop *loop;
  static ev_timer ticker, again;
  static ev_io readable;
  static ev_async wake;
  static ev_cleanup bye;
  int fds[2];

  if (on_default)
    loop = ev_default_loop(0); /* @default */
  else
    loop = ev_loop_new(EVFLAG_AUTO); /* @new */
  if (loop == NULL || pipe(fds) != 0)
    return 1;
  start_ticker(loop, &ticker);
  ev_io_init(&readable, on_read, fds[0], EV_READ);
  ev_io_start(loop, &readable); /* @io */
  ev_async_init(&wake, on_async);
  ev_async_start(loop, &wake);
  ev_cleanup_init(&bye, on_cleanup);
  ev_cleanup_start(loop, &bye);
  ev_run(loop, EVRUN_NOWAIT);
  ev_async_stop(loop, &wake);
  if (strcmp(mode, "clean") == 0) {
    ev_timer_stop(loop, &ticker);
    ev_io_stop(loop, &readable);
  }
  ev_loop_destroy(loop);
  if (on_default) {
    loop = ev_default_loop(0); /* @again */
    ev_timer_init(&again, on_tick, 3600., 0.);
    ev_timer_start(loop, &again);
    ev_run(loop, EVRUN_NOWAIT);
    ev_timer_stop(loop, &again);
  }
  return 0;
}
