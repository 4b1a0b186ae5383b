/* A prefork server on GLib: the master listens on 127.0.0.1, forks four
 * workers and waits for them, running no main context itself. GLib has
 * no way to take a context over after fork: each worker makes a
 * GMainContext of its own, runs a GMainLoop on it, and watches the shared
 * socket with a GSource; its finalizer removes the source and says
 * goodbye. Once all four are serving, the master alone is sent SIGTERM:
 * with --graceful-signals it passes the signal on, each worker's
 * finalizer runs, and the master waits for their reports before it ends.
 * Nothing else stops a worker.
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
#include <glib-unix.h>
#include <glib.h>
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
static GSource *accepting;

static void say(const char *what) {
  char line[64];
  int n = snprintf(line, sizeof(line), "worker %d: %s\n", id, what);
  (void)!write(1, line, (size_t)n);
}

static gboolean on_accept(gint fd, GIOCondition cond, gpointer data) {
  int c = accept(fd, NULL, NULL);
  (void)cond;
  (void)data;
  if (c >= 0)
    close(c);
  return G_SOURCE_CONTINUE;
}

static void goodbye(void *ctx, void *arg) {
  (void)ctx;
  (void)arg;
  g_source_destroy(accepting);
  g_source_unref(accepting);
  say("goodbye");
}

static void worker(int listen_fd, int ready_fd) {
  GMainContext *ctx = g_main_context_new();
  GMainLoop *loop = g_main_loop_new(ctx, FALSE);

  accepting = g_unix_fd_source_new(listen_fd, G_IO_IN);
  g_source_set_callback(accepting, (GSourceFunc)(void (*)(void))on_accept,
                        NULL, NULL);
  g_source_attach(accepting, ctx);
  asyncleak_run_finally(ctx, goodbye, NULL);
  say("serving");
  (void)!write(ready_fd, "r", 1);
  close(ready_fd);
  g_main_loop_run(loop);
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
      listen(listen_fd, 16) != 0 || pipe(ready) != 0)
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
