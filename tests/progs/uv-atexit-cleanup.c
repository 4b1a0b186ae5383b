/* The program registers its teardown with atexit() before it first runs
 * its loop, as pgbouncer does: the teardown closes its handles, runs the
 * loop until they are closed and closes the loop. asyncleak's own work at
 * exit is registered later, so it runs first: it must leave the handles
 * to the program, with --force-close too.
 *
 * CHECK: ^teardown: close 0$
 * CHECK: no leaks: 1 loop\(s\), 2 handle\(s\) created, all closed$
 * CHECK-NOT: ERROR
 * EXIT: 0
 *
 * [force] CLI: --force-close
 * [force] CHECK: ^teardown: close 0$
 * [force] CHECK: no leaks: 1 loop\(s\), 2 handle\(s\) created, all closed$
 * [force] CHECK-NOT: ERROR
 * [force] CHECK-NOT: by force
 * [force] EXIT: 0
 *
 * [noclose]: the teardown only asks for the closes and does not run the
 * loop again: they are closing, not a failure, with force or without.
 * [noclose] CLI: --force-close
 * [noclose] RUN: noclose
 * [noclose] CHECK: WARNING: asyncleak: 2 handles closing at exit
 * [noclose] CHECK: ^1 handle of type uv_timer_t closing, created at:
 * [noclose] CHECK: #0 0x[0-9a-f]+ in main .*uv-atexit-cleanup.c:%line(timer)$
 * [noclose] CHECK: ^1 handle of type uv_tcp_t closing, created at:
 * [noclose] CHECK-NOT: ERROR
 * [noclose] CHECK-NOT: by force
 * [noclose] EXIT: 0
 *
 * [leak]: the teardown forgets the TCP handle: it alone is reported, left
 * open, and force leaves it to the program.
 * [leak] CLI: --force-close
 * [leak] RUN: leak
 * [leak] CHECK: ERROR: asyncleak: 1 handle left open at exit
 * [leak] CHECK: ^1 handle of type uv_tcp_t, created at:
 * [leak] CHECK: #0 0x[0-9a-f]+ in main .*uv-atexit-cleanup.c:%line(tcp)$
 * [leak] CHECK: ^Force mode left these to the program
 * [leak] CHECK-NOT: by force
 * [leak] EXIT: 23
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

static uv_loop_t loop;
static uv_timer_t timer;
static uv_tcp_t tcp;
static const char *mode = "";

static void on_timer(uv_timer_t *t) {
  (void)t;
}

static void teardown(void) {
  uv_close((uv_handle_t *)&timer, NULL);
  if (strcmp(mode, "leak") != 0)
    uv_close((uv_handle_t *)&tcp, NULL);
  if (strcmp(mode, "noclose") == 0)
    return;
  uv_run(&loop, UV_RUN_DEFAULT);
  fprintf(stderr, "teardown: close %d\n", uv_loop_close(&loop));
}

int main(int argc, char **argv) {
  mode = argc > 1 ? argv[1] : "";
  uv_loop_init(&loop);
  uv_timer_init(&loop, &timer); /* @timer */
  uv_timer_start(&timer, on_timer, 60000, 60000);
  uv_tcp_init(&loop, &tcp); /* @tcp */
  atexit(teardown);
  uv_run(&loop, UV_RUN_NOWAIT);
  return 0;
}
