/* Virtual time on a libev loop: a chain of timers (5, 10 and 15 minutes,
 * each started from the callback of the one before) and a timer of an
 * hour, started at once. Each callback prints when it fired by the
 * monotonic clock read in it, the clock libev's timers follow (ev_now is
 * libev's wall-clock time, which virtual time leaves alone, as it does
 * CLOCK_REALTIME); the run takes well under a second of real time. Default: the API; [cli]: --virtual-time.
 * [off]: the negative control, in real time with a minute being 1 ms: the
 * same order, and at least 50 ms (the library's coarse clock may fire the
 * last timer a tick early).
 *
 * CHECK: ^virtual: 0$
 * CHECK: ^timer a at 5 min$
 * CHECK: ^timer b at 15 min$
 * CHECK: ^timer c at 30 min$
 * CHECK: ^timer hour at 60 min$
 * CHECK: ^real time: under 5 s$
 * CHECK-NOT: ERROR
 * EXIT: 0
 *
 * [cli] RUN: cli
 * [cli] CLI: --virtual-time
 * [cli] CHECK: ^timer a at 5 min$
 * [cli] CHECK: ^timer hour at 60 min$
 * [cli] CHECK: ^real time: under 5 s$
 * [cli] CHECK-NOT: ERROR
 * [cli] EXIT: 0
 *
 * [off] RUN: off
 * [off] CHECK: ^timer a at
 * [off] CHECK: ^timer b at
 * [off] CHECK: ^timer c at
 * [off] CHECK: ^timer hour at
 * [off] CHECK: ^real time: at least 50 ms$
 * [off] CHECK-NOT: ERROR
 * [off] EXIT: 0
 *
 * [io]: virtual time on a loop with an I/O watcher and no timer, which a
 * thread wakes after 300 ms: libev's waits, bounded at about a minute
 * even so, are not taken for a timer's, and the loop waits in real time
 * instead of spinning through them.
 * [io] RUN: io
 * [io] ENV: ASYNCLEAK_OPTIONS=verbosity=1
 * [io] CHECK: ^virtual: 0$
 * [io] CHECK: ^readable after 300 ms of real time: yes$
 * [io] CHECK: ^Virtual time: 1 loop; 0 waits for a timer skipped
 * [io] CHECK-NOT: ERROR
 * [io] EXIT: 0
 */
#include <ev.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
#include <string.h>
#include <time.h>

#include "asyncleak.h"

static ev_timer chain, hour;
static double minute = 60.0, start;
static int step;

static double real_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double mono_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void fired(struct ev_loop *loop, const char *name) {
  (void)loop;
  printf("timer %s at %.0f min\n", name, (mono_s() - start) / minute);
}

static void on_chain(struct ev_loop *loop, ev_timer *w, int revents) {
  static const char *const names[] = {"a", "b", "c"};
  (void)revents;
  fired(loop, names[step]);
  if (++step < 3) {
    ev_timer_set(w, 5 * (step + 1) * minute, 0.);
    ev_timer_start(loop, w);
  }
}

static void on_hour(struct ev_loop *loop, ev_timer *w, int revents) {
  (void)w;
  (void)revents;
  fired(loop, "hour");
}

/* ------------------------------------------------------------- [io] */

static int fds[2];
static double io_start;

static void *writer(void *arg) {
  (void)arg;
  usleep(300 * 1000);
  (void)!write(fds[1], "x", 1);
  return NULL;
}

static void on_readable(struct ev_loop *loop, ev_io *w, int revents) {
  (void)revents;
  printf("readable after 300 ms of real time: %s\n",
         real_s() - io_start >= 0.29 ? "yes" : "no");
  ev_io_stop(loop, w);
}

static int io(struct ev_loop *loop) {
  ev_io w;
  pthread_t th;

  if (pipe(fds) != 0)
    return 2;
  printf("virtual: %d\n", asyncleak_virtual_time(loop, 1));
  io_start = real_s();
  ev_io_init(&w, on_readable, fds[0], EV_READ);
  ev_io_start(loop, &w);
  if (pthread_create(&th, NULL, writer, NULL) != 0)
    return 2;
  ev_run(loop, 0);
  pthread_join(th, NULL);
  ev_loop_destroy(loop);
  return 0;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "";
  struct ev_loop *loop = ev_loop_new(0);
  double r0 = real_s(), took;

  setvbuf(stdout, NULL, _IOLBF, 0);
  if (loop == NULL)
    return 2;
  if (strcmp(mode, "io") == 0)
    return io(loop);
  if (strcmp(mode, "off") == 0)
    minute = 0.001;
  else if (strcmp(mode, "cli") != 0)
    printf("virtual: %d\n", asyncleak_virtual_time(loop, 1));
  start = mono_s();
  ev_timer_init(&chain, on_chain, 5 * minute, 0.);
  ev_timer_start(loop, &chain);
  ev_timer_init(&hour, on_hour, 60 * minute, 0.);
  ev_timer_start(loop, &hour);
  ev_run(loop, 0);
  ev_loop_destroy(loop);
  took = real_s() - r0;
  if (strcmp(mode, "off") == 0)
    printf("real time: %s\n", took >= 0.05 ? "at least 50 ms" : "too short");
  else
    printf("real time: %s\n", took < 5 ? "under 5 s" : "5 s or more");
  return 0;
}
