/* The slow-callback check for libevent (slow_callback_ms,
 * --slow-callback): event_base_once's callback, which the runtime calls
 * itself, is timed. An event's own callback is not (docs/debug-checks.md
 * says why): the slow event_new callback here is no finding.
 *
 * RUN: slow
 * CLI: --slow-callback=100
 * CHECK: WARNING: asyncleak: 1 finding of the debug checks \(not a failure\)
 * CHECK: ^Slow callback: event_base_once callback on an event \(once\) held its loop, 1 time, the longest ([3-9]|[1-9][0-9]+)[0-9][0-9] ms, created at:$
 * CHECK: #0 0x[0-9a-f]+ in add_once .*ev-slow-callback.c:%line(once)$
 * CHECK: ^  the callback:$
 * CHECK: #0 0x[0-9a-f]+ in slow_once .*ev-slow-callback.c:%line(oncecb)$
 * CHECK-NOT: slow_event
 * EXIT: 0
 *
 * The negative control: a fast callback.
 * [fast] RUN: fast
 * [fast] CLI: --slow-callback=100 --fail-on-findings
 * [fast] CHECK-NOT: Slow callback
 * [fast] CHECK-NOT: finding
 * [fast] EXIT: 0
 */
#include <event2/event.h>
#include <string.h>
#include <time.h>

static int slow;

static void pause_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
  while (nanosleep(&ts, &ts) != 0)
    ;
}

static void slow_once(evutil_socket_t fd, short what, void *arg) { /* @oncecb */
  (void)fd;
  (void)what;
  (void)arg;
  if (slow)
    pause_ms(300);
}

static void slow_event(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  (void)arg;
  if (slow)
    pause_ms(300);
}

__attribute__((noinline)) static int add_once(struct event_base *base) {
  struct timeval tv = {0, 1000};
  return event_base_once(base, -1, EV_TIMEOUT, slow_once, NULL, &tv); /* @once */
}

int main(int argc, char **argv) {
  struct event_base *base = event_base_new();
  struct timeval tv = {0, 1000};
  struct event *ev;

  slow = argc < 2 || strcmp(argv[1], "fast") != 0;
  if (base == NULL || add_once(base) != 0)
    return 1;
  event_base_dispatch(base);
  ev = evtimer_new(base, slow_event, NULL);
  evtimer_add(ev, &tv);
  event_base_dispatch(base);
  event_free(ev);
  event_base_free(base);
  return 0;
}
