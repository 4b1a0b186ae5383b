/* Force mode and libevent's verdicts: two timers made by evtimer_new on
 * one line, one added and one never added, then asyncleak_loop_close.
 * Without --force-close the base is freed with the added one on it; with
 * it, the added one is deleted by force first, and the one never added,
 * which force can do nothing to, stays what it was: never freed. Each
 * group keeps its fingerprint whether force acted or not
 * (tests/cli/force-fingerprints.sh compares them). RUN: MODE, one of leak
 * (the default) and clean.
 *
 * CHECK: ==[0-9]+==ERROR: asyncleak: 2 handles left open at exit$
 * CHECK: ^1 handle of type event \(added when its base was freed\), created at:$
 * CHECK: #0 0x[0-9a-f]+ in main .*ev-force-site.c:%line(two)$
 * CHECK: ^1 handle of type event \(never freed\), created at:$
 * CHECK: #0 0x[0-9a-f]+ in main .*ev-force-site.c:%line(two)$
 * CHECK-NOT: closed by force
 * EXIT: 23
 *
 * [force] CLI: --force-close
 * [force] CHECK: ^1 handle of type event \(never freed\), created at:$
 * [force] CHECK: #0 0x[0-9a-f]+ in main .*ev-force-site.c:%line(two)$
 * [force] CHECK: on loop 1, thread [0-9]+ \(main\), not added, not freed$
 * [force] CHECK: ^1 handle of type event \(added\) closed by force at shutdown, created at:$
 * [force] CHECK: #0 0x[0-9a-f]+ in main .*ev-force-site.c:%line(two)$
 * [force] CHECK: 2 handles open when it began: 0 closed by a finalizer, 0 closed by the program, 1 closed by force, 1 still open$
 * [force] CHECK: ^SUMMARY: asyncleak: 1 handle left open \(1 event \(never freed\)\) from 1 creation site; 1 closed by force$
 * [force] CHECK-COUNT-1: closed by force at shutdown, created at:$
 * [force] CHECK-NOT: of type event closed by force
 * [force] EXIT: 23
 *
 * [clean] CLI: --force-close
 * [clean] RUN: clean
 * [clean] CHECK-NOT: ERROR
 * [clean] CHECK-NOT: closed by force
 * [clean] CHECK: ^asyncleak: no leaks: 1 loop\(s\), 2 handle\(s\) created, all closed$
 * [clean] EXIT: 0
 */
#include <event2/event.h>
#include <stdio.h>
#include <string.h>

#include "asyncleak.h"

#define TIMER() evtimer_new(base, on_timer, NULL)

static void on_timer(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  (void)arg;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "leak";
  struct event_base *base = event_base_new();
  struct timeval later = {3600, 0};
  struct event *added, *idle;

  if (base == NULL)
    return 1;
  /* Two calls, one line: told apart by their types alone. */
  added = TIMER(), idle = TIMER(); /* @two */
  if (added == NULL || idle == NULL)
    return 1;
  evtimer_add(added, &later);
  if (!strcmp(mode, "clean")) {
    event_free(added);
    event_free(idle);
  }
  if (asyncleak_loop_close(base) != 0)
    fprintf(stderr, "asyncleak_loop_close failed\n");
  return 0;
}
