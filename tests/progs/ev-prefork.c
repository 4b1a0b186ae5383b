/* A prefork server on libevent: the master listens on 127.0.0.1, forks
 * four workers and waits for them, running no base itself. Workers 1 and
 * 2 make a base of their own; workers 3 and 4 take over the master's with
 * event_reinit. Each accepts on the shared socket with an event, and
 * registers a finalizer that deletes it and says goodbye. Once all four
 * are serving, the master alone is sent SIGTERM: with --graceful-signals
 * it passes the signal on, each worker's finalizer runs, and the master
 * waits for their reports before it ends. Nothing else stops a worker.
 * [leak]: worker 4 leaves a timer added: its report names it.
 *
 * CLI: --graceful-signals
 * CHECK-COUNT-4: ^worker [1-4]: serving$
 * CHECK-COUNT-4: ^worker [1-4]: goodbye$
 * CHECK-NOT: ERROR
 * CHECK-NOT: left no report
 * CHECK: was killed by signal 15 \(SIGTERM: Terminated\)$
 * EXIT: 143
 *
 * [leak] RUN: leak
 * [leak] CLI: --graceful-signals
 * [leak] CHECK-COUNT-4: ^worker [1-4]: goodbye$
 * [leak] CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open
 * [leak] CHECK: #0 0x[0-9a-f]+ in worker .*ev-prefork.c:%line(leak)$
 * [leak] CHECK-NOT: left no report
 * [leak] CHECK: was killed by signal 15 \(SIGTERM: Terminated\)$
 * [leak] EXIT: 143
 */
#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "asyncleak.h"

#define WORKERS 4

static int id, leak;
static struct event *accepting, *left_open;

static void say(const char *what) {
  char line[64];
  int n = snprintf(line, sizeof(line), "worker %d: %s\n", id, what);
  (void)!write(1, line, (size_t)n);
}

static void on_accept(evutil_socket_t fd, short what, void *arg) {
  int c = accept(fd, NULL, NULL);
  (void)what;
  (void)arg;
  if (c >= 0)
    close(c);
}

static void on_tick(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  (void)arg;
}

static void goodbye(void *base, void *arg) {
  (void)base;
  (void)arg;
  event_free(accepting);
  say("goodbye");
}

static void worker(struct event_base *inherited, int listen_fd, int ready_fd) {
  struct event_base *base = inherited;
  struct timeval hour = {3600, 0};

  if (id <= 2)
    base = event_base_new();
  else
    event_reinit(base);
  accepting = event_new(base, listen_fd, EV_READ | EV_PERSIST, on_accept,
                        NULL);
  event_add(accepting, NULL);
  if (leak && id == 4) {
    left_open = event_new(base, -1, 0, on_tick, NULL); /* @leak */
    event_add(left_open, &hour);
  }
  asyncleak_run_finally(base, goodbye, NULL);
  say("serving");
  (void)!write(ready_fd, "r", 1);
  close(ready_fd);
  event_base_dispatch(base);
  _exit(0);
}

int main(int argc, char **argv) {
  struct sockaddr_in addr = {.sin_family = AF_INET};
  struct event_base *base;
  int listen_fd, ready[2];
  pid_t pids[WORKERS];
  char c;

  leak = argc > 1 && strcmp(argv[1], "leak") == 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  listen_fd = socket(AF_INET, SOCK_STREAM, 0);
  if (listen_fd < 0 ||
      bind(listen_fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
      listen(listen_fd, 16) != 0 || pipe(ready) != 0 ||
      (base = event_base_new()) == NULL)
    return 2;
  for (int i = 0; i < WORKERS; i++) {
    pids[i] = fork();
    if (pids[i] == 0) {
      id = i + 1;
      close(ready[0]);
      worker(base, listen_fd, ready[1]);
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
