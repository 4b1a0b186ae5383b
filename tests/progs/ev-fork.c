/* fork, then event_reinit in the child: the base the parent made becomes
 * the child's, listed in the child's report and closed by the child's
 * event_base_free. The parent frees everything and leaves nothing. RUN:
 * MODE, one of leak (the default), child-free and no-reinit.
 *
 * CHECK: ^parent done, child status 0$
 * CHECK-COUNT-1: ^1 handle of type event \(added\), created at:$
 * CHECK: #0 0x[0-9a-f]+ in main .*ev-fork.c:%line(child)$
 * CHECK: ^Loops \(libevent\): 1 seen, 0 closed, 1 not closed:$
 * CHECK: ^  loop 1 \(libevent 0x[0-9a-f]+\) created in main .*ev-fork.c:%line(base) by thread [0-9]+ \(main\): never closed$
 * CHECK: ^SUMMARY: asyncleak: 1 handle left open \(1 event \(added\)\) from 1 creation site; 1 of 1 loop not closed$
 * CHECK-NOT: ev-fork.c:%line(parent)$
 * CHECK: ^asyncleak: 1 handle\(s\) left open in 1 process\(es\)$
 * EXIT: 23
 *
 * The child frees the base it took over: it is closed, in the child.
 * [child-free] RUN: child-free
 * [child-free] CHECK: ^parent done, child status 0$
 * [child-free] CHECK: ^1 handle of type event \(added when its base was freed\), created at:$
 * [child-free] CHECK: ^Loops \(libevent\): 1 seen, 1 closed, 1 freed with what was on it:$
 * [child-free] CHECK: ^asyncleak: 1 handle\(s\) left open in 1 process\(es\)$
 * [child-free] EXIT: 23
 *
 * Without event_reinit the base stays the parent's: the child's event is
 * reported, on a loop the child's report does not list.
 * [no-reinit] RUN: no-reinit
 * [no-reinit] CHECK: ^parent done, child status 0$
 * [no-reinit] CHECK: ^1 handle of type event \(added\), created at:$
 * [no-reinit] CHECK: ^SUMMARY: asyncleak: 1 handle left open \(1 event \(added\)\) from 1 creation site$
 * [no-reinit] CHECK-NOT: ^Loops \(libevent\): 1 seen
 * [no-reinit] EXIT: 23
 */
#include <event2/event.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_tick(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  (void)arg;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "leak";
  struct event_base *base = event_base_new(); /* @base */
  struct timeval second = {1, 0};
  struct event *tick;
  int status;
  pid_t child;

  if (base == NULL)
    return 1;
  tick = event_new(base, -1, EV_PERSIST, on_tick, NULL); /* @parent */
  event_add(tick, &second);
  fflush(stdout);
  child = fork();
  if (child < 0)
    return 1;
  if (child == 0) {
    struct event *mine;
    if (strcmp(mode, "no-reinit") != 0 && event_reinit(base) != 0)
      return 2;
    /* The parent's timer is the parent's: the child deletes it. */
    event_free(tick);
    mine = event_new(base, -1, EV_PERSIST, on_tick, NULL); /* @child */
    event_add(mine, &second);
    event_base_loop(base, EVLOOP_NONBLOCK);
    if (strcmp(mode, "child-free") == 0)
      event_base_free(base);
    return 0;
  }
  if (waitpid(child, &status, 0) != child)
    return 1;
  printf("parent done, child status %d\n",
         WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  fflush(stdout);
  event_free(tick);
  event_base_free(base);
  return 0;
}
