/* Two leak sites in a program stripped of every symbol and line: frames
 * are module+offset, yet the two sites have distinct fingerprints, and
 * --gen-suppressions names each by module+offset, never a frame of the C
 * library, the loader or asyncleak. "close" closes both (the negative
 * control). tests/cli/sites.sh feeds the generated lines back.
 *
 * CHECK: ^1 handle of type uv_timer_t, created at:$
 * CHECK: ^    #0 0x[0-9a-f]+ \(uv-stripped\+0x[0-9a-f]+\)$
 * CHECK: ^1 handle of type uv_idle_t, created at:$
 * CHECK: ^    #0 0x[0-9a-f]+ \(uv-stripped\+0x[0-9a-f]+\)$
 * CHECK-NOT: uv-stripped.c
 * EXIT: 23
 *
 * [gen] CLI: --gen-suppressions
 * [gen] CHECK-COUNT-1: ^uv_timer:\^uv-stripped\+0x[0-9a-f]+\$$
 * [gen] CHECK-COUNT-1: ^uv_idle:\^uv-stripped\+0x[0-9a-f]+\$$
 * [gen] CHECK-NOT: ^uv_[a-z]+:.*(libc|ld-linux|libasyncleak|__libc|_start)
 * [gen] EXIT: 23
 *
 * [close] RUN: close
 * [close] CHECK: ^asyncleak: no leaks: 1 loop\(s\), [0-9]+ handle\(s\) created, all closed
 * [close] CHECK-NOT: uv-stripped\+
 * [close] EXIT: 0
 */
#include <string.h>
#include <uv.h>

static uv_timer_t timer;
static uv_idle_t idle;

static void on_close(uv_handle_t *h) {
  (void)h;
}

static void start_timer(uv_loop_t *loop) {
  uv_timer_init(loop, &timer);
}

static void start_idle(uv_loop_t *loop) {
  uv_idle_init(loop, &idle);
}

int main(int argc, char **argv) {
  uv_loop_t *loop = uv_default_loop();

  start_timer(loop);
  start_idle(loop);
  if (argc > 1 && !strcmp(argv[1], "close")) {
    uv_close((uv_handle_t *)&timer, on_close);
    uv_close((uv_handle_t *)&idle, on_close);
  }
  uv_run(loop, UV_RUN_DEFAULT);
  return 0;
}
