/* A program with its own copy of libevent, linked from libevent_core.a.
 * With "leak" it leaves an event added; with "clean" it frees it and its
 * base. Either way the run must not pass (tests/cli/copies.sh). */
#include <event2/event.h>
#include <stdio.h>
#include <string.h>

static void on_timer(evutil_socket_t fd, short what, void *arg) {
  (void)fd, (void)what, (void)arg;
}

int main(int argc, char **argv) {
  int leak = argc > 1 && !strcmp(argv[1], "leak");
  struct timeval later = {60, 0};
  struct event_base *base = event_base_new();
  struct event *ev;

  if (base == NULL)
    return 1;
  ev = evtimer_new(base, on_timer, NULL);
  if (ev == NULL || evtimer_add(ev, &later) != 0)
    return 1;
  if (leak) {
    puts("leaving an event added");
    return 0;
  }
  event_free(ev);
  event_base_free(base);
  puts("freed everything");
  return 0;
}
