/* Virtual time on a libevent base: a chain of timers (5, 10 and 15
 * minutes, each added from the callback of the one before) and a timer
 * of an hour, added at once. Each callback prints when it fired by the
 * monotonic clock read in it; the run takes well under a second of real
 * time (CLOCK_REALTIME, which virtual time leaves alone). Default: the
 * API; [cli]: --virtual-time. [off]: the negative control, in real time
 * with a minute being 1 ms: the same order, and at least 50 ms (the
 * library's coarse clock may fire the last timer a tick early).
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
 * [cli] CHECK: ^timer b at 15 min$
 * [cli] CHECK: ^timer c at 30 min$
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
#include <event2/event.h>
#include <event2/event_struct.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "asyncleak.h"

static struct event chain, hour;
static long minute_ms = 60000;
static double start;
static int step;

static double mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double real_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void after(struct event *ev, long minutes) {
  long ms = minutes * minute_ms;
  struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
  event_add(ev, &tv);
}

static void fired(const char *name) {
  printf("timer %s at %.0f min\n", name, (mono_ms() - start) / minute_ms);
}

static void on_chain(evutil_socket_t fd, short what, void *arg) {
  static const char *const names[] = {"a", "b", "c"};
  (void)fd;
  (void)what;
  (void)arg;
  fired(names[step]);
  if (++step < 3)
    after(&chain, 5 * (step + 1));
}

static void on_hour(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  (void)arg;
  fired("hour");
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "";
  struct event_base *base = event_base_new();
  double r0 = real_s(), took;

  setvbuf(stdout, NULL, _IOLBF, 0);
  if (base == NULL)
    return 2;
  if (strcmp(mode, "off") == 0)
    minute_ms = 1;
  else if (strcmp(mode, "cli") != 0)
    printf("virtual: %d\n", asyncleak_virtual_time(base, 1));
  start = mono_ms();
  event_assign(&chain, base, -1, 0, on_chain, NULL);
  event_assign(&hour, base, -1, 0, on_hour, NULL);
  after(&chain, 5);
  after(&hour, 60);
  event_base_dispatch(base);
  event_base_free(base);
  took = real_s() - r0;
  if (strcmp(mode, "off") == 0)
    printf("real time: %s\n", took >= 0.05 ? "at least 50 ms" : "too short");
  else
    printf("real time: %s\n", took < 5 ? "under 5 s" : "5 s or more");
  return 0;
}
