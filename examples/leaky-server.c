/* A small libuv program with a shutdown bug, for `make demo`.
 *
 * It serves one echo connection on 127.0.0.1, then shuts down: it closes the
 * server and the connection, but forgets the two statistics timers that
 * start_stats_timers() created, so uv_loop_close() fails with UV_EBUSY and
 * the program exits with them still open. asyncleak names that function,
 * its file and line. */
#include <stdio.h>
#include <stdlib.h>
#include <uv.h>

static uv_tcp_t server, client, conn;
static uv_connect_t connect_req;
static uv_write_t write_req;
static uv_timer_t stats[2];

static void on_stats(uv_timer_t *t) {
  (void)t;
}

static void start_stats_timers(uv_loop_t *loop) {
  for (int i = 0; i < 2; i++) {
    uv_timer_init(loop, &stats[i]);
    uv_timer_start(&stats[i], on_stats, 1000, 1000);
  }
}

static void alloc_buf(uv_handle_t *h, size_t size, uv_buf_t *buf) {
  static char storage[256];
  (void)h;
  (void)size;
  *buf = uv_buf_init(storage, sizeof(storage));
}

static void on_echo(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  (void)buf;
  if (n < 0 || n > 0) {
    /* One message is all this demo serves: shut down. */
    uv_close((uv_handle_t *)s, NULL);
    uv_close((uv_handle_t *)&server, NULL);
    uv_close((uv_handle_t *)&client, NULL);
  }
}

static void on_connection(uv_stream_t *s, int status) {
  if (status != 0)
    abort();
  uv_tcp_init(s->loop, &conn);
  if (uv_accept(s, (uv_stream_t *)&conn) != 0)
    abort();
  uv_read_start((uv_stream_t *)&conn, alloc_buf, on_echo);
}

static void on_connect(uv_connect_t *req, int status) {
  static char hello[] = "hello";
  uv_buf_t buf = uv_buf_init(hello, sizeof(hello) - 1);
  if (status != 0)
    abort();
  uv_write(&write_req, req->handle, &buf, 1, NULL);
}

int main(void) {
  uv_loop_t *loop = uv_default_loop();
  struct sockaddr_in addr;
  int len = sizeof(addr);

  uv_ip4_addr("127.0.0.1", 0, &addr);
  uv_tcp_init(loop, &server);
  uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0);
  uv_listen((uv_stream_t *)&server, 8, on_connection);
  uv_tcp_getsockname(&server, (struct sockaddr *)&addr, &len);
  start_stats_timers(loop);

  uv_tcp_init(loop, &client);
  uv_tcp_connect(&connect_req, &client, (const struct sockaddr *)&addr,
                 on_connect);
  while (uv_run(loop, UV_RUN_ONCE) && !uv_is_closing((uv_handle_t *)&server))
    ;
  uv_run(loop, UV_RUN_NOWAIT);
  if (uv_loop_close(loop) == UV_EBUSY)
    printf("leaky-server: loop still busy at shutdown\n");
  return 0;
}
