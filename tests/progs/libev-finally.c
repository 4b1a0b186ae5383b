/* A finalizer on a libev loop: it stops the program's repeating timer and
 * says goodbye with a one-shot timer that the shutdown waits for, so the
 * loop drains before ev_loop_destroy destroys it, as an ev_cleanup
 * watcher's callback would have to do without a loop to run. Nothing is
 * left, nothing reported. [leak] registers no finalizer: the timer is
 * still started when the loop is destroyed.
 *
 * CHECK: ^ticked$
 * CHECK: ^finalizer: stopping the timer$
 * CHECK: ^goodbye$
 * CHECK: ^ev_loop_destroy returned$
 * CHECK-NOT: ERROR
 * CHECK: ^asyncleak: no leaks: 1 loop\(s\), 2 handle\(s\) created, all closed$
 * EXIT: 0
 *
 * [leak] RUN: leak
 * [leak] CHECK: ^ticked$
 * [leak] CHECK-NOT: goodbye
 * [leak] CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open at exit$
 * [leak] CHECK: ^1 handle of type ev_timer \(started when its loop was destroyed\), created at:$
 * [leak] CHECK: #0 0x[0-9a-f]+ in main .*libev-finally.c:%line(tick)$
 * [leak] EXIT: 23
 *
 * [graceful]: the timer raises SIGTERM instead; with --graceful-signals
 * the signal wakes the loop, which stops; the finalizer runs and the loop
 * drains, then the process ends by SIGTERM, as it would have at once.
 * [graceful] CLI: --graceful-signals
 * [graceful] RUN: graceful
 * [graceful] CHECK: ^ticked$
 * [graceful] CHECK: ^finalizer: stopping the timer$
 * [graceful] CHECK: ^goodbye$
 * [graceful] CHECK-NOT: ev_loop_destroy returned
 * [graceful] CHECK-NOT: ERROR
 * [graceful] CHECK: was killed by signal 15 \(SIGTERM: Terminated\)$
 * [graceful] EXIT: 143
 *
 * Without --graceful-signals, SIGTERM ends it at once, with the timer
 * started.
 * [term] RUN: graceful
 * [term] CHECK: ^ticked$
 * [term] CHECK-NOT: finalizer
 * [term] CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open when SIGTERM ended the program$
 * [term] CHECK: was killed by signal 15 \(SIGTERM: Terminated\)$
 * [term] EXIT: 143
 */
#include <ev.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "asyncleak.h"

static ev_timer tick, bye;
static int graceful, raised;

static void on_tick(struct ev_loop *loop, ev_timer *w, int revents) {
  (void)w;
  (void)revents;
  printf("ticked\n");
  /* Once: a second SIGTERM ends the process at once, by design, and a tick
   * due in the same turn as the wake-up would send one. */
  if (graceful && !raised++)
    raise(SIGTERM);
  else
    ev_break(loop, EVBREAK_ALL);
}

static void on_bye(struct ev_loop *loop, ev_timer *w, int revents) {
  (void)loop;
  (void)w;
  (void)revents;
  printf("goodbye\n");
}

static void finalizer(void *loop, void *arg) {
  (void)arg;
  printf("finalizer: stopping the timer\n");
  ev_timer_stop(loop, &tick);
  ev_timer_init(&bye, on_bye, 0.02, 0.);
  ev_timer_start(loop, &bye);
  asyncleak_shutdown_waits_for(loop, &bye);
}

int main(int argc, char **argv) {
  struct ev_loop *loop = ev_loop_new(0);

  setvbuf(stdout, NULL, _IONBF, 0);
  graceful = argc > 1 && strcmp(argv[1], "graceful") == 0;
  if (loop == NULL)
    return 1;
  ev_timer_init(&tick, on_tick, 0.001, 0.001);
  ev_timer_start(loop, &tick); /* @tick */
  if (argc < 2 || strcmp(argv[1], "leak") != 0)
    asyncleak_run_finally(loop, finalizer, NULL);
  ev_run(loop, 0);
  ev_loop_destroy(loop);
  printf("ev_loop_destroy returned\n");
  return 0;
}
