/* The user of a client library never closes its connection. The library's
 * finalizer sends "goodbye" to the server (in this same program) as the
 * loop closes, so the server receives it and the loop closes cleanly. In
 * the [nofinally] run the library registers nothing: no goodbye, and the
 * connection is reported as left open, with the server that still waits
 * for it.
 *
 * CHECK: ^server received: goodbye$
 * CHECK-NOT: ERROR
 * CHECK-NOT: handle of type
 * EXIT: 0
 *
 * [nofinally] RUN: nofinally
 * [nofinally] CHECK-NOT: server received
 * [nofinally] CHECK-NOT: shim/uv.c
 * [nofinally] CHECK: ERROR: asyncleak: 3 handles left open at exit
 * [nofinally] CHECK: #0 0x[0-9a-f]+ in client_open .*libclient.c:[0-9]+$
 * [nofinally] CHECK: inactive, referenced
 * [nofinally] CHECK-NOT: in uv_run shim
 * [nofinally] EXIT: 23
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

int main(int argc, char **argv) {
  uv_loop_t loop;
  struct sockaddr_in addr;
  struct client *c;

  uv_loop_init(&loop);
  server_listen(&loop, &addr);
  c = client_open(&loop, (const struct sockaddr *)&addr,
                  !(argc > 1 && strcmp(argv[1], "nofinally") == 0));
  while (!client_connected(c) || !server_accepted())
    uv_run(&loop, UV_RUN_ONCE);

  /* Shut down, forgetting the client: the server goes when its peer does. */
  if (uv_loop_close(&loop) == UV_EBUSY) {
    uv_run(&loop, UV_RUN_NOWAIT);
    if (uv_loop_close(&loop) != 0)
      exit(0); /* still busy: the client was never closed */
  }
  return 0;
}
