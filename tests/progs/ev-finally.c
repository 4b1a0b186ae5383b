/* A finalizer on a libevent base: it frees the program's persistent timer
 * and says goodbye with a one-shot timer that the shutdown waits for, so
 * the base drains before it is freed. Nothing is left, nothing reported.
 * [leak] registers no finalizer: the timer is still added when the base
 * is freed.
 *
 * CHECK: ^ticked$
 * CHECK: ^finalizer: freeing the timer$
 * CHECK: ^goodbye$
 * CHECK: ^event_base_free returned$
 * CHECK-NOT: ERROR
 * CHECK: ^asyncleak: no leaks: 1 loop\(s\), [0-9]+ handle\(s\) created, all closed$
 * EXIT: 0
 *
 * [leak] RUN: leak
 * [leak] CHECK: ^ticked$
 * [leak] CHECK-NOT: goodbye
 * [leak] CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open at exit$
 * [leak] CHECK: ^1 handle of type event \(added when its base was freed\), created at:$
 * [leak] CHECK: #0 0x[0-9a-f]+ in main .*ev-finally.c:%line(tick)$
 * [leak] EXIT: 23
 *
 * [graceful]: the timer raises SIGTERM instead; with --graceful-signals
 * the signal wakes the base, which stops; the finalizer runs and the base
 * drains, then the process ends by SIGTERM, as it would have at once.
 * [graceful] CLI: --graceful-signals
 * [graceful] RUN: graceful
 * [graceful] CHECK: ^ticked$
 * [graceful] CHECK: ^finalizer: freeing the timer$
 * [graceful] CHECK: ^goodbye$
 * [graceful] CHECK-NOT: event_base_free returned
 * [graceful] CHECK-NOT: ERROR
 * [graceful] CHECK: was killed by signal 15 \(SIGTERM: Terminated\)$
 * [graceful] EXIT: 143
 */
#include <event2/event.h>
#include <event2/event_struct.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "asyncleak.h"

static struct event *tick;
static struct event bye;
static int graceful, raised;

static void on_tick(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  printf("ticked\n");
  /* Once: a second SIGTERM ends the process at once, by design, and a tick
   * due in the same turn as the wake-up would send one. */
  if (graceful && !raised++)
    raise(SIGTERM);
  else
    event_base_loopbreak(arg);
}

static void on_bye(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  (void)arg;
  printf("goodbye\n");
}

static void finalizer(void *loop, void *arg) {
  struct timeval later = {0, 20000};
  (void)arg;
  printf("finalizer: freeing the timer\n");
  event_free(tick);
  event_assign(&bye, loop, -1, 0, on_bye, NULL);
  event_add(&bye, &later);
  asyncleak_shutdown_waits_for(loop, &bye);
}

int main(int argc, char **argv) {
  struct event_base *base = event_base_new();
  struct timeval ms = {0, 1000};

  setvbuf(stdout, NULL, _IONBF, 0);
  graceful = argc > 1 && strcmp(argv[1], "graceful") == 0;
  if (base == NULL)
    return 1;
  tick = event_new(base, -1, EV_PERSIST, on_tick, base); /* @tick */
  event_add(tick, &ms);
  if (argc < 2 || strcmp(argv[1], "leak") != 0)
    asyncleak_run_finally(base, finalizer, NULL);
  event_base_dispatch(base);
  event_base_free(base);
  printf("event_base_free returned\n");
  return 0;
}
