/* event_base_once: libevent frees such an event once it fired, so one is
 * left behind only while still pending: at exit, or when its base is
 * freed (which frees it without calling it). Those that fired are not
 * reported, and their callbacks get the program's own argument. RUN:
 * MODE, one of leak (the default), clean and base-free.
 *
 * CHECK: ^fired 2 with the program's argument$
 * CHECK: ==[0-9]+==ERROR: asyncleak: 2 handles left open at exit$
 * CHECK: ^1 handle of type event \(once\), created at:$
 * CHECK: #0 0x[0-9a-f]+ in main .*ev-once.c:%line(later)$
 * CHECK: on loop 1, thread [0-9]+ \(main\), added once: timer$
 * CHECK: ^1 handle of type event \(once\), created at:$
 * CHECK: #0 0x[0-9a-f]+ in main .*ev-once.c:%line(readable)$
 * CHECK: on loop 1, thread [0-9]+ \(main\), added once: fd [0-9]+ read$
 * CHECK: ^SUMMARY: asyncleak: 2 handles left open \(2 event \(once\)\) from 2 creation sites; 1 of 1 loop not closed$
 * CHECK-NOT: ev-once.c:%line(soon)$
 * CHECK-NOT: ev-once.c:%line(sooner)$
 * EXIT: 23
 *
 * [clean] RUN: clean
 * [clean] CHECK: ^fired 4 with the program's argument$
 * [clean] CHECK-NOT: ERROR
 * [clean] CHECK: ^asyncleak: no leaks: 1 loop\(s\), 4 handle\(s\) created, all closed$
 * [clean] EXIT: 0
 *
 * [base-free] RUN: base-free
 * [base-free] CHECK: ==[0-9]+==ERROR: asyncleak: 2 handles left open at exit$
 * [base-free] CHECK-COUNT-2: on loop 1, thread [0-9]+ \(main\), deleted by event_base_free$
 * [base-free] CHECK: ^Loops \(libevent\): 1 seen, 1 closed, 1 freed with what was on it:$
 * [base-free] CHECK: ^SUMMARY: asyncleak: 2 handles left open \(2 event \(added when its base was freed\)\) from 2 creation sites$
 * [base-free] EXIT: 23
 */
#include <event2/event.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int fired, wrong_arg, expected = 2;

static void on_fire(evutil_socket_t fd, short what, void *arg) {
  struct event_base *base = arg;
  char c;

  (void)what;
  if (fd >= 0 && read(fd, &c, 1) != 1)
    wrong_arg++;
  if (event_base_get_method(base) == NULL)
    wrong_arg++;
  if (++fired == expected)
    event_base_loopbreak(base);
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "leak";
  int clean = strcmp(mode, "clean") == 0;
  struct event_base *base = event_base_new();
  struct timeval ms = {0, 1000}, hour = {3600, 0};
  int fds[2];

  if (base == NULL || pipe(fds) != 0)
    return 1;
  event_base_once(base, -1, EV_TIMEOUT, on_fire, base, &ms);  /* @soon */
  event_base_once(base, -1, EV_TIMEOUT, on_fire, base, NULL); /* @sooner */
  /* Cleanly, the last two fire too: no hour, and the pipe readable. */
  event_base_once(base, -1, EV_TIMEOUT, on_fire, base, /* @later */
                  clean ? &ms : &hour);
  event_base_once(base, fds[0], EV_READ, on_fire, base, NULL); /* @readable */
  if (clean) {
    expected = 4;
    if (write(fds[1], "x", 1) != 1)
      return 1;
  }
  event_base_dispatch(base);
  printf("fired %d with %s\n", fired,
         wrong_arg ? "a wrong argument" : "the program's argument");
  fflush(stdout);
  if (clean || strcmp(mode, "base-free") == 0)
    event_base_free(base);
  return 0;
}
