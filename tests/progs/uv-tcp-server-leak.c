/* A TCP server left listening. uv_tcp_init tail-calls uv_tcp_init_ex inside
 * libuv: the server must still be one record, and the accepted-connection
 * handles the program closes must not appear.
 *
 * CHECK: ERROR: asyncleak: 1 handle left open at exit
 * CHECK: ^1 handle of type uv_tcp_t, created at:
 * CHECK: #0 0x[0-9a-f]+ in start_server .*uv-tcp-server-leak.c:%line(init)$
 * CHECK: active, referenced
 * CHECK: ^SUMMARY: asyncleak: 1 handle left open \(1 uv_tcp_t\) from 1 creation site; 1 of 1 loop not closed$
 * CHECK-COUNT-1: of type uv_tcp_t
 * EXIT: 23
 *
 * [clean] RUN: clean
 * [clean] CHECK-NOT: ERROR
 * [clean] CHECK-NOT: uv_tcp_t
 * [clean] EXIT: 0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

static uv_tcp_t server;
static uv_tcp_t client;
static uv_connect_t connect_req;
static int accepted;

static void on_close(uv_handle_t *h) {
  free(h);
}

static void on_connection(uv_stream_t *s, int status) {
  uv_tcp_t *conn = malloc(sizeof(*conn));
  if (status != 0 || conn == NULL)
    abort();
  uv_tcp_init(s->loop, conn);
  if (uv_accept(s, (uv_stream_t *)conn) != 0)
    abort();
  accepted = 1;
  uv_close((uv_handle_t *)conn, on_close);
}

static void on_connect(uv_connect_t *req, int status) {
  if (status != 0)
    abort();
  uv_close((uv_handle_t *)req->handle, NULL);
}

static void start_server(uv_loop_t *loop, struct sockaddr_in *bound) {
  struct sockaddr_in addr;
  int len = sizeof(*bound);

  uv_ip4_addr("127.0.0.1", 0, &addr);
  uv_tcp_init(loop, &server); /* @init */
  if (uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0) != 0 ||
      uv_listen((uv_stream_t *)&server, 8, on_connection) != 0 ||
      uv_tcp_getsockname(&server, (struct sockaddr *)bound, &len) != 0)
    abort();
}

int main(int argc, char **argv) {
  uv_loop_t *loop = uv_default_loop();
  struct sockaddr_in bound;

  start_server(loop, &bound);
  uv_tcp_init(loop, &client);
  uv_tcp_connect(&connect_req, &client, (const struct sockaddr *)&bound,
                 on_connect);
  while (!accepted)
    uv_run(loop, UV_RUN_ONCE);
  if (argc > 1 && strcmp(argv[1], "clean") == 0) {
    uv_close((uv_handle_t *)&server, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    if (uv_loop_close(loop) != 0)
      abort();
  } else {
    uv_run(loop, UV_RUN_NOWAIT);
  }
  return 0;
}
