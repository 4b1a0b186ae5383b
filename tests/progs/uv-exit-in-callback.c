/* exit() called from inside a callback, with uv_run on the stack: the
 * report is still written, and the handles' state read while their memory
 * is alive.
 *
 * CHECK: ERROR: asyncleak: 2 handles left open at exit
 * CHECK: ^1 handle of type uv_idle_t, created at:
 * CHECK: #0 0x[0-9a-f]+ in watch_idle .*uv-exit-in-callback.c:%line(idle)$
 * CHECK: active, referenced
 * CHECK: ^1 handle of type uv_timer_t, created at:
 * CHECK: #0 0x[0-9a-f]+ in main .*uv-exit-in-callback.c:%line(timer)$
 * CHECK: inactive, referenced
 * EXIT: 23
 *
 * [clean] RUN: clean
 * [clean] CHECK-NOT: ERROR
 * [clean] EXIT: 0
 */
#include <stdlib.h>
#include <string.h>
#include <uv.h>

static uv_idle_t idle;
static uv_timer_t timer;
static int clean;

static void on_idle(uv_idle_t *h) {
  (void)h;
}

/* libuv runs close callbacks newest first: the idle's comes last. */
static void on_closed(uv_handle_t *h) {
  if (h == (uv_handle_t *)&idle)
    exit(0);
}

static void on_timer(uv_timer_t *t) {
  if (clean) {
    uv_close((uv_handle_t *)&idle, on_closed);
    uv_close((uv_handle_t *)t, on_closed);
    return;
  }
  exit(0);
}

static void watch_idle(uv_loop_t *loop) {
  uv_idle_init(loop, &idle); /* @idle */
  uv_idle_start(&idle, on_idle);
}

int main(int argc, char **argv) {
  uv_loop_t *loop = uv_default_loop();

  clean = argc > 1 && strcmp(argv[1], "clean") == 0;
  watch_idle(loop);
  uv_timer_init(loop, &timer); /* @timer */
  uv_timer_start(&timer, on_timer, 10, 0);
  uv_run(loop, UV_RUN_DEFAULT);
  return 1; /* not reached */
}
