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

struct client;
struct client *client_open(uv_loop_t *loop, const struct sockaddr *addr,
                           int with_finalizer);
int client_connected(const struct client *c);

static uv_tcp_t server, conn;
static char storage[64];

static void alloc_buf(uv_handle_t *h, size_t size, uv_buf_t *buf) {
  (void)h;
  (void)size;
  *buf = uv_buf_init(storage, sizeof(storage));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  if (n > 0) {
    printf("server received: %.*s\n", (int)n, buf->base);
    fflush(stdout);
  } else if (n < 0) {
    uv_close((uv_handle_t *)s, NULL);
    uv_close((uv_handle_t *)&server, NULL);
  }
}

static void on_connection(uv_stream_t *s, int status) {
  if (status != 0 || uv_tcp_init(s->loop, &conn) != 0 ||
      uv_accept(s, (uv_stream_t *)&conn) != 0)
    abort();
  uv_read_start((uv_stream_t *)&conn, alloc_buf, on_read);
}

int main(int argc, char **argv) {
  uv_loop_t loop;
  struct sockaddr_in addr;
  int len = sizeof(addr);
  struct client *c;

  uv_loop_init(&loop);
  uv_ip4_addr("127.0.0.1", 0, &addr);
  uv_tcp_init(&loop, &server);
  if (uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0) != 0 ||
      uv_listen((uv_stream_t *)&server, 1, on_connection) != 0 ||
      uv_tcp_getsockname(&server, (struct sockaddr *)&addr, &len) != 0)
    abort();
  c = client_open(&loop, (const struct sockaddr *)&addr,
                  !(argc > 1 && strcmp(argv[1], "nofinally") == 0));
  while (!client_connected(c) || conn.loop == NULL)
    uv_run(&loop, UV_RUN_ONCE);

  /* Shut down, forgetting the client: the server goes when its peer does. */
  if (uv_loop_close(&loop) == UV_EBUSY) {
    uv_run(&loop, UV_RUN_NOWAIT);
    if (uv_loop_close(&loop) != 0)
      exit(0); /* still busy: the client was never closed */
  }
  return 0;
}
