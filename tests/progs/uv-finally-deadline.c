/* A finalizer whose write can never complete (the peer never reads and its
 * buffer is full) is bounded by drain_timeout_ms: the close goes on, fails
 * with UV_EBUSY, and the report names the finalizer. A close from inside
 * the loop's own callback cannot run finalizers; the report says so.
 *
 * ENV: ASYNCLEAK_OPTIONS=drain_timeout_ms=200
 * CHECK: ^close: -16$
 * CHECK: ERROR: asyncleak: 1 handle left open at exit
 * CHECK: ERROR: asyncleak: 1 request pending at exit
 * CHECK: ^1 handle of type uv_pipe_t, created at:
 * CHECK: ^1 request of type uv_write_t pending, created at:
 * CHECK: ^    #0 0x[0-9a-f]+ in stuck_goodbye .*uv-finally-deadline.c:%line(stuck)$
 * CHECK: pending for [0-9.]+ m?s: on uv_pipe_t 0x[0-9a-f]+$
 * CHECK: ^    its finalizers' work was not done after 200 ms: stuck_goodbye$
 * CHECK: close failed 1 time \(handles open or requests pending\), never closed$
 * EXIT: 23
 *
 * [inside] RUN: inside
 * [inside] CHECK: ^close from callback: -16$
 * [inside] CHECK-NOT: finalizer ran
 * [inside] CHECK: ^    its finalizers did not run: the loop was closed from inside its own callback$
 * [inside] EXIT: 23
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <uv.h>

#include "asyncleak.h"

static uv_pipe_t pipe_h;
static uv_write_t req;
static uv_timer_t timer;
static char chunk[65536];

static void stuck_goodbye(void *loop, void *arg) {
  uv_buf_t buf = uv_buf_init(chunk, sizeof(chunk));
  (void)loop;
  (void)arg;
  fprintf(stderr, "finalizer ran\n");
  /* Fill the socket buffer, then queue a write that cannot finish. */
  while (uv_try_write((uv_stream_t *)&pipe_h, &buf, 1) > 0)
    ;
  uv_write(&req, (uv_stream_t *)&pipe_h, &buf, 1, NULL); /* @stuck */
}

static void on_timer(uv_timer_t *t) {
  fprintf(stderr, "close from callback: %d\n", uv_loop_close(t->loop));
  exit(0);
}

int main(int argc, char **argv) {
  uv_loop_t loop;
  int sv[2];

  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
    return 2;
  uv_loop_init(&loop);
  uv_pipe_init(&loop, &pipe_h, 0);
  uv_pipe_open(&pipe_h, sv[0]);
  asyncleak_run_finally(&loop, stuck_goodbye, NULL);
  if (argc > 1 && strcmp(argv[1], "inside") == 0) {
    uv_timer_init(&loop, &timer);
    uv_timer_start(&timer, on_timer, 1, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
  }
  fprintf(stderr, "close: %d\n", uv_loop_close(&loop));
  exit(0);
}
