/* libevent events left behind, each way it can be: an event_new'd timer
 * still added at exit, an event of the program's memory (event_assign)
 * still added, and an event_new'd event never added and never freed. A
 * signal event the program deletes and frees, and libevent's own events,
 * are not reported. RUN: MODE, one of leak (the default), clean and
 * base-free.
 *
 * CHECK: ==[0-9]+==ERROR: asyncleak: 3 handles left open at exit$
 * CHECK: ^1 handle of type event \(added\), created at:$
 * CHECK: #0 0x[0-9a-f]+ in main .*ev-event-leak.c:%line(new-added)$
 * CHECK: on loop 1, thread [0-9]+ \(main\), added: timer, persistent$
 * CHECK: ^1 handle of type event \(added\), created at:$
 * CHECK: #0 0x[0-9a-f]+ in main .*ev-event-leak.c:%line(assigned)$
 * CHECK: on loop 1, thread [0-9]+ \(main\), added: fd [0-9]+ read$
 * CHECK: ^1 handle of type event \(never freed\), created at:$
 * CHECK: #0 0x[0-9a-f]+ in main .*ev-event-leak.c:%line(unfreed)$
 * CHECK: on loop 1, thread [0-9]+ \(main\), not added, not freed$
 * CHECK: ^Loops \(libevent\): 1 seen, 0 closed, 1 not closed:$
 * CHECK: ^  loop 1 \(libevent 0x[0-9a-f]+\) created in main .*ev-event-leak.c:%line(base) by thread [0-9]+ \(main\): never closed$
 * CHECK: ^SUMMARY: asyncleak: 3 handles left open \(2 event \(added\), 1 event \(never freed\)\)
 * CHECK-NOT: ev-event-leak.c:%line(signal)$
 * CHECK-NOT: ev-event-leak.c:%line(loopexit)$
 * CHECK-NOT: event \(once\)
 * EXIT: 23
 *
 * [clean] RUN: clean
 * [clean] CHECK: ^ran 2 times$
 * [clean] CHECK-NOT: ERROR
 * [clean] CHECK: ^asyncleak: no leaks: 1 loop\(s\), [0-9]+ handle\(s\) created, all closed$
 * [clean] EXIT: 0
 *
 * The base freed with events on it: those added are reported as added
 * then (event_base_free deleted them); the one never freed still is.
 * [base-free] RUN: base-free
 * [base-free] CHECK: ==[0-9]+==ERROR: asyncleak: 3 handles left open at exit$
 * [base-free] CHECK-COUNT-2: ^1 handle of type event \(added when its base was freed\), created at:$
 * [base-free] CHECK: on loop 1, thread [0-9]+ \(main\), deleted by event_base_free$
 * [base-free] CHECK: ^1 handle of type event \(never freed\), created at:$
 * [base-free] CHECK: ^Loops \(libevent\): 1 seen, 1 closed, 1 freed with what was on it:$
 * [base-free] CHECK: ^  loop 1 .* freed with what is listed above still on it$
 * [base-free] CHECK: ^SUMMARY: asyncleak: 3 handles left open \(2 event \(added when its base was freed\), 1 event \(never freed\)\) from 3 creation sites$
 * [base-free] EXIT: 23
 *
 * With --graceful-signals, SIGTERM, raised in a callback, wakes the base,
 * which stops: the program does not go on (no "ran"), the report is
 * written at the stop, and the process ends by SIGTERM.
 * [term] CLI: --graceful-signals
 * [term] RUN: term
 * [term] CHECK: ==[0-9]+==ERROR: asyncleak: 4 handles left open at exit$
 * [term] CHECK: on loop 1, thread [0-9]+ \(main\), added: signal 10, persistent$
 * [term] CHECK: was killed by signal 15 \(SIGTERM: Terminated\)$
 * [term] CHECK-NOT: ^ran
 * [term] EXIT: 143
 *
 * Without it, SIGTERM ends the program at once, and the report says so.
 * [term-plain] RUN: term
 * [term-plain] CHECK: ==[0-9]+==ERROR: asyncleak: 4 handles left open when SIGTERM ended the program$
 * [term-plain] CHECK: was killed by signal 15 \(SIGTERM: Terminated\)$
 * [term-plain] CHECK-NOT: ^ran
 * [term-plain] EXIT: 143
 */
#include <event2/event.h>
#include <event2/event_struct.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int runs, term, raised;

static void on_tick(evutil_socket_t fd, short what, void *arg) {
  struct event_base *base = arg;
  (void)fd;
  (void)what;
  /* Once: a second SIGTERM ends the process at once, by design, and a tick
   * due in the same turn as the wake-up would send one. */
  if (term && !raised++)
    raise(SIGTERM);
  if (++runs == 2)
    event_base_loopbreak(base);
}

static void on_read(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  (void)arg;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "leak";
  int clean = strcmp(mode, "clean") == 0;
  term = strcmp(mode, "term") == 0;
  struct event_base *base = event_base_new(); /* @base */
  static struct event readable;
  struct event *tick, *spare, *sig;
  struct timeval ms = {0, 1000}, hour = {3600, 0};
  int fds[2];

  if (base == NULL || pipe(fds) != 0)
    return 1;
  /* A safety stop: libevent's own event_base_once, never reported. */
  event_base_loopexit(base, &hour); /* @loopexit */
  tick = event_new(base, -1, EV_PERSIST, on_tick, base); /* @new-added */
  event_add(tick, &ms);
  event_assign(&readable, base, fds[0], EV_READ, on_read, NULL); /* @assigned */
  event_add(&readable, NULL);
  spare = event_new(base, -1, 0, on_tick, base); /* @unfreed */
  sig = evsignal_new(base, SIGUSR1, on_read, NULL); /* @signal */
  event_add(sig, NULL);
  event_base_dispatch(base);
  printf("ran %d times\n", runs);
  fflush(stdout);
  event_del(sig);
  event_free(sig);
  if (clean) {
    event_free(tick);
    event_del(&readable);
    event_free(spare);
  }
  if (clean || strcmp(mode, "base-free") == 0)
    event_base_free(base);
  return 0;
}
