/* ev_once is a pending request from the call until its callback: those
 * that fired are not reported, and their callbacks get the program's own
 * argument. One with no descriptor and no timeout never fires, and stays
 * pending; one waiting on a pipe nobody writes to is pending at exit, and
 * still pending after ev_loop_destroy (libev frees neither). RUN: MODE,
 * one of pending (the default), fired and destroy.
 *
 * CHECK: ^fired 1 with the program's argument$
 * CHECK: ==[0-9]+==ERROR: asyncleak: 2 requests pending at exit$
 * CHECK: ^1 request of type ev_once pending, created at:$
 * CHECK: #0 0x[0-9a-f]+ in main .*libev-once.c:%line(never)$
 * CHECK: ev_once with no descriptor and no timeout: never called back$
 * CHECK: ^1 request of type ev_once pending, created at:$
 * CHECK: #0 0x[0-9a-f]+ in main .*libev-once.c:%line(readable)$
 * CHECK: ev_once on fd [0-9]+ read$
 * CHECK-NOT: libev-once.c:%line(soon)$
 * CHECK-NOT: handle of type
 * EXIT: 23
 *
 * [fired] RUN: fired
 * [fired] CHECK: ^fired 3 with the program's argument$
 * [fired] CHECK-NOT: ERROR
 * [fired] CHECK: ^asyncleak: no leaks: 1 loop\(s\), 0 handle\(s\) created, all closed; 3 request\(s\), all completed$
 * [fired] EXIT: 0
 *
 * [destroy] RUN: destroy
 * [destroy] CHECK: ==[0-9]+==ERROR: asyncleak: 2 requests pending at exit$
 * [destroy] CHECK: ^Loops \(libev\): 1 seen, 1 closed, 1 freed with what was on it:$
 * [destroy] EXIT: 23
 */
#include <ev.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int fired, wrong_arg;
static char token;

static void on_fire(int revents, void *arg) {
  (void)revents;
  fired++;
  if (arg != &token)
    wrong_arg++;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "pending";
  int all = strcmp(mode, "fired") == 0;
  struct ev_loop *loop = ev_loop_new(0);
  int fds[2];

  if (loop == NULL || pipe(fds) != 0)
    return 1;
  ev_once(loop, -1, 0, 0.001, on_fire, &token); /* @soon */
  if (all) {
    if (write(fds[1], "x", 1) != 1)
      return 1;
    ev_once(loop, -1, 0, 0., on_fire, &token);
    ev_once(loop, fds[0], EV_READ, -1., on_fire, &token);
  } else {
    ev_once(loop, -1, 0, -1., on_fire, &token); /* @never */
    ev_once(loop, fds[0], EV_READ, -1., on_fire, &token); /* @readable */
  }
  while (fired < (all ? 3 : 1))
    ev_run(loop, EVRUN_ONCE);
  printf("fired %d with the program's %s\n", fired,
         wrong_arg ? "WRONG argument" : "argument");
  fflush(stdout);
  if (all || strcmp(mode, "destroy") == 0)
    ev_loop_destroy(loop);
  return 0;
}
