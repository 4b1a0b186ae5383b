/* A prefork server: the master listens on 127.0.0.1, forks four workers
 * and waits for them, running no loop itself. Workers 1 and 2 make a loop
 * of their own; workers 3 and 4 take over the master's default loop with
 * uv_loop_fork. Each accepts on the shared socket and registers a
 * finalizer that closes its server and says goodbye. Once all four are
 * serving, the master is sent SIGTERM, and only the master.
 *
 * With --graceful-signals, the master passes the signal on to its
 * workers: each one's loop stops, its finalizer runs, it drains and
 * writes its report, and the master waits for them before it ends. The
 * run's report covers the five processes, and leaks nothing. Nothing
 * else stops a worker: without the signal passed on, they would serve
 * on after the master's end.
 * [quit]: the negative control without a signal: the master tells the
 * workers to stop through a pipe, each stops its loop and closes it, its
 * finalizer running as it closes, and the master exits.
 * [leak]: as the default, but worker 4 leaves a timer open: its report,
 * written in its graceful shutdown, names it.
 *
 * CLI: --graceful-signals
 * CHECK-COUNT-4: ^worker [1-4]: serving$
 * CHECK-COUNT-4: ^worker [1-4]: goodbye$
 * CHECK: ^worker 1: goodbye$
 * CHECK-NOT: ERROR
 * CHECK-NOT: left no report
 * CHECK: was killed by signal 15 \(SIGTERM: Terminated\)$
 * EXIT: 143
 *
 * [quit] RUN: quit
 * [quit] CLI: --graceful-signals
 * [quit] CHECK-COUNT-4: ^worker [1-4]: goodbye$
 * [quit] CHECK: ^master: all 4 workers exited 0$
 * [quit] CHECK-NOT: ERROR
 * [quit] CHECK: ^asyncleak: no leaks: 5 loop\(s\)
 * [quit] EXIT: 0
 *
 * [leak] RUN: leak
 * [leak] CLI: --graceful-signals
 * [leak] CHECK-COUNT-4: ^worker [1-4]: goodbye$
 * [leak] CHECK: ==[0-9]+==ERROR: asyncleak: 1 handle left open
 * [leak] CHECK: ^1 handle of type uv_timer_t, created at:$
 * [leak] CHECK: #0 0x[0-9a-f]+ in worker .*uv-prefork.c:%line(leak)$
 * [leak] CHECK-COUNT-1: ^1 handle of type uv_timer_t
 * [leak] CHECK-NOT: left no report
 * [leak] CHECK: was killed by signal 15 \(SIGTERM: Terminated\)$
 * [leak] EXIT: 143
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include "asyncleak.h"

#define WORKERS 4

static int id, leak, quitting;
static uv_tcp_t server;
static uv_pipe_t quit;
static uv_timer_t left_open;

static void say(const char *what) {
  char line[64];
  int n = snprintf(line, sizeof(line), "worker %d: %s\n", id, what);
  (void)!write(1, line, (size_t)n);
}

static void on_connection(uv_stream_t *s, int status) {
  uv_tcp_t *c;
  if (status != 0 || (c = malloc(sizeof(*c))) == NULL)
    return;
  uv_tcp_init(s->loop, c);
  if (uv_accept(s, (uv_stream_t *)c) == 0)
    uv_close((uv_handle_t *)c, (uv_close_cb)free);
}

static void goodbye(void *loop, void *arg) {
  (void)loop;
  (void)arg;
  if (!uv_is_closing((uv_handle_t *)&server))
    uv_close((uv_handle_t *)&server, NULL);
  if (!uv_is_closing((uv_handle_t *)&quit))
    uv_close((uv_handle_t *)&quit, NULL);
  say("goodbye");
}

static void on_alloc(uv_handle_t *h, size_t n, uv_buf_t *b) {
  static char buf[16];
  (void)h;
  (void)n;
  *b = uv_buf_init(buf, sizeof(buf));
}

/* The master closed its end: stop serving. */
static void on_quit(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
  (void)b;
  if (n < 0)
    uv_stop(s->loop);
}

static void worker(int listen_fd, int ready_fd, int quit_fd) {
  uv_loop_t own, *loop = &own;

  if (id <= 2) {
    uv_loop_init(&own);
  } else {
    loop = uv_default_loop();
    uv_loop_fork(loop);
  }
  uv_tcp_init(loop, &server);
  uv_tcp_open(&server, listen_fd);
  uv_listen((uv_stream_t *)&server, 16, on_connection);
  /* Only [quit] stops at the master's word: otherwise the master's end,
   * which closes its end of the pipe, must not be what stops a worker. */
  uv_pipe_init(loop, &quit, 0);
  if (quitting) {
    uv_pipe_open(&quit, quit_fd);
    uv_read_start((uv_stream_t *)&quit, on_alloc, on_quit);
  } else {
    close(quit_fd);
    uv_close((uv_handle_t *)&quit, NULL);
  }
  if (leak && id == 4) {
    uv_timer_init(loop, &left_open); /* @leak */
    uv_timer_start(&left_open, NULL, 3600 * 1000, 0);
  }
  asyncleak_run_finally(loop, goodbye, NULL);
  say("serving");
  (void)!write(ready_fd, "r", 1);
  close(ready_fd);
  uv_run(loop, UV_RUN_DEFAULT);
  /* [quit]: the finalizer runs as the loop closes. */
  uv_loop_close(loop);
  exit(0);
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "";
  struct sockaddr_in addr = {.sin_family = AF_INET};
  int listen_fd, ready[2], quit_pipe[2], ok = 0;
  pid_t pids[WORKERS];
  char c;

  setvbuf(stdout, NULL, _IONBF, 0);
  leak = strcmp(mode, "leak") == 0;
  quitting = strcmp(mode, "quit") == 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  listen_fd = socket(AF_INET, SOCK_STREAM, 0);
  if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&addr,
                            sizeof(addr)) != 0 ||
      listen(listen_fd, 16) != 0 || pipe(ready) != 0 || pipe(quit_pipe) != 0)
    return 2;
  /* The loop workers 3 and 4 take over. */
  uv_default_loop();
  for (int i = 0; i < WORKERS; i++) {
    pids[i] = fork();
    if (pids[i] == 0) {
      id = i + 1;
      close(ready[0]);
      close(quit_pipe[1]);
      worker(listen_fd, ready[1], quit_pipe[0]);
    }
  }
  close(ready[1]);
  close(quit_pipe[0]);
  for (int i = 0; i < WORKERS && read(ready[0], &c, 1) == 1; i++)
    ;
  if (strcmp(mode, "quit") == 0) {
    close(quit_pipe[1]);
  } else {
    kill(getpid(), SIGTERM);
  }
  for (int i = 0; i < WORKERS; i++) {
    int status;
    if (waitpid(pids[i], &status, 0) == pids[i] && WIFEXITED(status) &&
        WEXITSTATUS(status) == 0)
      ok++;
  }
  printf("master: all %d workers exited 0\n", ok);
  return 0;
}
