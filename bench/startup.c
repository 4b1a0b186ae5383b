/* startup: a program with one loop and one handle, run whole many times to
 * see what loading the runtime adds to a program's start and exit. */
#include <uv.h>

static void on_timer(uv_timer_t *t) {
  uv_close((uv_handle_t *)t, NULL);
}

int main(void) {
  uv_loop_t *loop = uv_default_loop();
  uv_timer_t timer;

  if (uv_timer_init(loop, &timer) != 0 ||
      uv_timer_start(&timer, on_timer, 0, 0) != 0)
    return 1;
  uv_run(loop, UV_RUN_DEFAULT);
  return uv_loop_close(loop) == 0 ? 0 : 1;
}
