/* A finalizer that does what a library's teardown naturally does: closes
 * every handle, runs the loop until they are closed, closes the loop and
 * frees its memory. Nothing of the shutdown may touch the loop after it
 * (under AddressSanitizer a read of the freed loop is an error), and the
 * close the program asked for is done. RUN: how the shutdown comes: close
 * (the program's uv_loop_close, the default), call (asyncleak_loop_close),
 * delete (a loop of uv_loop_new, given to uv_loop_delete), exit (never
 * closed: at exit).
 *
 * CHECK: ^finalizer: closed 2 handles, loop close 0$
 * CHECK: ^program: close 0$
 * CHECK: no leaks: 1 loop\(s\), 2 handle\(s\) created, all closed$
 * CHECK-NOT: ERROR
 * EXIT: 0
 *
 * [force] CLI: --force-close
 * [force] CHECK: ^finalizer: closed 2 handles, loop close 0$
 * [force] CHECK: ^program: close 0$
 * [force] CHECK-NOT: ERROR
 * [force] CHECK-NOT: by force
 * [force] EXIT: 0
 *
 * [call] RUN: call
 * [call] CLI: --force-close
 * [call] CHECK: ^finalizer: closed 2 handles, loop close 0$
 * [call] CHECK: ^program: close 0$
 * [call] CHECK: no leaks: 1 loop\(s\), 2 handle\(s\) created, all closed$
 * [call] CHECK-NOT: ERROR
 * [call] EXIT: 0
 *
 * [delete] RUN: delete
 * [delete] CHECK: ^finalizer: closed 2 handles, loop close 0$
 * [delete] CHECK: ^program: deleted$
 * [delete] CHECK: no leaks: 1 loop\(s\), 2 handle\(s\) created, all closed$
 * [delete] CHECK-NOT: ERROR
 * [delete] EXIT: 0
 *
 * [exit] RUN: exit
 * [exit] CLI: --force-close
 * [exit] CHECK: ^finalizer: closed 2 handles, loop close 0$
 * [exit] CHECK: no leaks: 1 loop\(s\), 2 handle\(s\) created, all closed$
 * [exit] CHECK-NOT: ERROR
 * [exit] CHECK-NOT: ^program: close
 * [exit] EXIT: 0
 *
 * [freed]: no finalizer; the program frees the loop's memory without
 * closing it. Force leaves it alone at exit: the handles are reported,
 * and nothing crashes.
 * [freed] RUN: freed
 * [freed] CLI: --force-close
 * [freed] CHECK: ERROR: asyncleak: 2 handles left open at exit
 * [freed] CHECK: ^1 handle of type uv_timer_t, created at:
 * [freed] CHECK: #0 0x[0-9a-f]+ in main .*uv-finally-frees-loop.c:%line(timer)$
 * [freed] CHECK-NOT: by force
 * [freed] EXIT: 23
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "asyncleak.h"

static uv_timer_t timer;
static uv_idle_t idle;
static int nclosed;

static void on_timer(uv_timer_t *t) {
  (void)t;
}

static void on_idle(uv_idle_t *h) {
  (void)h;
}

static void close_one(uv_handle_t *h, void *arg) {
  (void)arg;
  if (!uv_is_closing(h)) {
    uv_close(h, NULL);
    nclosed++;
  }
}

static void teardown(void *loop, void *arg) {
  int rc;

  (void)arg;
  uv_walk(loop, close_one, NULL);
  uv_run(loop, UV_RUN_DEFAULT);
  rc = uv_loop_close(loop);
  fprintf(stderr, "finalizer: closed %d handles, loop close %d\n", nclosed,
          rc);
  if (rc == 0) {
    /* Scribbled over, as a reused allocation would be. */
    memset(loop, 0xa5, sizeof(uv_loop_t));
    free(loop);
  }
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "close";
  int delete = strcmp(mode, "delete") == 0;
  uv_loop_t *loop = delete ? uv_loop_new() : malloc(sizeof(*loop));

  if (loop == NULL || (!delete && uv_loop_init(loop) != 0))
    return 1;
  uv_timer_init(loop, &timer); /* @timer */
  uv_timer_start(&timer, on_timer, 60000, 60000);
  uv_idle_init(loop, &idle);
  uv_idle_start(&idle, on_idle);
  uv_run(loop, UV_RUN_NOWAIT);
  if (strcmp(mode, "freed") == 0) {
    free(loop);
    return 0;
  }
  asyncleak_run_finally(loop, teardown, NULL);
  if (strcmp(mode, "close") == 0)
    fprintf(stderr, "program: close %d\n", uv_loop_close(loop));
  else if (strcmp(mode, "call") == 0)
    fprintf(stderr, "program: close %d\n", asyncleak_loop_close(loop));
  else if (delete) {
    uv_loop_delete(loop);
    fprintf(stderr, "program: deleted\n");
  }
  return 0;
}
