/* A libuv program built with AddressSanitizer (tests/cli/asan-program.sh):
 * it leaves a timer open, with "clean" closes it, with "overflow" reads
 * past the end of a heap block. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

int main(int argc, char **argv) {
  static uv_timer_t timer;
  uv_loop_t *loop = uv_default_loop();

  uv_timer_init(loop, &timer);
  if (argc > 1 && !strcmp(argv[1], "clean"))
    uv_close((uv_handle_t *)&timer, NULL);
  if (argc > 1 && !strcmp(argv[1], "overflow")) {
    volatile char *block = malloc(8);
    printf("read: %d\n", block[8]);
  }
  uv_run(loop, UV_RUN_DEFAULT);
  printf("close: %d\n", uv_loop_close(loop));
  return 0;
}
