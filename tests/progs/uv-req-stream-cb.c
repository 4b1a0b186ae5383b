/* While a stream request is pending, its callback field holds the
 * program's own callback, as it would without asyncleak: a TCP connect
 * to a listener on 127.0.0.1, a write, a write2 and a shutdown are
 * started, and each field is compared with the program's callback as the
 * call returns, in the callback, and after the loop ran.
 *
 * [default]: the loop runs; the server reads until the end of the stream,
 * every request completes and nothing is reported.
 * CHECK-COUNT-4: ^started: [a-z2]+ own callback$
 * CHECK-COUNT-1: ^in callback: connect 0 own callback$
 * CHECK-COUNT-1: ^in callback: write 0 own callback$
 * CHECK-COUNT-1: ^in callback: write2 0 own callback$
 * CHECK-COUNT-1: ^in callback: shutdown 0 own callback$
 * CHECK-COUNT-4: ^after: [a-z2]+ own callback$
 * CHECK: ^server read 10 bytes$
 * CHECK: ^close: 0$
 * CHECK: ^asyncleak: no leaks: 1 loop\(s\), 3 handle\(s\) created, all closed; 4 request\(s\), all completed$
 * CHECK-NOT: not its callback
 * CHECK-NOT: ERROR
 * EXIT: 0
 *
 * [pending]: the program exits without running its loop again: a write
 * of 8 MiB to a socket nobody reads, the shutdown queued behind it and a
 * connect the loop never ran are reported, each with its type and where
 * it was made; their fields still hold the program's callbacks.
 * [pending] RUN: pending
 * [pending] CHECK-COUNT-3: ^started: [a-z]+ own callback$
 * [pending] CHECK: ==[0-9]+==ERROR: asyncleak: 3 requests pending at exit$
 * [pending] CHECK: ^1 request of type uv_connect_t pending, created at:$
 * [pending] CHECK: ^    #0 0x[0-9a-f]+ in leave_pending .*uv-req-stream-cb.c:%line(connect)$
 * [pending] CHECK: pending for [0-9.]+ m?s: on uv_tcp_t 0x[0-9a-f]+$
 * [pending] CHECK: ^1 request of type uv_write_t pending, created at:$
 * [pending] CHECK: ^    #0 0x[0-9a-f]+ in leave_pending .*uv-req-stream-cb.c:%line(bigwrite)$
 * [pending] CHECK: pending for [0-9.]+ m?s: on uv_pipe_t 0x[0-9a-f]+$
 * [pending] CHECK: ^1 request of type uv_shutdown_t pending, created at:$
 * [pending] CHECK: ^    #0 0x[0-9a-f]+ in leave_pending .*uv-req-stream-cb.c:%line(shutdown)$
 * [pending] CHECK: ^SUMMARY: asyncleak: 4 handles left open .*; 3 requests pending .* from 3 creation sites
 * [pending] CHECK-NOT: not its callback
 * [pending] CHECK-NOT: in callback
 * [pending] EXIT: 23
 *
 * [stress]: 100000 small writes, 64 at a time, each request started
 * again from its callback, are read back from the other end of a socket
 * pair. The runtime forgets completed writes as more are started:
 * its memory does not grow with their number, and nothing is reported.
 * (A sanitizer's allocator keeps freed memory a while: resident memory
 * then tells nothing; tests/unit/test-settle.c counts the records.)
 * [stress] RUN: stress
 * [stress] SANITIZED: skip
 * [stress] CHECK: ^stress: 100000 writes, 800000 bytes read, every callback its own$
 * [stress] CHECK: ^stress: memory bounded$
 * [stress] CHECK: ^close: 0$
 * [stress] CHECK: ^asyncleak: no leaks: 1 loop\(s\), 2 handle\(s\) created, all closed; 100000 request\(s\), all completed$
 * [stress] CHECK-NOT: ERROR
 * [stress] EXIT: 0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

static uv_loop_t loop;
static uv_tcp_t server, conn, client;
static uv_pipe_t ends[2];
static uv_connect_t connect_req;
static uv_write_t w1, w2;
static uv_shutdown_t shut;
static char storage[65536];
static size_t received;

static void on_connect(uv_connect_t *req, int status);
static void on_write(uv_write_t *req, int status);
static void on_shutdown(uv_shutdown_t *req, int status);

static const char *own(int same) {
  return same ? "own callback" : "not its callback";
}

static void said(const char *when, const char *what, int same) {
  printf("%s: %s %s\n", when, what, own(same));
  fflush(stdout);
}

static void fields(const char *when) {
  said(when, "connect", connect_req.cb == on_connect);
  said(when, "write", w1.cb == on_write);
  said(when, "write2", w2.cb == on_write);
  said(when, "shutdown", shut.cb == on_shutdown);
}

static void alloc_buf(uv_handle_t *h, size_t size, uv_buf_t *buf) {
  (void)h, (void)size;
  *buf = uv_buf_init(storage, sizeof(storage));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  (void)buf;
  if (n > 0) {
    received += (size_t)n;
  } else if (n < 0) {
    printf("server read %zu bytes\n", received);
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

static void on_write(uv_write_t *req, int status) {
  char what[32];
  snprintf(what, sizeof(what), "%s %d", req == &w1 ? "write" : "write2",
           status);
  said("in callback", what, req->cb == on_write);
}

static void on_shutdown(uv_shutdown_t *req, int status) {
  char what[32];
  snprintf(what, sizeof(what), "shutdown %d", status);
  said("in callback", what, req->cb == on_shutdown);
  uv_close((uv_handle_t *)req->handle, NULL);
}

static void on_connect(uv_connect_t *req, int status) {
  static char hello[] = "hello";
  uv_buf_t buf = uv_buf_init(hello, 5);
  char what[32];

  snprintf(what, sizeof(what), "connect %d", status);
  said("in callback", what, req->cb == on_connect);
  if (status != 0)
    abort();
  uv_write(&w1, req->handle, &buf, 1, on_write);
  said("started", "write", w1.cb == on_write);
  uv_write2(&w2, req->handle, &buf, 1, NULL, on_write);
  said("started", "write2", w2.cb == on_write);
  uv_shutdown(&shut, req->handle, on_shutdown);
  said("started", "shutdown", shut.cb == on_shutdown);
}

static void listen_here(struct sockaddr_in *addr) {
  int len = sizeof(*addr);

  uv_ip4_addr("127.0.0.1", 0, addr);
  uv_tcp_init(&loop, &server);
  if (uv_tcp_bind(&server, (const struct sockaddr *)addr, 0) != 0 ||
      uv_listen((uv_stream_t *)&server, 1, on_connection) != 0 ||
      uv_tcp_getsockname(&server, (struct sockaddr *)addr, &len) != 0)
    abort();
}

/* Two ends of a socket pair, as libuv pipes. */
static void pair(void) {
  int fds[2];

  if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0 ||
      uv_pipe_init(&loop, &ends[0], 0) != 0 ||
      uv_pipe_init(&loop, &ends[1], 0) != 0 ||
      uv_pipe_open(&ends[0], fds[0]) != 0 ||
      uv_pipe_open(&ends[1], fds[1]) != 0)
    abort();
}

