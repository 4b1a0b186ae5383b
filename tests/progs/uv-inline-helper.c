/* A helper inlined into main at -O2 -g: its frame is named from the debug
 * information, at its own line, and main follows at the line of the call,
 * both at the same pc. "close" closes the timer (the negative control).
 * tests/cli/sites.sh checks the JSON report's frames.
 *
 * CHECK: ^1 handle of type uv_timer_t, created at:$
 * CHECK: ^    #0 (0x[0-9a-f]+) in make_timer .*uv-inline-helper.c:%line(init) \(inlined\)$
 * CHECK: ^    #1 0x[0-9a-f]+ in main .*uv-inline-helper.c:%line(call)$
 * CHECK-NOT: in main .*uv-inline-helper.c:%line(call) \(inlined\)$
 * EXIT: 23
 *
 * [close] RUN: close
 * [close] CHECK: ^asyncleak: no leaks: 1 loop\(s\), [0-9]+ handle\(s\) created, all closed
 * [close] CHECK-NOT: make_timer
 * [close] EXIT: 0
 */
#include <string.h>
#include <uv.h>

static uv_timer_t timer;

static inline __attribute__((always_inline)) void make_timer(uv_loop_t *l) {
  uv_timer_init(l, &timer); /* @init */
}

static void on_close(uv_handle_t *h) {
  (void)h;
}

int main(int argc, char **argv) {
  uv_loop_t *loop = uv_default_loop();

  make_timer(loop); /* @call */
  if (argc > 1 && !strcmp(argv[1], "close"))
    uv_close((uv_handle_t *)&timer, on_close);
  uv_run(loop, UV_RUN_DEFAULT);
  return 0;
}
