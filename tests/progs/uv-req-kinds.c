/* One request of each remaining kind: getaddrinfo, getnameinfo, random,
 * a pipe connect that fails, a shutdown (of a pipe: its status is the
 * system's), and a write without a callback.
 * Each callback sees its own request, its callback back in its field, and
 * the arguments libuv gave.
 *
 * [default]: the loop runs; everything completes and nothing is reported.
 * CHECK: ^getaddrinfo: 0, own request, own callback, result$
 * CHECK-COUNT-1: ^getnameinfo: 0, own request, own callback, host 127.0.0.1 port 80$
 * CHECK-COUNT-1: ^random: 0, own request, own callback, 16 bytes$
 * CHECK-COUNT-1: ^pipe connect: -2, own request, own callback$
 * CHECK-COUNT-1: ^shutdown: -?[0-9]+, own request, own callback$
 * CHECK: ^close: 0$
 * CHECK: ^asyncleak: no leaks: 1 loop\(s\), 3 handle\(s\) created, all closed; 6 request\(s\), all completed$
 * CHECK-NOT: ERROR
 * EXIT: 0
 *
 * [pending]: the program exits before running its loop: every request is
 * reported with its type, the lookup with its host.
 * [pending] RUN: pending
 * [pending] CHECK: ==[0-9]+==ERROR: asyncleak: 6 requests pending at exit$
 * [pending] CHECK: ^1 request of type uv_getaddrinfo_t pending, created at:$
 * [pending] CHECK: pending for [0-9.]+ m?s: 'localhost'$
 * [pending] CHECK: ^1 request of type uv_getnameinfo_t pending, created at:$
 * [pending] CHECK: ^1 request of type uv_random_t pending, created at:$
 * [pending] CHECK: ^1 request of type uv_connect_t pending, created at:$
 * [pending] CHECK: pending for [0-9.]+ m?s: on uv_pipe_t 0x[0-9a-f]+$
 * [pending] CHECK: ^1 request of type uv_write_t pending, created at:$
 * [pending] CHECK: ^    #0 0x[0-9a-f]+ in start .*uv-req-kinds.c:%line(write)$
 * [pending] CHECK: ^1 request of type uv_shutdown_t pending, created at:$
 * [pending] CHECK: ^SUMMARY: asyncleak: 3 handles left open .*; 6 requests pending \(.*1 uv_getaddrinfo_t.*\) from 6 creation sites
 * [pending] EXIT: 23
 */
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

static uv_loop_t loop;
static uv_getaddrinfo_t gai;
static uv_getnameinfo_t gni;
static uv_random_t rnd;
static uv_connect_t conn;
static uv_shutdown_t shut;
static uv_write_t wr;
static uv_pipe_t client, reader, writer;
static char bytes[16];

static void say(const char *what, int status, const void *req,
                const void *own, int cb_ok, const char *more) {
  printf("%s: %d, %s request, %s callback%s%s\n", what, status,
         req == own ? "own" : "another", cb_ok ? "own" : "not its",
         more[0] ? ", " : "", more);
  fflush(stdout);
}

static void on_gai(uv_getaddrinfo_t *req, int status, struct addrinfo *res) {
  say("getaddrinfo", status, req, &gai, req->cb == on_gai,
      res != NULL ? "result" : "no result");
  uv_freeaddrinfo(res);
}

static void on_gni(uv_getnameinfo_t *req, int status, const char *host,
                   const char *service) {
  char more[128];
  snprintf(more, sizeof(more), "host %s port %s", host, service);
  say("getnameinfo", status, req, &gni, req->getnameinfo_cb == on_gni, more);
}

static void on_random(uv_random_t *req, int status, void *buf, size_t len) {
  char more[32];
  snprintf(more, sizeof(more), "%zu bytes", buf == bytes ? len : 0);
  say("random", status, req, &rnd, req->cb == on_random, more);
}

static void on_connect(uv_connect_t *req, int status) {
  say("pipe connect", status, req, &conn, req->cb == on_connect, "");
  uv_close((uv_handle_t *)&client, NULL);
}

static void on_shutdown(uv_shutdown_t *req, int status) {
  say("shutdown", status, req, &shut, req->cb == on_shutdown, "");
  uv_close((uv_handle_t *)&writer, NULL);
  uv_close((uv_handle_t *)&reader, NULL);
}

static void start(void) {
  struct sockaddr_in addr;
  uv_file fds[2];
  uv_buf_t buf = uv_buf_init("x", 1);

  uv_ip4_addr("127.0.0.1", 80, &addr);
  uv_getaddrinfo(&loop, &gai, on_gai, "localhost", NULL, NULL);
  uv_getnameinfo(&loop, &gni, on_gni, (const struct sockaddr *)&addr,
                 NI_NUMERICHOST | NI_NUMERICSERV);
  uv_random(&loop, &rnd, bytes, sizeof(bytes), 0, on_random);
  uv_pipe_init(&loop, &client, 0);
  uv_pipe_connect(&conn, &client, "/nonexistent/asyncleak.sock", on_connect);
  uv_pipe(fds, 0, 0);
  uv_pipe_init(&loop, &reader, 0);
  uv_pipe_open(&reader, fds[0]);
  uv_pipe_init(&loop, &writer, 0);
  uv_pipe_open(&writer, fds[1]);
  uv_write(&wr, (uv_stream_t *)&writer, &buf, 1, NULL); /* @write */
  uv_shutdown(&shut, (uv_stream_t *)&writer, on_shutdown);
}

int main(int argc, char **argv) {
  uv_loop_init(&loop);
  start();
  if (argc > 1 && !strcmp(argv[1], "pending"))
    return 0;
  uv_run(&loop, UV_RUN_DEFAULT);
  printf("close: %d\n", uv_loop_close(&loop));
  return 0;
}
