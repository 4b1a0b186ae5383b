/* A library with a loop of its own, made in its constructor and closed by
 * the atexit handler it registers: cleanup that runs after main, and after
 * the executable's own exit handlers. */
#include <stdlib.h>
#include <uv.h>

static uv_loop_t loop;
static uv_timer_t timer;
static int leak;

void svc_leak_at_exit(void);
void svc_leak_at_exit(void) {
  leak = 1;
}

static void svc_stop(void) {
  if (!leak)
    uv_close((uv_handle_t *)&timer, NULL);
  uv_run(&loop, UV_RUN_NOWAIT);
  if (!leak && uv_loop_close(&loop) != 0)
    abort();
}

__attribute__((constructor)) static void svc_start(void) {
  if (uv_loop_init(&loop) != 0 || uv_timer_init(&loop, &timer) != 0)
    abort();
  atexit(svc_stop);
}
