/* The server the client-library scenarios talk to, in the same program:
 * it prints what it receives, and closes itself when its peer goes. */
#ifndef TEST_SERVER_H_
#define TEST_SERVER_H_

#include <stdio.h>
#include <stdlib.h>
#include <uv.h>

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

/* Listens on 127.0.0.1 at a port of the system's choosing, stored in addr. */
static void server_listen(uv_loop_t *loop, struct sockaddr_in *addr) {
  int len = sizeof(*addr);

  uv_ip4_addr("127.0.0.1", 0, addr);
  uv_tcp_init(loop, &server);
  if (uv_tcp_bind(&server, (const struct sockaddr *)addr, 0) != 0 ||
      uv_listen((uv_stream_t *)&server, 1, on_connection) != 0 ||
      uv_tcp_getsockname(&server, (struct sockaddr *)addr, &len) != 0)
    abort();
}

/* Whether a client connection was accepted. */
static int server_accepted(void) {
  return conn.loop != NULL;
}

#endif
