/* A prefork server on libev: the master listens on 127.0.0.1, forks four
 * workers and waits for them, running no loop itself. Workers 1 and 2
 * make a loop of their own; workers 3 and 4 take over the master's
 * default loop with ev_loop_fork. Each accepts on the shared socket with
 * an ev_io, and registers a finalizer that stops it and says goodbye.
 * Once all four are serving, the master alone is sent SIGTERM: with
 * --graceful-signals it passes the signal on, each worker's finalizer
 * runs, and the master waits for their reports before it ends. Nothing
 * else stops a worker.
 *
 * CLI: --graceful-signals
 * CHECK-COUNT-4: ^worker [1-4]: serving$
 * CHECK-COUNT-4: ^worker [1-4]: goodbye$
 * CHECK-NOT: ERROR
 * CHECK-NOT: left no report
 * CHECK: was killed by signal 15 \(SIGTERM: Terminated\)$
 * EXIT: 143
 */
#include <arpa/inet.h>
#include <ev.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "asyncleak.h"

#define WORKERS 4

static int id;
static ev_io accepting;

static void say(const char *what) {
  char line[64];
  int n = snprintf(line, sizeof(line), "worker %d: %s\n", id, what);
  (void)!write(1, line, (size_t)n);
}

static void on_accept(struct ev_loop *loop, ev_io *w, int revents) {
  int c = accept(w->fd, NULL, NULL);
  (void)loop;
  (void)revents;
  if (c >= 0)
    close(c);
}

static void goodbye(void *loop, void *arg) {
  (void)arg;
  ev_io_stop(loop, &accepting);
  say("goodbye");
}

static void worker(int listen_fd, int ready_fd) {
  struct ev_loop *loop;

  if (id <= 2) {
    loop = ev_loop_new(0);
  } else {
    loop = ev_default_loop(0);
    ev_loop_fork(loop);
  }
  ev_io_init(&accepting, on_accept, listen_fd, EV_READ);
  ev_io_start(loop, &accepting);
  asyncleak_run_finally(loop, goodbye, NULL);
  say("serving");
  (void)!write(ready_fd, "r", 1);
  close(ready_fd);
  ev_run(loop, 0);
  _exit(0);
}

int main(void) {
  struct sockaddr_in addr = {.sin_family = AF_INET};
  int listen_fd, ready[2];
  pid_t pids[WORKERS];
  char c;

  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  listen_fd = socket(AF_INET, SOCK_STREAM, 0);
  if (listen_fd < 0 ||
      bind(listen_fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
      listen(listen_fd, 16) != 0 || pipe(ready) != 0 ||
      ev_default_loop(0) == NULL)
    return 2;
  for (int i = 0; i < WORKERS; i++) {
    pids[i] = fork();
    if (pids[i] == 0) {
      id = i + 1;
      close(ready[0]);
      worker(listen_fd, ready[1]);
    }
  }
  close(ready[1]);
  for (int i = 0; i < WORKERS && read(ready[0], &c, 1) == 1; i++)
    ;
  kill(getpid(), SIGTERM);
  for (int i = 0; i < WORKERS; i++)
    waitpid(pids[i], NULL, 0);
  return 0;
}
