/* A program's own library whose name starts as libevent's do
 * (libevent_bus.so, tests/progs/ev-own-library.c): its calls to libevent
 * are the program's, not libevent's own. */
#include "event_bus.h"

static void tick(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  (void)arg;
}

struct event *bus_start(struct event_base *base) {
  struct timeval every = {3600, 0};
  struct event *ev = event_new(base, -1, EV_PERSIST, tick, NULL);

  event_add(ev, &every);
  return ev;
}

void bus_stop(struct event *ev) {
  event_free(ev);
}
