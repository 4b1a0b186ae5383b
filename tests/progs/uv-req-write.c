/* A large write over TCP on 127.0.0.1, still in flight when the program
 * stops its loop.
 *
 * [default]: the program exits there: the write is reported as pending,
 * with the stream it was on, beside the handles left open.
 * CHECK: ==[0-9]+==ERROR: asyncleak: 1 request pending at exit$
 * CHECK: ^1 request of type uv_write_t pending, created at:$
 * CHECK: ^    #0 0x[0-9a-f]+ in send_all .*uv-req-write.c:%line(write)$
 * CHECK: ^    #1 0x[0-9a-f]+ in on_connect .*uv-req-write.c:%line(send)$
 * CHECK: ^  0x[0-9a-f]+ on loop 1, thread [0-9]+ \(main\), pending for [0-9.]+ m?s: on uv_tcp_t 0x[0-9a-f]+$
 * CHECK: ^SUMMARY: asyncleak: [0-9]+ handles left open .*; 1 request pending \(1 uv_write_t\) from 1 creation site; 1 of 1 loop not closed$
 * CHECK: ^asyncleak: 1 request\(s\) pending in 1 process\(es\)$
 * CHECK-NOT: uv_connect_t
 * CHECK-NOT: ^write done
 * EXIT: 23
 *
 * [drain]: the program closes its loop instead, with a finalizer
 * registered: the shutdown's drain runs the loop until the write is done
 * (the server reads what it needs), its callback closes both ends, and
 * the close succeeds: nothing is reported.
 * [drain] RUN: drain
 * [drain] CHECK: ^write done: 0$
 * [drain] CHECK: ^close: 0$
 * [drain] CHECK: ^asyncleak: no leaks: 1 loop\(s\), 3 handle\(s\) created, all closed; 2 request\(s\), all completed$
 * [drain] CHECK-NOT: ERROR
 * [drain] EXIT: 0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "asyncleak.h"

#define SIZE (16 * 1024 * 1024)

static uv_loop_t loop;
static uv_tcp_t server, conn, client;
static uv_connect_t connect_req;
static uv_write_t write_req;
static char *data;
static size_t received;
static char storage[65536];

static void alloc_buf(uv_handle_t *h, size_t size, uv_buf_t *buf) {
  (void)h, (void)size;
  *buf = uv_buf_init(storage, sizeof(storage));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  (void)s, (void)buf;
  if (n > 0)
    received += (size_t)n;
}

static void on_connection(uv_stream_t *s, int status) {
  if (status != 0 || uv_tcp_init(s->loop, &conn) != 0 ||
      uv_accept(s, (uv_stream_t *)&conn) != 0)
    abort();
  uv_read_start((uv_stream_t *)&conn, alloc_buf, on_read);
}

static void on_written(uv_write_t *req, int status) {
  printf("write done: %d\n", status);
  fflush(stdout);
  uv_close((uv_handle_t *)req->handle, NULL);
  uv_close((uv_handle_t *)&conn, NULL);
}

static void send_all(uv_stream_t *s) {
  uv_buf_t buf = uv_buf_init(data, SIZE);
  uv_write(&write_req, s, &buf, 1, on_written); /* @write */
}

static void on_connect(uv_connect_t *req, int status) {
  if (status != 0)
    abort();
  send_all(req->handle); /* @send */
  uv_stop(req->handle->loop);
}

/* Makes the loop's shutdown run as the program closes it. */
static void close_server(void *l, void *arg) {
  (void)l, (void)arg;
  uv_close((uv_handle_t *)&server, NULL);
}

int main(int argc, char **argv) {
  struct sockaddr_in addr;
  int len = sizeof(addr);

  data = calloc(1, SIZE);
  uv_loop_init(&loop);
  uv_ip4_addr("127.0.0.1", 0, &addr);
  uv_tcp_init(&loop, &server);
  if (data == NULL ||
      uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0) != 0 ||
      uv_listen((uv_stream_t *)&server, 1, on_connection) != 0 ||
      uv_tcp_getsockname(&server, (struct sockaddr *)&addr, &len) != 0)
    abort();
  uv_tcp_init(&loop, &client);
  uv_tcp_connect(&connect_req, &client, (const struct sockaddr *)&addr,
                 on_connect);
  uv_run(&loop, UV_RUN_DEFAULT);
  if (argc > 1 && !strcmp(argv[1], "drain")) {
    asyncleak_run_finally(&loop, close_server, NULL);
    printf("close: %d\n", uv_loop_close(&loop));
    free(data);
  }
  return 0;
}
