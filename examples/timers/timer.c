/* A test program for the build-system examples (docs/build-systems.md).
 *
 *   timer close    starts a timer, closes it when it fires: no leak
 *   timer forget   starts a timer and returns with it open: asyncleak
 *                  fails the test and names start_timer()
 *
 * Either way the program itself exits 0: only asyncleak fails the leak. */
#include <stdio.h>
#include <string.h>
#include <uv.h>

static uv_timer_t timer;

static void on_timeout(uv_timer_t *t) {
  uv_close((uv_handle_t *)t, NULL);
}

static void start_timer(uv_loop_t *loop, int close_it) {
  uv_timer_init(loop, &timer);
  if (close_it)
    uv_timer_start(&timer, on_timeout, 10, 0);
}

int main(int argc, char **argv) {
  if (argc != 2 || (strcmp(argv[1], "close") && strcmp(argv[1], "forget"))) {
    fprintf(stderr, "usage: timer close|forget\n");
    return 2;
  }
  start_timer(uv_default_loop(), !strcmp(argv[1], "close"));
  uv_run(uv_default_loop(), UV_RUN_DEFAULT);
  return 0;
}
