/* The slow-callback check for libevent (slow_callback_ms,
 * --slow-callback): the callbacks of the program's events (event_new,
 * event_assign, event_set) and of event_base_once are timed, each named
 * by the call that set it up, with the event's creation site and the
 * callback function. A slow callback that frees its own event is still
 * found with its creation site. The program finds its own callback
 * through libevent's getters, and event_self_cbarg() still gives the
 * event itself to its callback.
 *
 * RUN: slow
 * CLI: --slow-callback=100
 * CHECK: ^own callbacks: 1$
 * CHECK: ^self argument: 1$
 * CHECK: WARNING: asyncleak: 5 findings of the debug checks \(not a failure\)
 * CHECK: ^Slow callback: event_base_once callback on an event \(once\) held its loop, 1 time, the longest ([3-9]|[1-9][0-9]+)[0-9][0-9] ms, created at:$
 * CHECK: #0 0x[0-9a-f]+ in add_once .*ev-slow-callback.c:%line(once)$
 * CHECK: ^  the callback:$
 * CHECK: #0 0x[0-9a-f]+ in slow_once .*ev-slow-callback.c:%line(oncecb)$
 * CHECK: ^Slow callback: event_new callback on an event held its loop, 1 time, the longest ([3-9]|[1-9][0-9]+)[0-9][0-9] ms, created at:$
 * CHECK: #0 0x[0-9a-f]+ in make_timer .*ev-slow-callback.c:%line(new)$
 * CHECK: ^  the callback:$
 * CHECK: #0 0x[0-9a-f]+ in slow_event .*ev-slow-callback.c:%line(eventcb)$
 * CHECK: ^Slow callback: event_assign callback on an event held its loop, 2 times, the longest ([3-9]|[1-9][0-9]+)[0-9][0-9] ms, created at:$
 * CHECK: #0 0x[0-9a-f]+ in assign_ticker .*ev-slow-callback.c:%line(assign)$
 * CHECK: ^  the callback:$
 * CHECK: #0 0x[0-9a-f]+ in slow_tick .*ev-slow-callback.c:%line(tickcb)$
 * CHECK: ^Slow callback: event_assign callback on an event held its loop, 1 time, the longest ([3-9]|[1-9][0-9]+)[0-9][0-9] ms, created at:$
 * CHECK: #0 0x[0-9a-f]+ in set_timer .*ev-slow-callback.c:%line(set)$
 * CHECK: ^  the callback:$
 * CHECK: #0 0x[0-9a-f]+ in slow_freeing .*ev-slow-callback.c:%line(freeingcb)$
 * CHECK-NOT: fast_self
 * CHECK: 5 finding\(s\) of the debug checks in 1 process\(es\)
 * EXIT: 0
 *
 * Off unless asked for: the same program, nothing stood in for.
 * [off] RUN: slow
 * [off] CHECK: ^own callbacks: 1$
 * [off] CHECK: ^self argument: 1$
 * [off] CHECK-NOT: Slow callback
 * [off] CHECK-NOT: finding
 * [off] EXIT: 0
 *
 * The negative control: fast callbacks.
 * [fast] RUN: fast
 * [fast] CLI: --slow-callback=100 --fail-on-findings
 * [fast] CHECK: ^own callbacks: 1$
 * [fast] CHECK: ^self argument: 1$
 * [fast] CHECK-NOT: Slow callback
 * [fast] CHECK-NOT: finding
 * [fast] EXIT: 0
 */
#include <event2/event.h>
#include <event2/event_compat.h>
#include <event2/event_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int slow, ticks, self_ok;
static struct event ticker;

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

static void slow_event(evutil_socket_t fd, short what, void *arg) { /* @eventcb */
  (void)fd;
  (void)what;
  (void)arg;
  if (slow)
    pause_ms(300);
}

static void slow_tick(evutil_socket_t fd, short what, void *arg) { /* @tickcb */
  (void)fd;
  (void)what;
  (void)arg;
  if (slow)
    pause_ms(300);
  if (++ticks == 2)
    event_del(&ticker);
}

/* Frees its own event, which it was handed as its argument. */
static void slow_freeing(evutil_socket_t fd, short what, void *arg) { /* @freeingcb */
  (void)fd;
  (void)what;
  memset(arg, 0, sizeof(struct event));
  free(arg);
  if (slow)
    pause_ms(300);
}

/* event_self_cbarg(): libevent passes the event itself. */
static void fast_self(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  self_ok = arg != NULL && event_get_callback(arg) == fast_self;
}

__attribute__((noinline)) static int add_once(struct event_base *base) {
  struct timeval tv = {0, 1000};
  return event_base_once(base, -1, EV_TIMEOUT, slow_once, NULL, &tv); /* @once */
}

__attribute__((noinline)) static struct event *
make_timer(struct event_base *base) {
  return evtimer_new(base, slow_event, NULL); /* @new */
}

__attribute__((noinline)) static int assign_ticker(struct event_base *base) {
  return event_assign(&ticker, base, -1, EV_PERSIST, slow_tick, NULL); /* @assign */
}

/* libevent 1.x's way, on the base event_init made. */
__attribute__((noinline)) static struct event *set_timer(void) {
  struct event *ev = malloc(sizeof(*ev));
  if (ev != NULL)
    evtimer_set(ev, slow_freeing, ev); /* @set */
  return ev;
}

/* Whether the program finds its own callbacks through the getters. */
static int own_callbacks(struct event *ev) {
  event_callback_fn cb = NULL;
  struct event_base *b = NULL;
  evutil_socket_t fd = 0;
  short what = 0;
  void *arg = &cb;

  event_get_assignment(&ticker, &b, &fd, &what, &cb, &arg);
  return event_get_callback(ev) == slow_event && cb == slow_tick &&
         arg == NULL && b != NULL && fd == -1 && (what & EV_PERSIST);
}

int main(int argc, char **argv) {
  struct event_base *base = event_init();
  /* Apart, so that they are called back in this order. */
  struct timeval tv = {0, 1000}, tv2 = {0, 2000}, tv3 = {0, 3000};
  struct event *ev, *self, *old;

  slow = argc < 2 || strcmp(argv[1], "fast") != 0;
  if (base == NULL || add_once(base) != 0)
    return 1;
  event_base_dispatch(base);

  ev = make_timer(base);
  if (ev == NULL || assign_ticker(base) != 0 ||
      (old = set_timer()) == NULL)
    return 1;
  self = event_new(base, -1, 0, fast_self, event_self_cbarg());
  if (self == NULL)
    return 1;
  printf("own callbacks: %d\n", own_callbacks(ev));
  evtimer_add(ev, &tv);
  event_add(&ticker, &tv2);
  evtimer_add(old, &tv3);
  event_add(self, &tv);
  event_base_dispatch(base);
  printf("self argument: %d\n", self_ok);
  fflush(stdout);
  event_free(self);
  event_free(ev);
  event_base_free(base);
  return 0;
}
