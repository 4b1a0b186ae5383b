/* An event made by the program's own library, libevent_bus.so, whose name
 * starts as libevent's own libraries' do: it is the program's, and
 * reported when left added.
 *
 * CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open at exit$
 * CHECK: ^1 handle of type event \(added\), created at:$
 * CHECK: #0 0x[0-9a-f]+ in bus_start .*libevent_bus.c:[0-9]+$
 * CHECK: #1 0x[0-9a-f]+ in main .*ev-own-library.c:%line(start)$
 * CHECK: on loop 1, thread [0-9]+ \(main\), added: timer, persistent$
 * CHECK: ^SUMMARY: asyncleak: 1 handle left open \(1 event \(added\)\)
 * EXIT: 23
 *
 * [clean]: the library frees its event, the program its base.
 * [clean] RUN: clean
 * [clean] CHECK-NOT: ERROR
 * [clean] CHECK: ^asyncleak: no leaks: 1 loop\(s\), 1 handle\(s\) created, all closed$
 * [clean] EXIT: 0
 */
#include <string.h>
#include <event2/event.h>

#include "plugin/event_bus.h"

int main(int argc, char **argv) {
  struct event_base *base = event_base_new();
  struct event *ev = bus_start(base); /* @start */

  event_base_loop(base, EVLOOP_NONBLOCK);
  if (argc > 1 && !strcmp(argv[1], "clean")) {
    bus_stop(ev);
    event_base_free(base);
  }
  return 0;
}
