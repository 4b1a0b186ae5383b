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
 */
#include <ev.h>
#include <stdio.h>
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

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "";
  struct ev_loop *loop = ev_loop_new(0);
  double r0 = real_s(), took;

  setvbuf(stdout, NULL, _IOLBF, 0);
  if (loop == NULL)
    return 2;
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