static void leave_pending(void) {
  struct sockaddr_in addr;
  size_t size = 8u << 20;
  uv_buf_t buf = uv_buf_init(calloc(1, size), (unsigned)size);

  if (buf.base == NULL)
    abort();
  listen_here(&addr);
  uv_tcp_init(&loop, &client);
  uv_tcp_connect(&connect_req, &client, /* @connect */
                 (const struct sockaddr *)&addr, on_connect);
  said("started", "connect", connect_req.cb == on_connect);
  pair();
  uv_write(&w1, (uv_stream_t *)&ends[0], &buf, 1, on_write); /* @bigwrite */
  said("started", "write", w1.cb == on_write);
  uv_shutdown(&shut, (uv_stream_t *)&ends[0], on_shutdown); /* @shutdown */
  said("started", "shutdown", shut.cb == on_shutdown);
  /* libuv wrote what the socket's buffer takes at once; the rest of the
   * write stays queued, and the shutdown behind it. */
}

/* ------------------------------------------------------------- stress */

#define WRITES 100000
#define AT_ONCE 64

static int started, done, strangers;
static uv_write_t pool[AT_ONCE];

static void stress_write(uv_write_t *req);

static void on_stress_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  (void)s, (void)buf;
  if (n > 0)
    received += (size_t)n;
  if (received == (size_t)WRITES * 8) {
    uv_close((uv_handle_t *)&ends[0], NULL);
    uv_close((uv_handle_t *)&ends[1], NULL);
  }
}

static void on_stress_write(uv_write_t *req, int status) {
  if (req->cb != on_stress_write || status != 0)
    strangers++;
  done++;
  if (started < WRITES)
    stress_write(req); /* the same request, started again */
}

static void stress_write(uv_write_t *req) {
  static char eight[8] = "eightby";
  uv_buf_t buf = uv_buf_init(eight, sizeof(eight));

  if (uv_write(req, (uv_stream_t *)&ends[0], &buf, 1, on_stress_write) != 0)
    abort();
  started++;
}

/* Resident pages: the runtime's records are in mapped memory of its own,
 * which a leak of them would grow. */
static long resident(void) {
  long size = 0, pages = 0;
  FILE *f = fopen("/proc/self/statm", "r");

  if (f == NULL || fscanf(f, "%ld %ld", &size, &pages) != 2)
    abort();
  fclose(f);
  return pages;
}

static void stress(void) {
  long before;

  pair();
  uv_read_start((uv_stream_t *)&ends[1], alloc_buf, on_stress_read);
  while (started < AT_ONCE)
    stress_write(&pool[started]);
  /* Until the runtime has made its first slabs and its stack depot. */
  while (done < 1000)
    uv_run(&loop, UV_RUN_ONCE);
  before = resident();
  uv_run(&loop, UV_RUN_DEFAULT);
  printf("stress: %d writes, %zu bytes read, %s\n", done, received,
         strangers ? "some callback not its own" : "every callback its own");
  /* Without forgetting them, 100000 writes leave 11 MB of records. */
  printf("stress: memory %s\n",
         (resident() - before) * sysconf(_SC_PAGESIZE) < (4l << 20)
             ? "bounded"
             : "grows with the writes");
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "";
  struct sockaddr_in addr;

  uv_loop_init(&loop);
  if (!strcmp(mode, "pending")) {
    leave_pending();
    return 0;
  }
  if (!strcmp(mode, "stress")) {
    stress();
  } else {
    listen_here(&addr);
    uv_tcp_init(&loop, &client);
    uv_tcp_connect(&connect_req, &client, (const struct sockaddr *)&addr,
                   on_connect);
    said("started", "connect", connect_req.cb == on_connect);
    uv_run(&loop, UV_RUN_DEFAULT);
    fields("after");
  }
  printf("close: %d\n", uv_loop_close(&loop));
  return 0;
}
