/* A program with its own copy of libuv, linked from libuv_a.a: its calls
 * never reach the runtime's interposers. With "leak" it leaves a timer
 * open; with "clean" it closes everything. Either way the run must not
 * pass (tests/cli/copies.sh). */
#include <stdio.h>
#include <string.h>
#include <uv.h>

static void on_close(uv_handle_t *h) {
  (void)h;
}

int main(int argc, char **argv) {
  int leak = argc > 1 && !strcmp(argv[1], "leak");
  uv_loop_t loop;
  uv_timer_t timer;

  if (uv_loop_init(&loop) != 0 || uv_timer_init(&loop, &timer) != 0)
    return 1;
  if (leak) {
    puts("leaving a timer open");
    return 0;
  }
  uv_close((uv_handle_t *)&timer, on_close);
  uv_run(&loop, UV_RUN_DEFAULT);
  if (uv_loop_close(&loop) != 0)
    return 1;
  puts("closed everything");
  return 0;
}
