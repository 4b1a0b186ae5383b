/* A server for tests/cli/graceful.sh: a TCP server on 127.0.0.1 and a
 * repeating timer, which would run until killed. Its finalizer says
 * "finalizer ran" and closes both. It prints "ready PID" on stdout once
 * listening. Modes (first argument):
 *   leak   the finalizer leaves the timer open;
 *   hang   a timer protected with asyncleak_shutdown_waits_for is never
 *          closed, so that the shutdown's drain lasts drain_timeout_ms.
 * Whatever happens, it is gone after 10 seconds (SIGALRM).
 * No expectations here: the shell test sends the signals.
 *
 * RUN-BY: tests/cli/graceful.sh
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "asyncleak.h"

static uv_loop_t loop;
static uv_tcp_t server;
static uv_timer_t tick, stuck;
static int leak;

static void on_tick(uv_timer_t *t) {
  (void)t;
}

static void on_connection(uv_stream_t *s, int status) {
  (void)s;
  (void)status;
}

static void goodbye(void *l, void *arg) {
  (void)l;
  (void)arg;
  fprintf(stderr, "finalizer ran\n");
  uv_close((uv_handle_t *)&server, NULL);
  if (!leak)
    uv_close((uv_handle_t *)&tick, NULL);
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "";
  struct sockaddr_in addr;

  alarm(10);
  leak = strcmp(mode, "leak") == 0;
  uv_loop_init(&loop);
  uv_ip4_addr("127.0.0.1", 0, &addr);
  uv_tcp_init(&loop, &server);
  if (uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0) != 0 ||
      uv_listen((uv_stream_t *)&server, 8, on_connection) != 0)
    return 2;
  uv_timer_init(&loop, &tick); /* @tick */
  uv_timer_start(&tick, on_tick, 10, 10);
  if (strcmp(mode, "hang") == 0) {
    uv_timer_init(&loop, &stuck);
    if (asyncleak_shutdown_waits_for(&loop, &stuck) != 0)
      return 2;
  }
  if (asyncleak_run_finally(&loop, goodbye, NULL) != 0)
    return 2;
  printf("ready %d\n", (int)getpid());
  fflush(stdout);
  uv_run(&loop, UV_RUN_DEFAULT);
  fprintf(stderr, "loop returned\n");
  fprintf(stderr, "close: %d\n", uv_loop_close(&loop));
  return 0;
}
