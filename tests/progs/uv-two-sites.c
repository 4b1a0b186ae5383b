/* Two timers made by two calls in main, told apart by their fingerprints:
 * "first" leaks the first, "both" leaks both, "none" closes both (the
 * negative control). tests/cli/sites.sh writes a baseline from "first"
 * and checks that it still catches the second, also when the program is
 * built again with its lines moved.
 *
 * RUN: both
 * CHECK: ^1 handle of type uv_timer_t, created at:$
 * CHECK: ^    #0 0x[0-9a-f]+ in main .*uv-two-sites.c:%line(first)$
 * CHECK: ^  fingerprint [0-9a-f]+$
 * CHECK: ^1 handle of type uv_timer_t, created at:$
 * CHECK: ^    #0 0x[0-9a-f]+ in main .*uv-two-sites.c:%line(second)$
 * CHECK: ^  fingerprint [0-9a-f]+$
 * CHECK: ^SUMMARY: asyncleak: 2 handles left open \(2 uv_timer_t\) from 2 creation sites
 * EXIT: 23
 *
 * [first] RUN: first
 * [first] CHECK: in main .*uv-two-sites.c:%line(first)$
 * [first] CHECK-NOT: uv-two-sites.c:%line(second)$
 * [first] EXIT: 23
 *
 * [none] RUN: none
 * [none] CHECK: ^asyncleak: no leaks: 1 loop\(s\), [0-9]+ handle\(s\) created, all closed
 * [none] CHECK-NOT: ERROR
 * [none] CHECK-NOT: fingerprint
 * [none] EXIT: 0
 */
#include <string.h>
#include <uv.h>

static uv_timer_t first, second;

static void on_close(uv_handle_t *h) {
  (void)h;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "both";
  uv_loop_t *loop = uv_default_loop();

  uv_timer_init(loop, &first); /* @first */
  uv_timer_init(loop, &second); /* @second */
  if (!strcmp(mode, "none") || !strcmp(mode, "first"))
    uv_close((uv_handle_t *)&second, on_close);
  if (!strcmp(mode, "none"))
    uv_close((uv_handle_t *)&first, on_close);
  uv_run(loop, UV_RUN_DEFAULT);
  return 0;
}
