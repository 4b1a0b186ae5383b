/* A plugin that brings libuv with it: the program that dlopen()s it with
 * RTLD_LOCAL does not link libuv, so libuv is not in the global scope. */
#include <stdlib.h>
#include <uv.h>

static uv_loop_t *loop;
static uv_timer_t timer;

void plugin_start(void);
void plugin_stop(void);

void plugin_start(void) {
  loop = malloc(sizeof(*loop));
  if (loop == NULL || uv_loop_init(loop) != 0)
    abort();
  uv_timer_init(loop, &timer); /* the leak the report must name */
  uv_run(loop, UV_RUN_NOWAIT);
}

void plugin_stop(void) {
  uv_close((uv_handle_t *)&timer, NULL);
  uv_run(loop, UV_RUN_DEFAULT);
  if (uv_loop_close(loop) != 0)
    abort();
  free(loop);
}
