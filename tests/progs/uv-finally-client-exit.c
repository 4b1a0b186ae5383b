/* The user of tests/progs/plugin/libclient.c (which registers a finalizer
 * that says goodbye) never closes its loop, and links nothing of
 * asyncleak's itself. [atexit]: it returns from main; the library's
 * finalizer runs at exit, so the server (in this same program) receives
 * the goodbye. [callback]: it calls exit(0) from inside a timer's
 * callback: the finalizer cannot run there (libuv is not re-entrant), and
 * must not: no goodbye, no crash, no hang. tests/cli/linked-only.sh runs
 * both without the asyncleak command as well.
 *
 * [atexit] CHECK: ^server received: goodbye$
 * [atexit] CHECK-COUNT-1: ^server received: goodbye$
 * [atexit] CHECK-NOT: ERROR
 * [atexit] CHECK-NOT: handle of type
 * [atexit] EXIT: 0
 *
 * [callback] RUN: callback
 * [callback] CHECK: ^exit from the timer's callback$
 * [callback] CHECK-NOT: server received
 * [callback] CHECK: ERROR: asyncleak: 4 handles left open at exit$
 * [callback] CHECK: #0 0x[0-9a-f]+ in client_open .*libclient.c:[0-9]+$
 * [callback] CHECK: ^Shutdowns:$
 * [callback] CHECK: ^  loop 1, created in main .*uv-finally-client-exit.c:%line(loop), at exit:$
 * [callback] CHECK: ^    its finalizers did not run: exit was called from inside the loop's own callback$
 * [callback] EXIT: 23
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "plugin/server.h"

struct client;
struct client *client_open(uv_loop_t *loop, const struct sockaddr *addr,
                           int with_finalizer);
int client_connected(const struct client *c);

static uv_timer_t timer;

static void on_timer(uv_timer_t *t) {
  (void)t;
  fprintf(stderr, "exit from the timer's callback\n");
  exit(0);
}

int main(int argc, char **argv) {
  static uv_loop_t loop;
  struct sockaddr_in addr;
  struct client *c;

  uv_loop_init(&loop); /* @loop */
  server_listen(&loop, &addr);
  c = client_open(&loop, (const struct sockaddr *)&addr, 1);
  while (!client_connected(c) || !server_accepted())
    uv_run(&loop, UV_RUN_ONCE);
  uv_timer_init(&loop, &timer);
  if (argc > 1 && strcmp(argv[1], "callback") == 0) {
    uv_timer_start(&timer, on_timer, 1, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    return 1; /* not reached */
  }
  uv_close((uv_handle_t *)&timer, NULL);
  uv_run(&loop, UV_RUN_NOWAIT);
  return 0; /* the loop is never closed */
}
