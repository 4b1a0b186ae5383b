/* A library's resource (a "connection" wrapping a TCP handle) registered
 * with asyncleak_ensure_closure. [closed]: the program closes it itself:
 * the close function is never called and nothing is reported.
 * [unclosed]: the program forgets it; the shutdown, as the program closes
 * the loop, calls the close function on the live loop, so the loop closes
 * (0) and no handle is left open; the report warns, naming the close
 * function and where the resource was registered, and the run still
 * passes. [atexit]: the same for a loop never closed, at exit. [verbose]:
 * the [unclosed] shutdown, said with verbosity=1. *
 * [closed] CHECK: ^program closes the connection$
 * [closed] CHECK: ^close: 0$
 * [closed] CHECK-NOT: conn_close called
 * [closed] CHECK-NOT: ERROR
 * [closed] CHECK-NOT: WARNING
 * [closed] CHECK-NOT: warning
 * [closed] CHECK-NOT: ensure_closure
 * [closed] EXIT: 0
 *
 * [unclosed] RUN: unclosed
 * [unclosed] CHECK: ^conn_close called$
 * [unclosed] CHECK: ^close: 0$
 * [unclosed] CHECK-COUNT-1: ^conn_close called$
 * [unclosed] CHECK: ==[0-9]+==WARNING: asyncleak: 1 resource left open, closed at shutdown by asyncleak_ensure_closure$
 * [unclosed] CHECK: ^1 resource left open, closed at shutdown by conn_close, registered with asyncleak_ensure_closure at:$
 * [unclosed] CHECK: ^    #0 0x[0-9a-f]+ in conn_open .*uv-finally-ensure.c:%line(register)$
 * [unclosed] CHECK: ^    #1 0x[0-9a-f]+ in main .*uv-finally-ensure.c:%line(open)$
 * [unclosed] CHECK: ^  0x[0-9a-f]+ on loop 1$
 * [unclosed] CHECK: ^asyncleak: no leaks: 1 loop\(s\), 1 handle\(s\) created, all closed$
 * [unclosed] CHECK: ^asyncleak: warning: 1 resource\(s\) were closed at shutdown by asyncleak_ensure_closure$
 * [unclosed] CHECK-NOT: ERROR
 * [unclosed] CHECK-NOT: left open at exit
 * [unclosed] CHECK-NOT: handle of type
 * [unclosed] CHECK-NOT: Shutdowns
 * [unclosed] EXIT: 0
 *
 * [atexit] RUN: atexit
 * [atexit] CHECK: ^conn_close called$
 * [atexit] CHECK: WARNING: asyncleak: 1 resource left open, closed at shutdown by asyncleak_ensure_closure$
 * [atexit] CHECK: ^1 resource left open, closed at shutdown by conn_close, registered with asyncleak_ensure_closure at:$
 * [atexit] CHECK: ^    #0 0x[0-9a-f]+ in conn_open .*uv-finally-ensure.c:%line(register)$
 * [atexit] CHECK: ^asyncleak: warning: 1 resource\(s\) were closed at shutdown by asyncleak_ensure_closure$
 * [atexit] CHECK-NOT: ERROR
 * [atexit] CHECK-NOT: handle of type
 * [atexit] EXIT: 0
 *
 * (many) 200 registrations, all but one closed by the program: the
 * registrations forget the closed ones as they go, and only the one left
 * open is closed and reported.
 * [many] RUN: many
 * [many] CHECK: ^close: 0$
 * [many] CHECK-COUNT-1: ^conn_close called$
 * [many] CHECK: WARNING: asyncleak: 1 resource left open, closed at shutdown by asyncleak_ensure_closure$
 * [many] CHECK: ^1 resource left open, closed at shutdown by conn_close, registered with asyncleak_ensure_closure at:$
 * [many] CHECK: ^    #0 0x[0-9a-f]+ in conn_open .*uv-finally-ensure.c:%line(register)$
 * [many] CHECK: ^    #1 0x[0-9a-f]+ in main .*uv-finally-ensure.c:%line(many)$
 * [many] CHECK: ^asyncleak: no leaks: 1 loop\(s\), 200 handle\(s\) created, all closed$
 * [many] CHECK: ^asyncleak: warning: 1 resource\(s\) were closed at shutdown by asyncleak_ensure_closure$
 * [many] CHECK-NOT: ERROR
 * [many] EXIT: 0
 *
 * [verbose] RUN: unclosed
 * [verbose] ENV: ASYNCLEAK_OPTIONS=verbosity=1
 * [verbose] CHECK: ^  loop 1, created in main .*uv-finally-ensure.c:%line(loop), as the program closed it:$
 * [verbose] CHECK: ^    finalizers run: conn_close$
 * [verbose] CHECK: ^    1 handle open when it began: 1 closed by a finalizer, 0 closed by the program, 0 closed by force, 0 still open$
 * [verbose] CHECK-NOT: ERROR
 * [verbose] EXIT: 0
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "asyncleak.h"

/* The library. */
struct conn {
  uv_tcp_t tcp;
  int closing;
};

static int conn_is_closed(void *resource) {
  struct conn *c = resource;
  return c->closing;
}

static void conn_close(void *resource) {
  struct conn *c = resource;
  fprintf(stderr, "conn_close called\n");
  if (!c->closing) {
    c->closing = 1;
    uv_close((uv_handle_t *)&c->tcp, NULL);
  }
}

/* What the program should call. */
static void conn_release(struct conn *c) {
  c->closing = 1;
  uv_close((uv_handle_t *)&c->tcp, NULL);
}

static struct conn *conn_open(uv_loop_t *loop) {
  struct conn *c = calloc(1, sizeof(*c));
  if (c == NULL || uv_tcp_init(loop, &c->tcp) != 0)
    abort();
  if (asyncleak_ensure_closure(loop, c, conn_is_closed, conn_close) != 0) /* @register */
    abort();
  return c;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "";
  static uv_loop_t loop;
  struct conn *c;

  uv_loop_init(&loop); /* @loop */
  if (strcmp(mode, "many") == 0) {
    struct conn *kept = NULL;
    for (int i = 0; i < 200; i++) {
      c = conn_open(&loop); /* @many */
      if (i == 100)
        kept = c; /* forgotten */
      else
        conn_release(c); /* never freed: the registry may still ask */
      uv_run(&loop, UV_RUN_NOWAIT);
    }
    fprintf(stderr, "close: %d\n", uv_loop_close(&loop));
    free(kept);
    return 0;
  }
  c = conn_open(&loop); /* @open */
  uv_run(&loop, UV_RUN_NOWAIT);
  if (strcmp(mode, "atexit") == 0)
    return 0; /* the loop is never closed */
  if (strcmp(mode, "unclosed") != 0) {
    fprintf(stderr, "program closes the connection\n");
    conn_release(c);
    uv_run(&loop, UV_RUN_DEFAULT);
  }
  fprintf(stderr, "close: %d\n", uv_loop_close(&loop));
  free(c);
  return 0;
}
