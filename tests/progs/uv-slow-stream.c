/* The slow-callback check for libuv's stream requests: the callbacks of
 * uv_tcp_connect, uv_write and uv_shutdown, which libuv calls from the
 * request's own field, are timed like the others, each named by its call,
 * with the request's creation site and the callback function. The write's
 * callback frees its request, as programs do, and is still found.
 *
 * A client on 127.0.0.1 connects to a server of the same loop, writes,
 * shuts down and closes; the server reads to the end and closes.
 * RUN: slow
 * CLI: --slow-callback=100
 * CHECK: ^received 5$
 * CHECK: WARNING: asyncleak: 3 findings of the debug checks \(not a failure\)
 * CHECK: ^Slow callback: uv_tcp_connect callback on a uv_connect_t held its loop, 1 time, the longest ([3-9]|[1-9][0-9]+)[0-9][0-9] ms, created at:$
 * CHECK: #0 0x[0-9a-f]+ in start_connect .*uv-slow-stream.c:%line(connect)$
 * CHECK: ^  the callback:$
 * CHECK: #0 0x[0-9a-f]+ in connected .*uv-slow-stream.c:%line(connectedcb)$
 * CHECK: ^Slow callback: uv_write callback on a uv_write_t held its loop, 1 time, the longest ([3-9]|[1-9][0-9]+)[0-9][0-9] ms, created at:$
 * CHECK: #0 0x[0-9a-f]+ in start_write .*uv-slow-stream.c:%line(write)$
 * CHECK: ^  the callback:$
 * CHECK: #0 0x[0-9a-f]+ in written .*uv-slow-stream.c:%line(writtencb)$
 * CHECK: ^Slow callback: uv_shutdown callback on a uv_shutdown_t held its loop, 1 time, the longest ([3-9]|[1-9][0-9]+)[0-9][0-9] ms, created at:$
 * CHECK: #0 0x[0-9a-f]+ in start_shutdown .*uv-slow-stream.c:%line(shutdown)$
 * CHECK: ^  the callback:$
 * CHECK: #0 0x[0-9a-f]+ in shut .*uv-slow-stream.c:%line(shutcb)$
 * CHECK: no leaks: 1 loop\(s\)
 * EXIT: 0
 *
 * Off unless asked for.
 * [off] RUN: slow
 * [off] CHECK: ^received 5$
 * [off] CHECK-NOT: Slow callback
 * [off] CHECK-NOT: finding
 * [off] EXIT: 0
 *
 * The negative control: the same, fast.
 * [fast] RUN: fast
 * [fast] CLI: --slow-callback=100 --fail-on-findings
 * [fast] CHECK: ^received 5$
 * [fast] CHECK-NOT: Slow callback
 * [fast] CHECK-NOT: finding
 * [fast] EXIT: 0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

static uv_tcp_t server, client, peer;
static uv_connect_t connect_req;
static uv_shutdown_t shutdown_req;
static int slow;
static size_t received;

static void pause_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
  while (slow && nanosleep(&ts, &ts) != 0)
    ;
}

static void alloc(uv_handle_t *h, size_t size, uv_buf_t *buf) {
  static char space[64];
  (void)h;
  (void)size;
  *buf = uv_buf_init(space, sizeof(space));
}

static void peer_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  (void)buf;
  if (n > 0) {
    received += (size_t)n;
  } else if (n < 0) {
    uv_close((uv_handle_t *)s, NULL);
    uv_close((uv_handle_t *)&server, NULL);
  }
}

static void accepted(uv_stream_t *s, int status) {
  if (status != 0 || uv_tcp_init(s->loop, &peer) != 0 ||
      uv_accept(s, (uv_stream_t *)&peer) != 0)
    exit(1);
  uv_read_start((uv_stream_t *)&peer, alloc, peer_read);
}

static void shut(uv_shutdown_t *req, int status) { /* @shutcb */
  (void)status;
  pause_ms(300);
  uv_close((uv_handle_t *)req->handle, NULL);
}

__attribute__((noinline)) static int start_shutdown(uv_stream_t *s) {
  return uv_shutdown(&shutdown_req, s, shut); /* @shutdown */
}

/* Frees its request, as programs do. */
static void written(uv_write_t *req, int status) { /* @writtencb */
  uv_stream_t *s = req->handle;
  (void)status;
  memset(req, 0, sizeof(*req));
  free(req);
  pause_ms(300);
  if (start_shutdown(s) != 0)
    exit(1);
}

__attribute__((noinline)) static int start_write(uv_stream_t *s) {
  static char hello[] = "hello";
  uv_buf_t buf = uv_buf_init(hello, 5);
  uv_write_t *req = malloc(sizeof(*req));
  return req == NULL ? -1 : uv_write(req, s, &buf, 1, written); /* @write */
}

static void connected(uv_connect_t *req, int status) { /* @connectedcb */
  if (status != 0)
    exit(1);
  pause_ms(300);
  if (start_write(req->handle) != 0)
    exit(1);
}

__attribute__((noinline)) static int start_connect(uv_loop_t *loop,
                                                   const struct sockaddr *a) {
  if (uv_tcp_init(loop, &client) != 0)
    return -1;
  return uv_tcp_connect(&connect_req, &client, a, connected); /* @connect */
}

int main(int argc, char **argv) {
  uv_loop_t *loop = uv_default_loop();
  struct sockaddr_storage bound;
  struct sockaddr_in any;
  int len = sizeof(bound);

  slow = argc < 2 || strcmp(argv[1], "fast") != 0;
  uv_ip4_addr("127.0.0.1", 0, &any);
  if (uv_tcp_init(loop, &server) != 0 ||
      uv_tcp_bind(&server, (const struct sockaddr *)&any, 0) != 0 ||
      uv_listen((uv_stream_t *)&server, 4, accepted) != 0 ||
      uv_tcp_getsockname(&server, (struct sockaddr *)&bound, &len) != 0 ||
      start_connect(loop, (const struct sockaddr *)&bound) != 0)
    return 1;
  uv_run(loop, UV_RUN_DEFAULT);
  printf("received %zu\n", received);
  fflush(stdout);
  return uv_loop_close(loop) != 0;
}
