/* libev's own watchers never appear: the default loop's SIGCHLD watcher
 * and its signal pipe (started when the loop is made), the timerfd its
 * first periodic starts, the inotify watcher of its first ev_stat, and,
 * after a fork, the pipe and timerfd ev_run starts again in the child,
 * outside any call of the program's. The program starts its own signal,
 * async, periodic, stat and child watchers, runs the loop, and stops
 * them all; a forked child runs the loop after ev_loop_fork and stops
 * what it started (two processes, each with its default loop, which is
 * never destroyed). RUN: MODE, clean (the default), or leak, which leaves
 * the program's own ev_signal started. With signalfd, the first signal
 * watcher starts libev's signalfd watcher instead of the pipe.
 *
 * CHECK-NOT: ERROR
 * CHECK: ^child ran$
 * CHECK: ^parent ran$
 * CHECK: ^asyncleak: no leaks: 2 loop\(s\), 6 handle\(s\) created, all closed; 2 loop\(s\) never closed$
 * EXIT: 0
 *
 * [signalfd] RUN: signalfd
 * [signalfd] CHECK-NOT: ERROR
 * [signalfd] CHECK: ^asyncleak: no leaks: 2 loop\(s\), 6 handle\(s\) created, all closed; 2 loop\(s\) never closed$
 * [signalfd] EXIT: 0
 *
 * [leak] RUN: leak
 * [leak] CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open at exit$
 * [leak] CHECK: ^1 handle of type ev_signal, created at:$
 * [leak] CHECK: #0 0x[0-9a-f]+ in main .*libev-internal.c:%line(signal)$
 * [leak] CHECK-COUNT-1: handles? of type
 * [leak] CHECK: ^SUMMARY: asyncleak: 1 handle left open \(1 ev_signal\) from 1 creation site
 * [leak] EXIT: 23
 */
#include <ev.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_signal(struct ev_loop *loop, ev_signal *w, int revents) {
  (void)loop;
  (void)w;
  (void)revents;
}

static void on_async(struct ev_loop *loop, ev_async *w, int revents) {
  (void)w;
  (void)revents;
  ev_break(loop, EVBREAK_ALL);
}

static void on_periodic(struct ev_loop *loop, ev_periodic *w, int revents) {
  (void)loop;
  (void)w;
  (void)revents;
}

static void on_stat(struct ev_loop *loop, ev_stat *w, int revents) {
  (void)loop;
  (void)w;
  (void)revents;
}

static void on_child(struct ev_loop *loop, ev_child *w, int revents) {
  (void)loop;
  (void)w;
  (void)revents;
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents) {
  (void)w;
  (void)revents;
  ev_break(loop, EVBREAK_ALL);
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "clean";
  struct ev_loop *loop =
      ev_default_loop(strcmp(mode, "signalfd") == 0 ? EVFLAG_SIGNALFD : 0);
  static ev_signal usr1;
  static ev_async wake;
  static ev_periodic hourly;
  static ev_stat tmp;
  static ev_child any;
  static ev_timer soon;
  pid_t pid;
  int status;

  if (loop == NULL)
    return 1;
  ev_signal_init(&usr1, on_signal, SIGUSR1);
  ev_signal_start(loop, &usr1); /* @signal */
  ev_async_init(&wake, on_async);
  ev_async_start(loop, &wake);
  ev_periodic_init(&hourly, on_periodic, 0., 3600., 0);
  ev_periodic_start(loop, &hourly);
  ev_stat_init(&tmp, on_stat, "/tmp", 0.);
  ev_stat_start(loop, &tmp);
  ev_child_init(&any, on_child, 0, 0);
  ev_child_start(loop, &any);

  pid = fork();
  if (pid == 0) {
    /* The child's loop: its pipe and timerfd are made again by ev_run. */
    ev_loop_fork(EV_DEFAULT);
    ev_timer_init(&soon, on_timer, 0.001, 0.);
    ev_timer_start(loop, &soon);
    ev_run(loop, 0);
    ev_signal_stop(loop, &usr1);
    ev_async_stop(loop, &wake);
    ev_periodic_stop(loop, &hourly);
    ev_stat_stop(loop, &tmp);
    ev_child_stop(loop, &any);
    printf("child ran\n");
    fflush(stdout);
    return 0;
  }
  waitpid(pid, &status, 0);
  ev_async_send(loop, &wake);
  ev_run(loop, 0);
  if (strcmp(mode, "leak") != 0)
    ev_signal_stop(loop, &usr1);
  ev_async_stop(loop, &wake);
  ev_periodic_stop(EV_DEFAULT, &hourly);
  ev_stat_stop(loop, &tmp);
  ev_child_stop(loop, &any);
  printf("parent ran\n");
  fflush(stdout);
  return 0;
}
