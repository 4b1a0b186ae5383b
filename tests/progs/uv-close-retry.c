/* uv_loop_close fails with UV_EBUSY, the program closes its handles, runs
 * the loop and closes it again, as luv and neovim do: no report. In the
 * [leak] run one handle is never closed, so the close keeps failing and the
 * report says so.
 *
 * CHECK-NOT: ERROR
 * CHECK-NOT: handle of type
 * EXIT: 0
 *
 * [leak] RUN: leak
 * [leak] CHECK: ERROR: asyncleak: 1 handle left open at exit
 * [leak] CHECK: ^1 handle of type uv_check_t, created at:
 * [leak] CHECK: #0 0x[0-9a-f]+ in main .*uv-close-retry.c:%line(check)$
 * [leak] CHECK: loop 1 \(libuv 0x[0-9a-f]+\) created in main .*uv-close-retry.c:%line(loop) by thread [0-9]+ \(main\): close failed 2 times \(handles open or requests pending\), never closed
 * [leak] EXIT: 23
 *
 * Under --force-close the same: force never pre-empts the program's own
 * close, which would have closed its handles first and made the program's
 * second uv_close of them abort.
 * [force] CLI: --force-close
 * [force] CHECK-NOT: ERROR
 * [force] CHECK-NOT: by force
 * [force] CHECK: no leaks: 1 loop\(s\), 5 handle\(s\) created, all closed$
 * [force] EXIT: 0
 *
 * [force-leak] CLI: --force-close
 * [force-leak] RUN: leak
 * [force-leak] CHECK: ERROR: asyncleak: 1 handle left open at exit
 * [force-leak] CHECK: ^1 handle of type uv_check_t, created at:
 * [force-leak] CHECK: ^Force mode left these to the program
 * [force-leak] CHECK-NOT: by force
 * [force-leak] EXIT: 23
 */
#include <stdlib.h>
#include <string.h>
#include <uv.h>

static int leak;

static void close_one(uv_handle_t *h, void *arg) {
  (void)arg;
  if (leak && h->type == UV_CHECK)
    return;
  if (!uv_is_closing(h))
    uv_close(h, NULL);
}

int main(int argc, char **argv) {
  uv_loop_t loop;
  uv_timer_t timers[3];
  uv_check_t check;
  uv_pipe_t pipe;

  leak = argc > 1 && strcmp(argv[1], "leak") == 0;
  uv_loop_init(&loop); /* @loop */
  for (int i = 0; i < 3; i++) {
    uv_timer_init(&loop, &timers[i]);
    uv_timer_start(&timers[i], (uv_timer_cb)abort, 60000, 0);
  }
  uv_check_init(&loop, &check); /* @check */
  uv_pipe_init(&loop, &pipe, 0);

  if (uv_loop_close(&loop) != UV_EBUSY)
    abort();
  uv_walk(&loop, close_one, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  if (uv_loop_close(&loop) != (leak ? UV_EBUSY : 0))
    abort();
  /* The [leak] run exits with the loop still holding the check handle,
   * whose memory is on this stack: exit() keeps it alive. */
  exit(0);
}
